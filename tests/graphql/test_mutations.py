"""GraphQL mutations through `schema.execute`: entities in bulk, versions, merges, and bad input.

Every test works on its own dataset (mutations commit). Bad input must come back as a coded
error with the database unchanged, checked with a dump of every table.
"""

from __future__ import annotations

import itertools
import uuid
from typing import Any

import pytest
from sqlalchemy import Engine, insert

from tests.versioning.test_bad_input import snapshot
from trainingdb import versioning as v
from trainingdb.graphql_schema import edits
from trainingdb.versioning.models import Blob

from .execute import run, statements

SHA = "5" * 64
_names = itertools.count()


def ok(engine: Engine, document: str, **variables: Any) -> dict[str, Any]:
    out = run(engine, document, **variables)
    assert "errors" not in out, out["errors"]
    data: dict[str, Any] = out["data"]
    return data


def error(engine: Engine, document: str, **variables: Any) -> dict[str, Any]:
    """The single error of a document that must fail, after checking it changed nothing."""
    with engine.connect() as conn:
        before = snapshot(conn)
    out = run(engine, document, **variables)
    assert "errors" in out, out
    with engine.connect() as conn:
        assert snapshot(conn) == before
    (only,) = out["errors"]
    found: dict[str, Any] = only
    return found


CREATE_DATASET = "mutation($name: String!) { createDataset(name: $name) { id name defaultBranch } }"
CREATE_LABELS = """
mutation($ds: String!, $labels: [LabelInput!]!) {
  createLabels(dataset: $ds, branch: "main", labels: $labels) { id name color }
}"""
CREATE_FILE = """
mutation($ds: String!, $file: FileInput!) {
  createFile(dataset: $ds, branch: "main", file: $file) { id name mediaType width metadata }
}"""
CREATE_INSTANCES = """
mutation($ds: String!, $branch: String! = "main", $instances: [InstanceInput!]!) {
  createInstances(dataset: $ds, branch: $branch, instances: $instances) {
    id kind score n: frameNumber label { name } file { name }
  }
}"""
UPDATE_INSTANCES = """
mutation($ds: String!, $branch: String! = "main", $patches: [InstancePatch!]!) {
  updateInstances(dataset: $ds, branch: $branch, instances: $patches) {
    id score trackId label { name }
  }
}"""
COMMIT = """
mutation($ds: String!, $branch: String!, $message: String!) {
  commit(dataset: $ds, branch: $branch, message: $message, author: "tester") {
    branch seq version message author
  }
}"""
INSTANCES = """
query($ds: String!, $version: String) {
  dataset(name: $ds) {
    instances(version: $version, first: 10000) { nodes { id score trackId label { name } } }
  }
}"""


def dataset(engine: Engine) -> tuple[str, str, list[str]]:
    """A new dataset with labels car and person, and one image file: (name, file id, labels)."""
    name = f"m{next(_names)}"
    ds = ok(engine, CREATE_DATASET, name=name)["createDataset"]
    with engine.begin() as conn:
        conn.execute(
            insert(Blob).values(
                dataset_id=int(ds["id"]), sha256=SHA, size=3, mime="image/png", storage_key=SHA
            )
        )
    labels = ok(
        engine,
        CREATE_LABELS,
        ds=name,
        labels=[{"name": "car"}, {"name": "person", "color": "#00ff00"}],
    )["createLabels"]
    assert [(label["name"], label["color"]) for label in labels] == [
        ("car", "#888888"),
        ("person", "#00ff00"),
    ]
    file = ok(
        engine,
        CREATE_FILE,
        ds=name,
        file={
            "name": "a.png",
            "blobSha256": SHA,
            "mediaType": "image",
            "width": 640,
            "metadata": {"sensor": "A"},
        },
    )["createFile"]
    assert file == {
        "id": file["id"],
        "name": "a.png",
        "mediaType": "image",
        "width": 640,
        "metadata": {"sensor": "A"},
    }
    return name, file["id"], [label["id"] for label in labels]


def box(file: str, i: int, **extra: Any) -> dict[str, Any]:
    return {"fileId": file, "kind": "box", "x": i, "y": 0, "w": 2, "h": 3, **extra}


def instances(engine: Engine, ds: str, version: str | None = None) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = ok(engine, INSTANCES, ds=ds, version=version)["dataset"][
        "instances"
    ]["nodes"]
    return nodes


