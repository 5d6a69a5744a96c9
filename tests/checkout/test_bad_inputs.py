"""Bad inputs to `trainingdb checkout`: one line on stderr saying what is wrong, exit status 2 for
the user's mistakes and 1 for a failure on the way, and nothing written (run in this process
with typer's runner, as the same command; the flows above run it as a subprocess)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

import trainingdb.server.cli  # noqa: F401 (registers every command on the app)
from tests.clirun import free_port
from trainingdb.server.cli_common import app

from .conftest import DATASET, Live

pytestmark = pytest.mark.slow


def invoke(live: Live, *args: str, server: bool = True) -> Result:
    remote = ["--server", live.server.url, "--key", live.key] if server else []
    return CliRunner().invoke(app, ["checkout", *args, *remote])


def refused(done: Result, status: int, *fragments: str) -> None:
    """The command failed with `status` and one stderr line holding every fragment."""
    assert done.exit_code == status, (done.stdout, done.stderr)
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("trainingdb: error: ")
    for fragment in fragments:
        assert fragment in line


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["nope"], ["NOT_FOUND", "nope"]),
        ([f"{DATASET}@nope"], ["NOT_FOUND", "nope"]),
        ([f"{DATASET}@"], ["expected DATASET or DATASET@VERSION"]),
        ([DATASET, "--where", "[1]"], ["--where: a JSON object"]),
        ([DATASET, "--where", "{name"], ["--where: not JSON"]),
        ([DATASET, "--where", '{"nme": {"_eq": "a.png"}}'], ["nme"]),
        ([DATASET, "--where", "{}", "--query", "width > 1"], ["--where or --query, not both"]),
        ([DATASET, "--query", "scor > 1"], ["INVALID_FILTER", "scor"]),
        ([DATASET, "--query", " "], ["query: empty"]),
        ([DATASET, "--format", "xml"], ["'xml' is not one of coco, yolo, jsonl, parquet"]),
    ],
)
def test_user_mistakes_exit_2_and_write_nothing(
    live: Live, tmp_path: Path, args: list[str], fragments: list[str]
) -> None:
    folder = tmp_path / "co"
    refused(invoke(live, args[0], str(folder), *args[1:]), 2, *fragments)
    assert not folder.exists()
    assert not (tmp_path / "cache").exists()


def test_credentials_servers_and_a_missing_dir(live: Live, tmp_path: Path) -> None:
    folder = str(tmp_path / "co")
    refused(invoke(live, DATASET), 2, "missing DIR")
    wrong_key = ["--server", live.server.url, "--key", "tdb_nope"]
    refused(invoke(live, DATASET, folder, *wrong_key, server=False), 2, "UNAUTHENTICATED")
    refused(invoke(live, DATASET, folder, "--server", "ftp://h", server=False), 2, "--server")
    nobody = f"http://127.0.0.1:{free_port()}"
    refused(invoke(live, DATASET, folder, "--server", nobody, server=False), 1, "CONNECTION_FAILED")
    no_server = ["--data-dir", str(tmp_path / "elsewhere")]
    refused(invoke(live, DATASET, folder, *no_server, server=False), 2, "no server runs for")
    assert not (tmp_path / "co").exists()


def test_a_folder_that_is_not_a_checkout_is_left_alone(live: Live, tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    refused(invoke(live, DATASET, str(folder)), 2, "not empty and not a checkout")
    refused(invoke(live, "--update", str(folder)), 2, "not a checkout (no trainingdb.lock)")
    assert [p.name for p in folder.iterdir()] == ["notes.txt"]


def test_a_checkout_refuses_a_new_checkout_and_a_bad_update(live: Live, tmp_path: Path) -> None:
    folder = tmp_path / "co"
    made = invoke(live, f"{DATASET}@v1", str(folder), "--cache", str(tmp_path / "cache"))
    assert made.exit_code == 0, made.stderr
    # Without --json: a progress bar on stderr (none when it is not a terminal), then a summary.
    assert made.stdout.startswith(f"trainingdb: {folder} at {live.v1.version} (commit ")
    assert "5 files, 6 instances; fetched 5 files" in made.stdout
    lock = (folder / "trainingdb.lock").read_bytes()
    refused(invoke(live, DATASET, str(folder)), 2, "a checkout already", "--update")
    refused(invoke(live, "--update", str(folder), "--format", "yolo"), 2, "keeps the checkout's")
    refused(invoke(live, "--update", str(folder), "@nope"), 2, "NOT_FOUND", "nope")
    assert (folder / "trainingdb.lock").read_bytes() == lock

    damaged = json.loads(lock)
    damaged["files"][0]["path"] = "../../outside.png"
    (folder / "trainingdb.lock").write_text(json.dumps(damaged))
    refused(invoke(live, "--update", str(folder)), 2, "files[0].path", "'../../outside.png'")
