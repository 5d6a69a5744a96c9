"""Subscriptions against a running `trainingdb serve`: ref moves committed by another process
(this one, through the core) reach a WebSocket subscriber in commit order, only those on refs
it may read; credentials travel in the handshake or in `connection_init`; a subscriber that
loses its grant or its key is told so (NOT_FOUND, UNAUTHENTICATED) and its stream ends."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import URL, Engine
from websockets.exceptions import ConnectionClosedError, InvalidStatus

from tests.clirun import Server, environment, serving
from trainingdb import versioning as v
from trainingdb.versioning import jobs
from trainingdb.versioning.access import grants, identities, keys
from trainingdb.versioning.access.policy import principal_json
from trainingdb.versioning.events import job_changed
from trainingdb.versioning.models import JobKind

from .wsclient import Socket, socket

pytestmark = [pytest.mark.slow, pytest.mark.anyio]

REFS = """subscription ($dataset: String!) {
  refUpdated(dataset: $dataset) { dataset change ref version commit { id message } }
}"""


@pytest.fixture(scope="module")
def world(engine: Engine) -> dict[str, Any]:
    with engine.begin() as conn:
        ds = v.create_dataset(conn, "live").id
        v.create(conn, ds, "main", "label", [{"name": "car"}])
        v.commit(conn, ds, "main", "first")
        identities.create_team(conn, "vision")
        grants.set_grant(conn, "vision", "live", "viewer", refs="main")
        identities.create_team(conn, "labeling")
        grants.set_grant(conn, "labeling", "live", "viewer")
        labeling = keys.create_key(conn, team="labeling").key
        export = {"version": "main", "format": "jsonl"}
        theirs = jobs.submit(conn, ds, JobKind.EXPORT, export)  # the operator's
        mine = jobs.submit(
            conn, ds, JobKind.EXPORT, export,
            principal=principal_json(keys.authenticate(conn, labeling)),
        )  # fmt: skip
        return {
            "ds": ds,
            "admin": keys.create_key(conn, admin=True).key,
            "vision": keys.create_key(conn, team="vision").key,
            "labeling": labeling,
            "jobs": {"theirs": theirs.id, "mine": mine.id},
        }


@pytest.fixture(scope="module")
def server(database_url: URL) -> Iterator[Server]:
    url = database_url.render_as_string(hide_password=False)
    with serving("serve", "--database-url", url, env=environment()) as running:
        yield running


def ws_url(server: Server) -> str:
    return server.url.replace("http://", "ws://") + "/graphql"


def bearer(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


async def started(client: Socket, engine: Engine, dataset_id: int) -> str:
    """A refUpdated subscription, once it is live. The protocol has no message saying so (the
    server starts listening a moment after `subscribe`), so: tag `main` and wait for the news,
    again until it comes. Events arrive in order: once probe i is heard, none before it is due."""
    sid = await client.subscribe(REFS, dataset="live")
    for _ in range(100):
        probe = f"probe-{uuid.uuid4().hex[:12]}"
        with engine.begin() as conn:
            v.create_tag(conn, dataset_id, probe, "main")
        try:
            while True:
                update = (await client.next_data(sid, timeout=0.5))["refUpdated"]
                if update["ref"] == probe:
                    return sid
        except TimeoutError:
            continue
    raise AssertionError("the subscription never went live")


async def test_ref_moves_reach_a_subscriber_in_commit_order(
    engine: Engine, server: Server, world: dict[str, Any]
) -> None:
    ds = world["ds"]
    async with socket(ws_url(server), headers=bearer(world["admin"])) as client:
        sid = await started(client, engine, ds)
        with engine.begin() as conn:
            branch = v.create_branch(conn, ds, "exp")
            v.create(conn, ds, "exp", "label", [{"name": "bus"}])
            made = v.commit(conn, ds, "exp", "a bus")
        with engine.begin() as conn:
            v.create_tag(conn, ds, "train-v1", "exp")
            merged = v.merge(conn, ds, "exp", "main").commit
            reverted = v.revert(conn, ds, "main", "main@1")
            v.delete_tag(conn, ds, "train-v1")
            v.delete_branch(conn, ds, "exp")
        updates = [(await client.next_data(sid))["refUpdated"] for _ in range(7)]
    assert branch.head_seq == 0
    assert merged is not None
    assert updates == [
        {"dataset": "live", "change": "BRANCH_CREATED", "ref": "exp", "version": "exp@0",
         "commit": None},
        {"dataset": "live", "change": "COMMIT", "ref": "exp", "version": "exp@1",
         "commit": {"id": made.id.hex, "message": "a bus"}},
        {"dataset": "live", "change": "TAG_CREATED", "ref": "train-v1", "version": "exp@1",
         "commit": None},
        {"dataset": "live", "change": "MERGE", "ref": "main", "version": "main@2",
         "commit": {"id": merged.id.hex, "message": "Merge exp into main"}},
        {"dataset": "live", "change": "REVERT", "ref": "main", "version": "main@3",
         "commit": {"id": reverted.id.hex, "message": "Revert to main@1"}},
        {"dataset": "live", "change": "TAG_DELETED", "ref": "train-v1", "version": "exp@1",
         "commit": None},
        {"dataset": "live", "change": "BRANCH_DELETED", "ref": "exp", "version": "exp@1",
         "commit": None},
    ]  # fmt: skip


async def test_a_subscriber_hears_only_refs_it_may_read_until_its_grant_goes(
    engine: Engine, server: Server, world: dict[str, Any]
) -> None:
    ds = world["ds"]
    # A browser cannot set headers on a WebSocket: the key comes in connection_init.
    async with socket(ws_url(server), init=bearer(world["vision"])) as client:
        sid = await started(client, engine, ds)
        with engine.begin() as conn:
            v.create_branch(conn, ds, "hidden")
            v.create(conn, ds, "hidden", "label", [{"name": "secret"}])
            v.commit(conn, ds, "hidden", "not for vision")
            v.create_tag(conn, ds, "hidden-v1", "hidden")
            v.commit(conn, ds, "main", "for vision")
        update = (await client.next_data(sid))["refUpdated"]
        assert (update["change"], update["ref"], update["commit"]["message"]) == (
            "COMMIT",
            "main",
            "for vision",
        )
        with engine.begin() as conn:
            grants.revoke_grant(conn, "vision", "live", refs="main")
            v.commit(conn, ds, "main", "after the grant went")
        ended = [message async for message in client.messages(sid)]
    assert ended[0]["type"] == "next"
    errors = ended[0]["payload"]["errors"]
    assert [e["extensions"]["code"] for e in errors] == ["NOT_FOUND"]
    assert "after the grant" not in str(ended)
    assert ended[-1]["type"] == "complete"


async def test_a_dataset_the_caller_may_not_read_is_not_found(
    server: Server, world: dict[str, Any]
) -> None:
    async with socket(ws_url(server), init={"x-api-key": world["vision"]}) as client:
        sid = await client.subscribe(REFS, dataset="nowhere")
        messages = [message async for message in client.messages(sid)]
    codes = [
        e["extensions"]["code"] for m in messages for e in m.get("payload", {}).get("errors", [])
    ]
    assert codes == ["NOT_FOUND"], messages


async def test_a_socket_without_credentials_is_closed(server: Server) -> None:
    with pytest.raises(ConnectionClosedError) as closed:
        async with socket(ws_url(server)):
            pass
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4403
    with pytest.raises(InvalidStatus):  # bad credentials in the handshake: refused there
        async with socket(ws_url(server), headers=bearer("tdb_nope_nope")):
            pass


PROGRESS = "subscription ($id: ID!) { jobProgress(id: $id) { id status } }"


async def test_a_job_stream_ends_when_its_key_is_revoked(
    engine: Engine, server: Server, world: dict[str, Any]
) -> None:
    job = world["jobs"]["mine"]
    async with socket(ws_url(server), init=bearer(world["labeling"])) as client:
        sid = await client.subscribe(PROGRESS, id=str(job))
        assert await client.next_data(sid) == {"jobProgress": {"id": str(job), "status": "QUEUED"}}
        other = await client.subscribe(PROGRESS, id=str(world["jobs"]["theirs"]))
        refused = [message async for message in client.messages(other)]
        assert _codes(refused) == ["NOT_FOUND"]  # another team's job
        with engine.begin() as conn:
            keys.revoke_key(conn, world["labeling"])
            job_changed(conn, world["ds"], job)
        ended = [message async for message in client.messages(sid)]
    assert _codes(ended) == ["UNAUTHENTICATED"]
    assert ended[-1]["type"] == "complete"


def _codes(messages: list[dict[str, Any]]) -> list[str]:
    return [
        error["extensions"]["code"]
        for message in messages
        for error in message.get("payload", {}).get("errors", [])
    ]
