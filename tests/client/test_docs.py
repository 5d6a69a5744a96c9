"""docs/CLIENT.md's examples run as written, in order, against the running server (its URL and
the admin key put in for the placeholders), so the page cannot drift from the client."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.client.conftest import SIZES, Live

pytestmark = pytest.mark.slow

PAGE = Path(__file__).resolve().parents[2] / "docs" / "CLIENT.md"


def test_the_client_page_runs(
    live: Live, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    blocks = re.findall(r"```python\n(.*?)```", PAGE.read_text(), re.S)
    assert len(blocks) == 7
    source = "\n".join(blocks)
    assert source.count('"http://127.0.0.1:8000", key="tdb_..."') == 1
    source = source.replace('"http://127.0.0.1:8000"', repr(live.server.url))
    source = source.replace('"tdb_..."', repr(live.admin))
    monkeypatch.chdir(tmp_path)  # the export lands in ./exports
    monkeypatch.setenv("TRAININGDB_CACHE", str(tmp_path / "cache"))  # not the user's cache
    exec(compile(source, str(PAGE), "exec"), {})  # noqa: S102
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == [f"{live.server.url}/graphql", "main"]
    assert "NOT_FOUND dataset 'no-such-dataset' does not exist" in out
    invalid = "INVALID_FILTER at dataset.instances: query: line 1, column 1: instances have no"
    assert any(line.startswith(invalid) for line in out)
    merged = next(line for line in out if line.startswith(("True ", "False ")))
    assert merged == "True 3 review@1"  # the label owl and two owls, in one merge commit
    assert (tmp_path / "exports" / "birds-v1.json").stat().st_size > 0
    birds = [i for i in range(25) if i % 2 == 0]  # conftest's boxes on label bird at v1
    assert f"{len(SIZES)} True" in out
    assert str(len(birds)) in out
