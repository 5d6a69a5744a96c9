"""`trainingdb teams|members|keys`, run as a user would against the test PostgreSQL."""

from __future__ import annotations

from sqlalchemy import URL

from tests.clirun import run
from trainingdb import versioning as v
from trainingdb.server.database import create_db_engine
from trainingdb.versioning.access import keys
from trainingdb.versioning.errors import UnauthenticatedError


def test_teams_members_and_keys_from_the_command_line(database_url: URL) -> None:
    db = ["--database-url", database_url.render_as_string(hide_password=False)]
    assert run("teams", "create", "vision", *db).returncode == 0
    assert run("members", "add", "ada", "--team", "vision", *db).returncode == 0
    made = run("keys", "create", "--team", "vision", "--member", "ada", "--expires", "30d", *db)
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip().splitlines()[-1]
    assert key.startswith("tdb_")
    listed = run("keys", "list", *db)
    prefix = key.split("_")[1]
    assert prefix in listed.stdout
    assert "vision/ada" in listed.stdout
    assert key.split("_", 2)[2] not in listed.stdout  # the secret may itself hold "_"
    assert "vision\t1 member(s)" in run("teams", "list", *db).stdout
    engine = create_db_engine(database_url)
    try:
        with engine.connect() as conn:
            assert keys.authenticate(conn, key).member == "ada"
        assert run("keys", "revoke", prefix, *db).returncode == 0
        with engine.connect() as conn:
            try:
                keys.authenticate(conn, key)
                raise AssertionError("a revoked key still authenticates")
            except UnauthenticatedError:
                pass
    finally:
        engine.dispose()


def test_mistakes_are_one_line_and_exit_2(database_url: URL) -> None:
    db = ["--database-url", database_url.render_as_string(hide_password=False)]
    for args, message in [
        (("keys", "create", "--team", "nobody"), "team 'nobody' does not exist"),
        (("keys", "create", "--team", "x", "--expires", "soon"), "--expires takes a positive"),
        (("keys", "create"), "belongs to a team"),
        (("keys", "revoke", "ffffffffffff"), "no key has the prefix"),
        (("members", "add", "bob", "--team", "nobody"), "team 'nobody' does not exist"),
    ]:
        done = run(*args, *db)
        assert done.returncode == 2, (args, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert lines == [f"trainingdb: error: {lines[0].removeprefix('trainingdb: error: ')}"]
        assert message in lines[0], (args, done.stderr)


def test_grants_from_the_command_line(database_url: URL) -> None:
    db = ["--database-url", database_url.render_as_string(hide_password=False)]
    assert run("teams", "create", "lidar", *db).returncode == 0
    engine = create_db_engine(database_url)
    try:
        with engine.begin() as conn:
            dataset_id = v.create_dataset(conn, "scans").id
    finally:
        engine.dispose()
    team = ["--team", "lidar"]
    done = run("grants", "set", *team, "--dataset", "scans", "--role", "viewer", *db)
    assert done.returncode == 0, done.stderr
    done = run(
        "grants", "set", *team, "--dataset", str(dataset_id), "--role", "editor",
        "--refs", "lidar/*", *db,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    listed = run("grants", "list", "--team", "lidar", *db).stdout.splitlines()
    assert listed == ["scans\tlidar\tviewer\t*", "scans\tlidar\teditor\tlidar/*"]
    assert run("grants", "revoke", *team, "--dataset", "scans", *db).returncode == 0
    bad = run("grants", "set", *team, "--dataset", "scans", "--role", "owner", *db)
    assert bad.returncode == 2
    assert "role 'owner' is not one of" in bad.stderr
    assert run("grants", "list", *db).stdout.splitlines() == ["scans\tlidar\teditor\tlidar/*"]
