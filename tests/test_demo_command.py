"""`trainingdb demo` end to end, as a new user runs it: embedded PostgreSQL in a fresh data
directory, the printed query answered with real rows, Ctrl-C stopping PostgreSQL too, and a
second start reusing the data."""

from __future__ import annotations

import re
from pathlib import Path

import psutil
import pytest

from tests.clirun import environment, serving

pytestmark = pytest.mark.slow


def postmaster_pid(data_dir: Path) -> int | None:
    pid_file = data_dir / "pg" / "postmaster.pid"
    if not pid_file.exists():
        return None
    return int(pid_file.read_text().split()[0])


def printed_query(stdout: str) -> str:
    match = re.search(r"try:\n\n\s+(\{.*\})\n", stdout)
    assert match, stdout
    return match.group(1)


def test_demo_start_query_stop_restart(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    env = environment(TRAININGDB_DATA_DIR=str(data_dir))

    with serving("demo", env=env) as first:
        pid = postmaster_pid(data_dir)
        assert pid is not None
        assert psutil.pid_exists(pid)
        answer = first.query("{ datasets { name description branches { name headSeq } } }")
        status = first.interrupt()
    assert status == 0, first.stderr
    assert "'street-scenes' loaded" in first.stdout
    assert "GraphiQL at http://127.0.0.1:" in first.stdout
    assert answer["data"] == {
        "datasets": [
            {
                "name": "street-scenes",
                "description": "Generated street scenes and a short drive video, for trying "
                "trainingdb.",
                "branches": [
                    {"name": "main", "headSeq": 2},
                    {"name": "team-a", "headSeq": 1},
                ],
            }
        ]
    }
    # Ctrl-C stopped the embedded PostgreSQL with the server.
    assert postmaster_pid(data_dir) is None
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE

    with serving("demo", env=env) as second:
        again = second.query(printed_query(first.stdout))
        second.interrupt()
    assert "already present, reused" in second.stdout
    assert again == answer
    assert postmaster_pid(data_dir) is None
