"""The GraphQL API through the real ASGI app over HTTP: bulk writes from variables, shaped pages
passed through as JSON, merge conflicts as data, and coded errors."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import Engine, insert, select

from trainingdb.versioning.models import Blob, Dataset

pytestmark = pytest.mark.anyio
SHA = "7" * 64


async def post(client: httpx.AsyncClient, query: str, **variables: Any) -> dict[str, Any]:
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = orjson.loads(response.content)
    return body


async def ok(client: httpx.AsyncClient, query: str, **variables: Any) -> dict[str, Any]:
    body = await post(client, query, **variables)
    assert "errors" not in body, body["errors"]
    data: dict[str, Any] = body["data"]
    return data


async def test_write_commit_branch_and_read_over_http(
    client: httpx.AsyncClient, engine: Engine
) -> None:
    await ok(client, 'mutation { createDataset(name: "web") { id } }')
    with engine.begin() as conn:
        ds = conn.scalar(select(Dataset.id).where(Dataset.name == "web"))
        conn.execute(
            insert(Blob).values(
                dataset_id=ds, sha256=SHA, size=1, mime="image/png", storage_key="k"
            )
        )
    await ok(
        client,
        'mutation { createLabels(dataset: "web", branch: "main", labels: [{name: "car"}]) { id } }',
    )
    file = (
        await ok(
            client,
            'mutation($f: FileInput!) { createFile(dataset: "web", branch: "main", file: $f) '
            "{ id } }",
            f={"name": "a.png", "blobSha256": SHA, "mediaType": "image"},
        )
    )["createFile"]["id"]
    boxes = [
        {
            "fileId": file,
            "label": "car",
            "kind": "box",
            "x": i,
            "y": 0,
            "w": 1,
            "h": 1,
            "score": (i % 100) / 100,
        }
        for i in range(1200)
    ]
    made = await ok(
        client,
        'mutation($b: [InstanceInput!]!) { createInstances(dataset: "web", branch: "main", '
        "instances: $b) { id } }",
        b=boxes,
    )
    assert len(made["createInstances"]) == 1200
    await ok(client, 'mutation { commit(dataset: "web", branch: "main", message: "m") { seq } }')

    read = await ok(
        client,
        """{ dataset(name: "web") {
            hi: instances(version: "main@1", where: {score: {_gte: 0.9}}, first: 1000,
                          orderBy: [{field: SCORE, direction: DESC}]) {
              totalCount
              edges { cursor node { s: score label { name } file { name } } }
            }
            instanceStats { count scoreHistogram(buckets: 2) { count } }
        } }""",
    )
    hi = read["dataset"]["hi"]
    assert hi["totalCount"] == len(hi["edges"]) == 120
    scores = [e["node"]["s"] for e in hi["edges"]]
    assert scores == sorted(scores, reverse=True)
    assert hi["edges"][0]["node"]["label"] == {"name": "car"}
    assert read["dataset"]["instanceStats"] == {
        "count": 1200,
        "scoreHistogram": [{"count": 600}, {"count": 600}],
    }


async def test_conflicts_come_back_as_data_and_errors_with_codes(
    client: httpx.AsyncClient,
) -> None:
    await ok(client, 'mutation { createDataset(name: "web2") { id } }')
    await ok(
        client,
        'mutation { createLabel(dataset: "web2", branch: "main", label: {name: "car"}) { id } '
        'commit(dataset: "web2", branch: "main", message: "one") { seq } }',
    )
    label = (await ok(client, '{ dataset(name: "web2") { labels { nodes { id } } } }'))["dataset"][
        "labels"
    ]["nodes"][0]["id"]
    await ok(client, 'mutation { createBranch(dataset: "web2", name: "b") { name } }')
    for branch, color in (("b", "#111111"), ("main", "#222222")):
        await ok(
            client,
            "mutation($branch: String!, $id: ID!, $color: String!) { "
            'updateLabel(dataset: "web2", branch: $branch, label: {id: $id, color: $color}) '
            '{ id } commit(dataset: "web2", branch: $branch, message: "c") { seq } }',
            branch=branch,
            id=label,
            color=color,
        )
    merge = await ok(
        client,
        'mutation { merge(dataset: "web2", source: "b", target: "main") '
        "{ merged conflicts { entityId sourceChange targetChange } } }",
    )
    assert merge["merge"] == {
        "merged": False,
        "conflicts": [{"entityId": label, "sourceChange": "modified", "targetChange": "modified"}],
    }
    await ok(client, 'mutation { protectBranch(dataset: "web2", name: "main") { protected } }')
    refused = await post(
        client,
        'mutation { createLabel(dataset: "web2", branch: "main", label: {name: "x"}) { id } }',
    )
    assert refused["data"] is None
    assert refused["errors"][0]["extensions"]["code"] == "PROTECTED_BRANCH"
    bad = await post(
        client, '{ dataset(name: "web2") { instances(query: "score >") { nodes { id } } } }'
    )
    assert bad["errors"][0]["extensions"]["code"] == "INVALID_FILTER"
    assert "column" in bad["errors"][0]["message"]