def test_bulk_create_returns_the_selection_in_input_order_in_bounded_statements(
    engine: Engine,
) -> None:
    ds, file, (car, _) = dataset(engine)
    batch = [
        box(
            file,
            i,
            label="person" if i % 3 else None,
            labelId=None if i % 3 else car,
            score=(i % 10) / 10,
        )
        for i in range(2000)
    ]
    with statements(engine) as seen:
        made = ok(engine, CREATE_INSTANCES, ds=ds, instances=batch)["createInstances"]
    assert len(seen) < 40, len(seen)
    assert [m["score"] for m in made] == [b["score"] for b in batch]
    assert [m["label"]["name"] for m in made] == ["person" if i % 3 else "car" for i in range(2000)]
    assert {m["file"]["name"] for m in made} == {"a.png"}
    assert all(m["n"] is None and m["kind"] == "box" for m in made)
    assert sorted(m["id"] for m in made) == sorted(n["id"] for n in instances(engine, ds))


def test_update_keeps_omitted_fields_clears_nulls_and_renames_labels(engine: Engine) -> None:
    ds, file, _ = dataset(engine)
    (a, b) = ok(
        engine,
        CREATE_INSTANCES,
        ds=ds,
        instances=[box(file, 1, label="car", score=0.5, trackId="t1"), box(file, 2, label="car")],
    )["createInstances"]
    patched = ok(
        engine,
        UPDATE_INSTANCES,
        ds=ds,
        patches=[{"id": b["id"], "label": "person"}, {"id": a["id"], "score": None}],
    )["updateInstances"]
    assert patched == [
        {"id": b["id"], "score": None, "trackId": None, "label": {"name": "person"}},
        {"id": a["id"], "score": None, "trackId": "t1", "label": {"name": "car"}},
    ]
    single = ok(
        engine,
        """mutation($ds: String!, $id: ID!) {
          updateInstance(dataset: $ds, branch: "main", instance: {id: $id, trackId: "t9"}) {
            id trackId score
          }
        }""",
        ds=ds,
        id=a["id"],
    )["updateInstance"]
    assert single == {"id": a["id"], "trackId": "t9", "score": None}


def test_deleting_a_file_takes_its_instances(engine: Engine) -> None:
    ds, file, _ = dataset(engine)
    ok(engine, CREATE_INSTANCES, ds=ds, instances=[box(file, i, label="car") for i in range(3)])
    deleted = ok(
        engine,
        'mutation($ds: String!, $ids: [ID!]!) { deleteFiles(dataset: $ds, branch: "main", '
        "ids: $ids) }",
        ds=ds,
        ids=[file],
    )["deleteFiles"]
    assert deleted == [file]
    assert instances(engine, ds) == []


def test_commit_branch_tag_merge_and_revert(engine: Engine) -> None:
    ds, file, _ = dataset(engine)
    (first,) = ok(engine, CREATE_INSTANCES, ds=ds, instances=[box(file, 1, label="car")])[
        "createInstances"
    ]
    commit = ok(engine, COMMIT, ds=ds, branch="main", message="one")["commit"]
    assert commit == {
        "branch": "main",
        "seq": 1,
        "version": "main@1",
        "message": "one",
        "author": "tester",
    }
    tag = ok(
        engine,
        'mutation($ds: String!) { createTag(dataset: $ds, name: "v1", version: "main", '
        'message: "first release") { name version message } }',
        ds=ds,
    )["createTag"]
    assert tag == {"name": "v1", "version": "main@1", "message": "first release"}
    branch = ok(
        engine,
        'mutation($ds: String!) { createBranch(dataset: $ds, name: "fix", from: "v1") '
        "{ name headSeq protected } }",
        ds=ds,
    )["createBranch"]
    assert branch == {"name": "fix", "headSeq": 0, "protected": False}

    ok(engine, UPDATE_INSTANCES, ds=ds, branch="fix", patches=[{"id": first["id"], "score": 0.9}])
    ok(engine, COMMIT, ds=ds, branch="fix", message="fix score")
    ok(engine, UPDATE_INSTANCES, ds=ds, patches=[{"id": first["id"], "score": 0.1}])
    ok(engine, COMMIT, ds=ds, branch="main", message="other score")

    merge = """
    mutation($ds: String!, $strategy: MergeStrategy!) {
      merge(dataset: $ds, source: "fix", target: "main", strategy: $strategy) {
        merged fastForward changes base commit { version merged: mergedFrom }
        conflicts { kind entityId sourceChange targetChange }
      }
    }"""
    with engine.connect() as conn:
        before = snapshot(conn)
    refused = ok(engine, merge, ds=ds, strategy="FAIL")["merge"]
    with engine.connect() as conn:
        assert snapshot(conn) == before
    conflict = {
        "kind": "instance",
        "entityId": first["id"],
        "sourceChange": "modified",
        "targetChange": "modified",
    }
    assert refused == {
        "merged": False,
        "fastForward": False,
        "changes": 0,
        "base": "main@1",  # reported also when the merge stops on conflicts
        "commit": None,
        "conflicts": [conflict],
    }
    taken = ok(engine, merge, ds=ds, strategy="THEIRS")["merge"]
    assert taken == {
        "merged": True,
        "fastForward": False,
        "changes": 1,
        "base": "main@1",
        "commit": {"version": "main@3", "merged": "fix@1"},
        "conflicts": [conflict],
    }
    assert [n["score"] for n in instances(engine, ds)] == [0.9]

    reverted = ok(
        engine,
        'mutation($ds: String!) { revert(dataset: $ds, branch: "main", to: "v1") { version } }',
        ds=ds,
    )["revert"]
    assert reverted == {"version": "main@4"}
    assert [n["score"] for n in instances(engine, ds)] == [None]
    assert [n["score"] for n in instances(engine, ds, "main@3")] == [0.9]

    assert ok(
        engine,
        'mutation($ds: String!) { a: deleteTag(dataset: $ds, name: "v1") '
        'b: deleteBranch(dataset: $ds, name: "fix") }',
        ds=ds,
    ) == {"a": True, "b": True}


