"""Issue 8's "done when", as an operator runs it: `trainingdb serve` on a fresh data directory
(embedded PostgreSQL), and the access commands run beside it on the same directory, attaching to
the PostgreSQL the server started. Anonymous requests are refused; a new team's key sees no
dataset until `grants set`, then sees it on the next request, until `keys revoke`."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.clirun import cli, environment, new_key, serving

pytestmark = pytest.mark.slow


def test_grants_and_revocations_reach_a_running_server(tmp_path: Path) -> None:
    env = environment(TRAININGDB_DATA_DIR=str(tmp_path / "data"))
    with serving("serve", env=env) as server:
        refused = server.query("{ datasets { name } }", status=401)
        assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"  # type: ignore[index]

        admin = new_key(env, "--admin")
        made = server.query('mutation { createDataset(name: "birds") { name } }', admin)
        assert made == {"data": {"createDataset": {"name": "birds"}}}
        cli(env, "teams", "create", "vision")
        key = new_key(env, "--team", "vision")
        assert server.query("{ datasets { name } }", key) == {"data": {"datasets": []}}
        cli(env, "grants", "set", "--team", "vision", "--dataset", "birds", "--role", "viewer")
        assert server.query("{ datasets { name } }", key) == {
            "data": {"datasets": [{"name": "birds"}]}
        }
        cli(env, "keys", "revoke", key.split("_")[1])
        server.query("{ datasets { name } }", key, status=401)
        trail = cli(env, "audit")
        assert server.interrupt() == 0, server.stderr
    actions = [line.split("\t")[3] for line in trail.strip().splitlines()]
    assert actions == [
        "revoke a key",
        "set a grant",
        "create a key",
        "create a team",
        "create the dataset",
        "create a key",
    ]
    assert "\tadmin (key:" in trail.splitlines()[4]
