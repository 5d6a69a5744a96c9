"""The README's Python example runs as written (against a test database) and prints what it says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import URL

README = Path(__file__).resolve().parent.parent / "README.md"


def test_versioning_example(
    empty_database_url: URL, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    match = re.search(r"## Versioning from Python\n\n```python\n(.*?)```", README.read_text(), re.S)
    assert match, "README.md lost its 'Versioning from Python' example"
    monkeypatch.setenv(
        "TRAININGDB_DATABASE_URL", empty_database_url.render_as_string(hide_password=False)
    )
    exec(compile(match.group(1), "README.md", "exec"), {})  # noqa: S102
    assert capsys.readouterr().out.strip() == "['modified']"