def test_a_protected_branch_refuses_writes_and_accepts_merges(engine: Engine) -> None:
    ds, file, _ = dataset(engine)
    ok(engine, COMMIT, ds=ds, branch="main", message="files")
    ok(engine, 'mutation($ds: String!) { createBranch(dataset: $ds, name: "dev") { name } }', ds=ds)
    protect = ok(
        engine,
        'mutation($ds: String!) { protectBranch(dataset: $ds, name: "main") { name protected } }',
        ds=ds,
    )
    assert protect == {"protectBranch": {"name": "main", "protected": True}}
    refused = error(engine, CREATE_INSTANCES, ds=ds, instances=[box(file, 1, label="car")])
    assert refused["code"] == "PROTECTED_BRANCH"
    ok(engine, CREATE_INSTANCES, ds=ds, branch="dev", instances=[box(file, 1, label="car")])
    ok(engine, COMMIT, ds=ds, branch="dev", message="one box")
    merged = ok(
        engine,
        'mutation($ds: String!) { merge(dataset: $ds, source: "dev", target: "main") '
        "{ merged fastForward changes } }",
        ds=ds,
    )["merge"]
    assert merged == {"merged": True, "fastForward": True, "changes": 1}
    assert len(instances(engine, ds)) == 1


def test_datasets_are_renamed_and_deleted(engine: Engine) -> None:
    ds, file, _ = dataset(engine)
    ok(engine, CREATE_INSTANCES, ds=ds, instances=[box(file, 1, label="car")])
    renamed = ok(
        engine,
        'mutation($ds: String!) { updateDataset(name: $ds, newName: "renamed", '
        'description: "d") { name description } }',
        ds=ds,
    )
    assert renamed == {"updateDataset": {"name": "renamed", "description": "d"}}
    deleted = ok(engine, 'mutation { deleteDataset(name: "renamed") }')["deleteDataset"]
    with engine.connect() as conn:
        assert "renamed" not in [d.name for d in v.list_datasets(conn)]
    assert deleted.isdigit()
    gone = error(engine, 'mutation { deleteDataset(name: "renamed") }')
    assert gone["code"] == "NOT_FOUND"


BAD: list[tuple[str, str, str, Any]] = [
    (
        "unknown dataset",
        "NOT_FOUND",
        "dataset 'nope'",
        lambda ds, f: ("nope", [box(f, 1, label="car")]),
    ),
    (
        "unknown label name",
        "BAD_USER_INPUT",
        "instance #1: label: no label named 'cat' on 'main'",
        lambda ds, f: (ds, [box(f, 1, label="car"), box(f, 2, label="cat")]),
    ),
    (
        "label by name and by id",
        "BAD_USER_INPUT",
        "instance #0: give label or labelId, not both",
        lambda ds, f: (ds, [box(f, 1, label="car", labelId=str(uuid.uuid4()))]),
    ),
    (
        "a bad row in the middle of a batch",
        "BAD_USER_INPUT",
        "instance #2: score 3.0 is outside [0, 1]",
        lambda ds, f: (
            ds,
            [box(f, i, label="car", score=3.0 if i == 2 else 0.5) for i in range(5)],
        ),
    ),
    (
        "a file id that is no id",
        "BAD_USER_INPUT",
        "instance #0: fileId: 'x.png' is not an entity id",
        lambda ds, f: (ds, [box("x.png", 1, label="car")]),
    ),
    (
        "a file that is not there",
        "BAD_USER_INPUT",
        "instance #0: instance ",
        lambda ds, f: (ds, [box(str(uuid.uuid4()), 1, label="car")]),
    ),
    (
        "a box without its size",
        "BAD_USER_INPUT",
        "instance #0: a box instance needs w, h",
        lambda ds, f: (ds, [{"fileId": f, "kind": "box", "x": 1, "y": 1, "label": "car"}]),
    ),
    (
        "an unknown kind",
        "BAD_USER_INPUT",
        "instance #0: kind 'blob' is not one of",
        lambda ds, f: (ds, [box(f, 1, label="car", kind="blob")]),
    ),
]


