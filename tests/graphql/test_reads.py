"""GraphQL reads through `schema.execute`: pages, versions, filters, nesting, and their cost.

Results are compared with the engine's own reads (`versioning.read`) and the reference filter
evaluation, so a page is checked against what the version holds, not against a second copy of
the SQL.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import Engine

from trainingdb import versioning as v
from trainingdb.graphql_schema.filters.fields import INSTANCES
from trainingdb.graphql_schema.filters.query_language import parse_query

from .execute import run, statements
from .reference import State, matching
from .world import REFS, build, state

PAGE = """
query Page($version: String, $where: InstanceWhere, $query: String, $orderBy: [InstanceOrder!],
           $first: Int, $after: String) {
  dataset(name: "filters") {
    instances(version: $version, where: $where, query: $query, orderBy: $orderBy,
              first: $first, after: $after) {
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { cursor node { id score frameNumber kind } }
    }
  }
}
"""


@pytest.fixture(scope="module")
def world(engine: Engine) -> tuple[int, dict[str, State]]:
    with engine.begin() as conn:
        dataset = build(conn)
        v.create_tag(conn, dataset, "first", "main@1")
    with engine.connect() as conn:
        return dataset, {ref: state(conn, dataset, ref) for ref in REFS}


def all_pages(engine: Engine, size: int, **variables: Any) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = []
    after = None
    for _ in range(1000):
        out = run(engine, PAGE, first=size, after=after, **variables)
        assert "errors" not in out, out
        page = out["data"]["dataset"]["instances"]
        nodes += [edge["node"] for edge in page["edges"]]
        info = page["pageInfo"]
        assert info["hasPreviousPage"] is (after is not None)
        if page["edges"]:
            assert info["startCursor"] == page["edges"][0]["cursor"]
            assert info["endCursor"] == page["edges"][-1]["cursor"]
        if not info["hasNextPage"]:
            return nodes
        after = info["endCursor"]
    raise AssertionError("paging did not end")


def _key(field: str, desc: bool) -> Any:
    # Nulls last either way, then the entity id: the order the API promises.
    def key(row: dict[str, Any]) -> Any:
        value = row[field]
        if value is None:
            return (1, 0)
        return (0, -value if desc else value)

    return key


@pytest.mark.parametrize("ref", REFS)
@pytest.mark.parametrize("size", [1, 4, 25])
@pytest.mark.parametrize(
    ("order", "python"),
    [
        ([], []),
        ([{"field": "SCORE", "direction": "DESC"}], [("score", True)]),
        (
            [{"field": "FRAME_NUMBER"}, {"field": "SCORE", "direction": "DESC"}],
            [("frame_number", False), ("score", True)],
        ),
    ],
)
def test_pages_cover_the_version_in_order(
    world: Any, engine: Engine, ref: str, size: int, order: Any, python: Any
) -> None:
    _, states = world
    rows = sorted(states[ref].rows["instances"], key=lambda r: str(r["entity_id"]))
    for field, desc in reversed(python):
        rows.sort(key=_key(field, desc))
    nodes = all_pages(engine, size, version=ref, orderBy=order)
    assert [n["id"] for n in nodes] == [str(r["entity_id"]) for r in rows]


@pytest.mark.parametrize(
    "text",
    [
        "score > 0.5",
        "label = 'car' and (kind in ('box', 'point') or score is null)",
        "file.metadata.sensor = 'a' or attributes.occluded = true",
        "not inside(0, 0, 60, 60) and frame_number is not null",
    ],
)
@pytest.mark.parametrize("ref", REFS)
def test_query_text_selects_what_the_reference_selects(
    world: Any, engine: Engine, text: str, ref: str
) -> None:
    _, states = world
    nodes = all_pages(engine, 7, version=ref, query=text)
    expected = matching(states[ref], INSTANCES, parse_query(text, INSTANCES))
    assert {uuid.UUID(n["id"]) for n in nodes} == expected
    assert expected, "the filter selects something"


def test_where_and_query_are_anded(world: Any, engine: Engine) -> None:
    _, states = world
    nodes = all_pages(
        engine,
        50,
        where={"score": {"_gt": 0.3}, "label": {"_in": ["car", "person"]}},
        query="kind = 'box'",
    )
    flt = parse_query("score > 0.3 and label in ('car', 'person') and kind = 'box'", INSTANCES)
    assert {uuid.UUID(n["id"]) for n in nodes} == matching(states["main"], INSTANCES, flt)


@pytest.mark.parametrize("ref", ["first", "main@1"])
def test_tags_and_seqs_read_the_same_version(world: Any, engine: Engine, ref: str) -> None:
    _, states = world
    nodes = all_pages(engine, 100, version=ref)
    assert {uuid.UUID(n["id"]) for n in nodes} == {
        r["entity_id"] for r in states["main@1"].rows["instances"]
    }


def test_a_commit_id_is_a_version(world: Any, engine: Engine) -> None:
    _, states = world
    out = run(engine, '{ dataset(name: "filters") { commits { id version } } }')
    commits = out["data"]["dataset"]["commits"]
    assert [c["version"] for c in commits] == ["main@2", "main@1", "main@0"]
    nodes = all_pages(engine, 100, version=commits[1]["id"])
    assert len(nodes) == len(states["main@1"].rows["instances"])


NESTED = """
{
  dataset(name: "filters") {
    files(first: FIRST, orderBy: [{field: NAME}]) {
      nodes {
        __typename
        name
        n: instanceCount(query: "score > 0.5")
        instances(first: 3, orderBy: [{field: SCORE, direction: DESC}]) {
          id score
          label { name }
          file { name }
        }
      }
    }
  }
}
"""


def test_nested_selections_are_one_statement_whatever_the_page(world: Any, engine: Engine) -> None:
    _, states = world
    counts = []
    for size in (2, 8):
        with statements(engine) as seen:
            out = run(engine, NESTED.replace("FIRST", str(size)))
        counts.append(len(seen))
        assert "errors" not in out
    assert counts[0] == counts[1]
    files = out["data"]["dataset"]["files"]["nodes"]
    main = states["main"]
    labels = {r["entity_id"]: r["name"] for r in main.rows["labels"]}
    for node in files:
        assert node["__typename"] == "File"
        (file,) = [f for f in main.rows["files"] if f["name"] == node["name"]]
        mine = [i for i in main.rows["instances"] if i["file_entity_id"] == file["entity_id"]]
        assert node["n"] == sum(1 for i in mine if i["score"] is not None and i["score"] > 0.5)
        mine.sort(key=lambda r: str(r["entity_id"]))
        mine.sort(key=_key("score", True))
        assert [i["id"] for i in node["instances"]] == [str(i["entity_id"]) for i in mine[:3]]
        for got in node["instances"]:
            assert got["file"] == {"name": node["name"]}
            (row,) = [i for i in mine if str(i["entity_id"]) == got["id"]]
            assert got["label"] == {"name": labels[row["label_entity_id"]]}


def test_total_count_costs_a_statement_only_when_asked(world: Any, engine: Engine) -> None:
    _, states = world
    query = '{ dataset(name: "filters") { instances(first: 1) { COUNT nodes { id } } } }'
    with statements(engine) as without:
        run(engine, query.replace("COUNT", ""))
    with statements(engine) as with_count:
        out = run(engine, query.replace("COUNT", "totalCount"))
    assert len(with_count) == len(without) + 1
    assert out["data"]["dataset"]["instances"]["totalCount"] == len(
        states["main"].rows["instances"]
    )


def test_aliases_fragments_and_directives_shape_the_json(world: Any, engine: Engine) -> None:
    query = """
    query($skip: Boolean!) {
      dataset(name: "filters") {
        a: instances(first: 2) { items: nodes { ...ids  s: score @skip(if: $skip) } }
        b: instances(first: 1, orderBy: [{field: SCORE, direction: DESC}]) {
          nodes { ... on Instance { score } label @include(if: $skip) { name } }
        }
      }
    }
    fragment ids on Instance { ident: id __typename }
    """
    out = run(engine, query, skip=True)
    data = out["data"]["dataset"]
    assert list(data["a"]["items"][0]) == ["ident", "__typename"]
    assert list(data["b"]["nodes"][0]) == ["score", "label"]
    out = run(engine, query, skip=False)
    assert list(out["data"]["dataset"]["a"]["items"][0]) == ["ident", "__typename", "s"]


FRAME_FILTERS: list[tuple[str, Any]] = [
    ("where: {instances: {count: {_gte: 2}}}", lambda rows, file: len(rows) >= 2),
    (
        'where: {file: {metadata: {_contains: {sensor: "a"}}}}',
        lambda rows, file: file["metadata"].get("sensor") == "a",
    ),
    (
        "query: \"any instances(score > 0.4) and no instances(kind = 'point')\"",
        lambda rows, file: (
            any(r["score"] is not None and r["score"] > 0.4 for r in rows)
            and not any(r["kind"] == "point" for r in rows)
        ),
    ),
]


@pytest.mark.parametrize(("arg", "keep"), FRAME_FILTERS, ids=["count", "file", "query"])
def test_frames_group_frame_level_instances(
    world: Any, engine: Engine, arg: str, keep: Any
) -> None:
    _, states = world
    query = (
        '{ dataset(name: "filters") { frames(first: 500, range: {from: 2, to: 15}, '
        + arg
        + ") { nodes { fileId frameNumber instanceCount instances(first: 100) "
        "{ id frameNumber } } } } }"
    )
    out = run(engine, query)
    assert "errors" not in out, out
    frames = out["data"]["dataset"]["frames"]["nodes"]
    files = {str(f["entity_id"]): f for f in states["main"].rows["files"]}
    groups: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for row in states["main"].rows["instances"]:
        if row["frame_number"] is not None and 2 <= row["frame_number"] <= 15:
            key = (str(row["file_entity_id"]), row["frame_number"])
            groups.setdefault(key, []).append(row)
    expected = sorted(
        (k, sorted(str(r["entity_id"]) for r in rows))
        for k, rows in groups.items()
        if keep(rows, files[k[0]])
    )
    assert expected
    got = [
        ((f["fileId"], f["frameNumber"]), sorted(i["id"] for i in f["instances"])) for f in frames
    ]
    assert got == expected
    assert all(f["instanceCount"] == len(f["instances"]) for f in frames)


@pytest.mark.parametrize(
    ("query", "code", "message"),
    [
        ('instances(query: "score >> 1") { nodes { id } }', "INVALID_FILTER", "column 8"),
        ('instances(where: {kind: {_eq: "boxx"}}) { nodes { id } }', "INVALID_FILTER", "boxx"),
        ('instances(version: "nope") { nodes { id } }', "NOT_FOUND", "nope"),
        ("instances(first: 10001) { nodes { id } }", "BAD_USER_INPUT", "first must be between"),
        ('instances(after: "bm90IGEgY3Vyc29y") { nodes { id } }', "BAD_USER_INPUT", "not a cursor"),
        ('diff(from: "main", to: "nope") { changes { kind } }', "NOT_FOUND", "nope"),
    ],
)
def test_bad_reads_are_coded_errors(
    world: Any, engine: Engine, query: str, code: str, message: str
) -> None:
    out = run(engine, '{ dataset(name: "filters") { ' + query + " } }")
    assert out["data"] is None
    (error,) = out["errors"]
    assert error["code"] == code
    assert message in error["message"]


def test_tags_log_history_and_diff(world: Any, engine: Engine) -> None:
    out = run(
        engine,
        """{ dataset(name: "filters") {
            tags { name version branch seq }
            diff(from: "main", to: "exp", first: 5) {
              changes { kind entityId change before after } hasNextPage endCursor
              byKind { key change count } byLabel { key change count }
            }
        } }""",
    )
    data = out["data"]["dataset"]
    assert data["tags"] == [{"name": "first", "version": "main@1", "branch": "main", "seq": 1}]
    diff = data["diff"]
    assert len(diff["changes"]) == 5
    assert diff["hasNextPage"]
    total = sum(c["count"] for c in diff["byKind"])
    pages, after = list(diff["changes"]), diff["endCursor"]
    while after:
        more = run(
            engine,
            'query($after: String) { dataset(name: "filters") { diff(from: "main", to: "exp", '
            "first: 5, after: $after) { changes { kind entityId change } hasNextPage endCursor } "
            "} }",
            after=after,
        )["data"]["dataset"]["diff"]
        pages += more["changes"]
        after = more["endCursor"] if more["hasNextPage"] else None
    assert len(pages) == total == len({(c["kind"], c["entityId"]) for c in pages})
    modified = next(c for c in pages if c["change"] == "modified")
    assert set(modified["before"]) >= {"fileId", "labelId"} or modified["kind"] == "file"
    entity = modified["entityId"]
    history = run(
        engine,
        'query($id: ID!) { dataset(name: "filters") { history(entityId: $id) { branch seqFrom '
        "seqTo killedBy { branch seq } } } }",
        id=entity,
    )["data"]["dataset"]["history"]
    assert [h["branch"] for h in history][-1] == "exp"


def test_a_cursor_belongs_to_its_order(world: Any, engine: Engine) -> None:
    score = [{"field": "SCORE", "direction": "DESC"}]
    page = run(engine, PAGE, first=3, orderBy=score)["data"]["dataset"]["instances"]
    cursor = page["pageInfo"]["endCursor"]
    assert "errors" not in run(engine, PAGE, first=3, orderBy=score, after=cursor)
    for other in ([{"field": "AREA"}], [{"field": "SCORE"}], None):
        out = run(engine, PAGE, first=3, orderBy=other, after=cursor)
        (error,) = out["errors"]
        assert error["code"] == "BAD_USER_INPUT"
        assert "is not a cursor of this connection and order" in error["message"]


def test_an_empty_page_has_no_cursors(world: Any, engine: Engine) -> None:
    info = run(engine, PAGE, first=0)["data"]["dataset"]["instances"]["pageInfo"]
    assert info == {
        "hasNextPage": True,
        "hasPreviousPage": False,
        "startCursor": None,
        "endCursor": None,
    }
