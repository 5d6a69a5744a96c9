"""What a team may not read stays unread, whichever way it asks: another team's dataset by name
or id, a branch by commit id or `branch@seq`, a tag, a relationship filter, an aggregate, a diff,
an entity's history, an export job, a signed link.

The team `viewers` holds one grant: viewer on refs `main` of dataset `zoo`. Branch `secret` of
`zoo` (forked from main, with a commit of its own) and dataset `other` exist; to the team they
must look exactly as things that do not exist.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from sqlalchemy import Engine, insert, text

from tests.graphql.execute import run, run_as
from trainingdb import versioning as v
from trainingdb.graphql_schema import Context, schema
from trainingdb.graphql_schema.links import BlobLinks
from trainingdb.graphql_schema.passthrough import plain
from trainingdb.versioning.access import grants, identities
from trainingdb.versioning.access.principal import Principal
from trainingdb.versioning.models import Blob, CommitParent

MAIN_SHA, SECRET_SHA = "1" * 64, "2" * 64


@pytest.fixture(scope="module")
def world(engine: Engine) -> dict[str, Any]:
    with engine.begin() as conn:
        zoo = v.create_dataset(conn, "zoo").id
        conn.execute(
            insert(Blob),
            [
                {"dataset_id": zoo, "sha256": s, "size": 1, "mime": "image/png", "storage_key": s}
                for s in (MAIN_SHA, SECRET_SHA)
            ],
        )
        (car,) = v.create(conn, zoo, "main", "label", [{"name": "car"}])
        (image,) = v.create(
            conn,
            zoo,
            "main",
            "file",
            [{"name": "a.png", "blob_sha256": MAIN_SHA, "media_type": "image"}],
        )
        (seen,) = v.create(
            conn,
            zoo,
            "main",
            "instance",
            [{"file_entity_id": image, "label_entity_id": car, "kind": "classification"}],
        )
        v.commit(conn, zoo, "main", "load", "test")
        v.create_tag(conn, zoo, "v1", "main")
        v.create_branch(conn, zoo, "secret", "main")
        (hidden_file,) = v.create(
            conn,
            zoo,
            "secret",
            "file",
            [{"name": "secret.png", "blob_sha256": SECRET_SHA, "media_type": "image"}],
        )
        (hidden,) = v.create(
            conn,
            zoo,
            "secret",
            "instance",
            [{"file_entity_id": hidden_file, "label_entity_id": car, "kind": "classification"}],
        )
        secret_commit = v.commit(conn, zoo, "secret", "hidden work", "test")
        v.create_tag(conn, zoo, "secret-v1", "secret")
        other = v.create_dataset(conn, "other").id
        v.create(conn, other, "main", "label", [{"name": "x"}])
        other_commit = v.commit(conn, other, "main", "other work", "test")
        team = identities.create_team(conn, "viewers")
        grants.set_grant(conn, "viewers", "zoo", "viewer", "main")
    return {
        "who": Principal(team.id, team.name, None, None, False, "test"),
        "zoo": zoo,
        "other": other,
        "seen": str(seen),
        "hidden": str(hidden),
        "secret_commit": str(secret_commit.id),
        "other_commit": str(other_commit.id),
    }


INSTANCES_AT = """query($ref: String!) {
  dataset(name: "zoo") { instances(version: $ref) { nodes { id } } } }"""


def ask(engine: Engine, world: dict[str, Any], document: str, **variables: Any) -> dict[str, Any]:
    return run_as(engine, world["who"], document, **variables)


def only_error(out: dict[str, Any]) -> dict[str, Any]:
    (error,) = out["errors"]
    found: dict[str, Any] = error
    return found


def test_another_dataset_by_name_is_like_one_that_does_not_exist(
    engine: Engine, world: dict[str, Any]
) -> None:
    hidden = only_error(ask(engine, world, '{ dataset(name: "other") { name } }'))
    missing = only_error(ask(engine, world, '{ dataset(name: "nope") { name } }'))
    assert hidden["code"] == missing["code"] == "NOT_FOUND"
    assert hidden["message"].replace("other", "nope") == missing["message"]


def test_another_dataset_by_id_is_like_one_that_does_not_exist(
    engine: Engine, world: dict[str, Any]
) -> None:
    document = "query($id: ID!) { dataset(id: $id) { name } }"
    hidden = only_error(ask(engine, world, document, id=str(world["other"])))
    missing = only_error(ask(engine, world, document, id="987654"))
    assert hidden["code"] == missing["code"] == "NOT_FOUND"
    assert hidden["message"].replace(str(world["other"]), "987654") == missing["message"]


def test_lists_hold_only_what_the_team_reads(engine: Engine, world: dict[str, Any]) -> None:
    out = ask(engine, world, "{ datasets { name branches { name } tags { name } } }")
    assert out["data"] == {
        "datasets": [{"name": "zoo", "branches": [{"name": "main"}], "tags": [{"name": "v1"}]}]
    }
    assert run(engine, '{ dataset(name: "zoo") { branches { name } } }')["data"] == {
        "dataset": {"branches": [{"name": "main"}, {"name": "secret"}]}
    }


@pytest.mark.parametrize(
    "ref",
    ["secret", "secret@1", "secret-v1", "{secret_commit}", "{secret_prefix}", "{other_commit}"],
)
def test_a_version_the_team_may_not_read_is_not_found(
    engine: Engine, world: dict[str, Any], ref: str
) -> None:
    ref = ref.format(
        secret_commit=world["secret_commit"],
        secret_prefix=world["secret_commit"].replace("-", "")[:10],
        other_commit=world["other_commit"],
    )
    document = INSTANCES_AT
    # The missing ref of the same form: `@` refs name a branch first.
    name, at, seq = ref.partition("@")
    absent = "deadbeefdeadbeef" + at + seq
    hidden = only_error(ask(engine, world, document, ref=ref))
    missing = only_error(ask(engine, world, document, ref=absent))
    assert hidden["code"] == missing["code"] == "NOT_FOUND"
    assert hidden["message"].replace(name, "deadbeefdeadbeef") == missing["message"]


def test_an_ancestor_of_a_readable_ref_is_readable(engine: Engine, world: dict[str, Any]) -> None:
    document = INSTANCES_AT
    for ref in ("main", "main@1", "v1"):
        out = ask(engine, world, document, ref=ref)
        assert out["data"]["dataset"]["instances"]["nodes"] == [{"id": world["seen"]}], ref


def test_filters_aggregates_and_history_see_only_readable_versions(
    engine: Engine, world: dict[str, Any]
) -> None:
    by_file = ask(
        engine,
        world,
        '{ dataset(name: "zoo") { instances(where: {file: {name: {_eq: "secret.png"}}}) '
        "{ nodes { id } } } }",
    )
    assert by_file["data"]["dataset"]["instances"]["nodes"] == []
    stats = ask(engine, world, '{ dataset(name: "zoo") { instanceStats { count } } }')
    assert stats["data"]["dataset"]["instanceStats"]["count"] == 1
    secret_stats = ask(
        engine, world, '{ dataset(name: "zoo") { instanceStats(version: "secret") { count } } }'
    )
    assert only_error(secret_stats)["code"] == "NOT_FOUND"
    history = 'query($id: ID!) { dataset(name: "zoo") { history(entityId: $id) { branch } } }'
    assert ask(engine, world, history, id=world["hidden"])["data"]["dataset"]["history"] == []
    seen = ask(engine, world, history, id=world["seen"])["data"]["dataset"]["history"]
    assert seen == [{"branch": "main"}]
    diff = ask(
        engine,
        world,
        '{ dataset(name: "zoo") { diff(from: "main", to: "secret") { changes { entityId } } } }',
    )
    assert only_error(diff)["code"] == "NOT_FOUND"
    log = ask(engine, world, '{ dataset(name: "zoo") { commits(version: "secret") { message } } }')
    assert only_error(log)["code"] == "NOT_FOUND"


def test_no_export_or_job_reaches_an_unreadable_version(
    engine: Engine, world: dict[str, Any]
) -> None:
    export = ask(
        engine,
        world,
        'mutation { exportDataset(dataset: "zoo", version: "secret", format: "jsonl") { id } }',
    )
    assert only_error(export)["code"] == "NOT_FOUND"
    theirs = run(
        engine,
        'mutation { exportDataset(dataset: "zoo", version: "secret", format: "jsonl") { id } }',
    )
    job_id = theirs["data"]["exportDataset"]["id"]
    job = ask(engine, world, "query($id: ID!) { job(id: $id) { download } }", id=job_id)
    assert only_error(job)["code"] == "NOT_FOUND"
    jobs = ask(engine, world, '{ dataset(name: "zoo") { jobs { id } } }')
    assert jobs["data"]["dataset"]["jobs"] == []


def test_signed_links_are_minted_only_for_readable_files(
    engine: Engine, world: dict[str, Any]
) -> None:
    links = BlobLinks(b"k" * 32, base_url="http://t")

    async def call(version: str) -> Any:
        context = Context.for_request(engine, world["who"], links)
        document = (
            'query($v: String!) { dataset(name: "zoo") { files(version: $v) { nodes { url } } } }'
        )
        return await schema.execute(document, variable_values={"v": version}, context_value=context)

    readable = asyncio.run(call("main"))
    assert readable.errors is None
    (node,) = plain(readable.data)["dataset"]["files"]["nodes"]
    assert f"/blobs/{MAIN_SHA}?" in node["url"]
    hidden = asyncio.run(call("secret"))
    assert hidden.data is None
    assert hidden.errors is not None
    assert SECRET_SHA not in str(hidden.errors)


def test_writes_cannot_start_from_an_unreadable_version(
    engine: Engine, world: dict[str, Any]
) -> None:
    with engine.begin() as conn:
        grants.set_grant(conn, "viewers", "zoo", "editor", "viewers/*")
    try:
        copied = ask(
            engine,
            world,
            "mutation { createBranch("
            'dataset: "zoo", name: "viewers/copy", from: "secret") { name } }',
        )
        assert only_error(copied)["code"] == "NOT_FOUND"
        # No role on the name: FORBIDDEN, as for a tag that does not exist.
        untag = ask(engine, world, 'mutation { deleteTag(dataset: "zoo", name: "secret-v1") }')
        absent = ask(engine, world, 'mutation { deleteTag(dataset: "zoo", name: "nosuch-v1") }')
        assert only_error(untag)["code"] == "FORBIDDEN"
        assert str(untag).replace("secret-v1", "nosuch-v1") == str(absent)
        tagged = ask(
            engine,
            world,
            'mutation { createTag(dataset: "zoo", name: "viewers/t", version: "secret") { name } }',
        )
        assert only_error(tagged)["code"] == "NOT_FOUND"
        made = ask(
            engine,
            world,
            "mutation { createBranch("
            'dataset: "zoo", name: "viewers/mine", from: "main") { name } }',
        )
        assert "errors" not in made, made
        merged = ask(
            engine,
            world,
            "mutation { merge("
            'dataset: "zoo", source: "secret", target: "viewers/mine") { merged } }',
        )
        assert only_error(merged)["code"] == "NOT_FOUND"  # the target exists: the source
    finally:
        with engine.begin() as conn:
            grants.revoke_grant(conn, "viewers", "zoo", "viewers/*")
    assert uuid.UUID(world["hidden"])  # the world is unchanged for the other tests


def _commit_ids(out: dict[str, Any]) -> list[str]:
    assert "errors" not in out, out
    return [c["id"] for c in out["data"]["dataset"]["commits"]]


def test_commit_prefixes_and_names_resolve_among_what_the_team_reads(
    engine: Engine, world: dict[str, Any]
) -> None:
    """A hidden commit sharing a readable one's prefix does not make the prefix ambiguous, and a
    hidden branch named like a readable commit's prefix does not shadow it: both are passed
    over, and what the read then hands on names the readable commit, not the hidden ones."""
    with engine.begin() as conn:
        ds = v.create_dataset(conn, "prefixes").id
        v.create(conn, ds, "main", "label", [{"name": "car"}])
        readable = v.commit(conn, ds, "main", "first", "test")
        v.create_branch(conn, ds, "secret", "main")
        v.create(conn, ds, "secret", "label", [{"name": "cat"}])
        hidden = v.commit(conn, ds, "secret", "hidden", "test")
        # Give the hidden commit (a leaf) the readable one's first 12 hex digits.
        shared = readable.id.hex[:12]
        twin = uuid.UUID(shared + hidden.id.hex[12:])
        parents = (
            conn.execute(
                text(
                    "DELETE FROM commit_parent WHERE dataset_id = :d AND commit_id = :c RETURNING *"
                ),
                {"d": ds, "c": hidden.id},
            )
            .mappings()
            .all()
        )
        conn.execute(
            text("UPDATE commit SET id = :t WHERE dataset_id = :d AND id = :c"),
            {"t": twin, "d": ds, "c": hidden.id},
        )
        conn.execute(insert(CommitParent), [{**p, "commit_id": twin} for p in parents])
        # A hidden branch called like the readable commit's prefix, with work of its own.
        v.create_branch(conn, ds, readable.id.hex[:10], "main")
        v.create(conn, ds, readable.id.hex[:10], "label", [{"name": "dog"}])
        shadow = v.commit(conn, ds, readable.id.hex[:10], "shadow", "test")
        grants.set_grant(conn, "viewers", "prefixes", "viewer", "main")
    log = 'query($ref: String!) { dataset(name: "prefixes") { commits(version: $ref) { id } } }'
    try:
        mine = _commit_ids(ask(engine, world, log, ref=shared))
        assert mine[0] == readable.id.hex
        assert only_error(run(engine, log, ref=shared))["code"] == "BAD_USER_INPUT"  # ambiguous
        assert _commit_ids(ask(engine, world, log, ref=readable.id.hex[:10]))[0] == readable.id.hex
        assert _commit_ids(run(engine, log, ref=readable.id.hex[:10]))[0] == shadow.id.hex
        # The hidden twin by its full id is as absent as a random id.
        hidden_answer = only_error(ask(engine, world, log, ref=str(twin)))
        absent = str(uuid.uuid4())
        missing_answer = only_error(ask(engine, world, log, ref=absent))
        assert str(hidden_answer).replace(str(twin), absent) == str(missing_answer)
    finally:
        with engine.begin() as conn:
            grants.revoke_grant(conn, "viewers", "prefixes", "main")