@pytest.mark.parametrize(("what", "code", "message", "make"), BAD, ids=[b[0] for b in BAD])
def test_bad_instances_are_refused_whole(
    engine: Engine, what: str, code: str, message: str, make: Any
) -> None:
    ds, file, _ = dataset(engine)
    name, batch = make(ds, file)
    found = error(engine, CREATE_INSTANCES, ds=name, instances=batch)
    assert found["code"] == code, found
    assert found["message"].startswith(message), found
    assert instances(engine, ds) == []


@pytest.mark.parametrize(
    ("document", "code", "message"),
    [
        (
            'mutation($ds: String!) { createLabel(dataset: $ds, branch: "main", '
            'label: {name: "car"}) { id } }',
            "CONFLICT",
            "label name 'car' is already taken",
        ),
        (
            'mutation($ds: String!) { createLabel(dataset: $ds, branch: "main", '
            'label: {name: "red", color: "red"}) { id } }',
            "BAD_USER_INPUT",
            "color must be #rrggbb, not 'red'",
        ),
        (
            'mutation($ds: String!) { createFile(dataset: $ds, branch: "main", file: '
            '{name: "b.png", blobSha256: "' + "6" * 64 + '", mediaType: "image"}) { id } }',
            "BAD_USER_INPUT",
            "is not in the dataset's blob store",
        ),
        (
            'mutation($ds: String!) { createFile(dataset: $ds, branch: "main", file: '
            '{name: "a.png", blobSha256: "' + SHA + '", mediaType: "image"}) { id } }',
            "CONFLICT",
            "file name 'a.png' is already taken",
        ),
        (
            'mutation($ds: String!) { createBranch(dataset: $ds, name: "x", from: "v9") { name } }',
            "NOT_FOUND",
            "v9",
        ),
        (
            'mutation($ds: String!) { merge(dataset: $ds, source: "main", target: "main", '
            'strategy: OURS, fieldStrategies: [{field: "x.y", strategy: THEIRS}]) { merged } }',
            "BAD_USER_INPUT",
            "not a content field of JSON objects",
        ),
        (
            'mutation($ds: String!) { deleteBranch(dataset: $ds, name: "main") }',
            "BAD_USER_INPUT",
            "default branch",
        ),
        (
            'mutation($ds: String!) { updateLabel(dataset: $ds, branch: "main", '
            'label: {id: "' + str(uuid.UUID(int=5)) + '", name: "x"}) { id } }',
            "NOT_FOUND",
            "does not exist on branch 'main'",
        ),
        (
            'mutation($ds: String!) { updateLabels(dataset: $ds, branch: "main", '
            'labels: [{id: "' + str(uuid.UUID(int=5)) + '", color: null}]) { id } }',
            "NOT_FOUND",
            "does not exist",
        ),
    ],
)
def test_bad_mutations_are_coded_and_change_nothing(
    engine: Engine, document: str, code: str, message: str
) -> None:
    ds, _, _ = dataset(engine)
    found = error(engine, document, ds=ds)
    assert found["code"] == code, found
    assert message in found["message"], found


def test_a_label_in_use_cannot_be_deleted_nor_a_color_cleared(engine: Engine) -> None:
    ds, file, (car, _) = dataset(engine)
    ok(engine, CREATE_INSTANCES, ds=ds, instances=[box(file, 1, label="car")])
    in_use = error(
        engine,
        'mutation($ds: String!, $id: ID!) { deleteLabels(dataset: $ds, branch: "main", '
        "ids: [$id]) }",
        ds=ds,
        id=car,
    )
    assert in_use["code"] == "CONFLICT"
    assert "still used by instance" in in_use["message"]
    cleared = error(
        engine,
        'mutation($ds: String!, $id: ID!) { updateLabel(dataset: $ds, branch: "main", '
        "label: {id: $id, color: null}) { id } }",
        ds=ds,
        id=car,
    )
    assert cleared["code"] == "BAD_USER_INPUT"
    assert "color cannot be null" in cleared["message"]


def test_batches_have_a_ceiling(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    ds, file, _ = dataset(engine)
    monkeypatch.setattr(edits, "MAX_BATCH", 2)
    found = error(
        engine, CREATE_INSTANCES, ds=ds, instances=[box(file, i, label="car") for i in range(3)]
    )
    assert found["code"] == "BAD_USER_INPUT"
    assert "at most 2 entities per mutation, not 3" in found["message"]
