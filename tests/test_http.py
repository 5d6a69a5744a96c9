"""The real ASGI app over HTTP: health, readiness, GraphiQL, GraphQL reads and error codes."""

from __future__ import annotations

import socket
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import Engine, delete, event, insert, select

from trainingdb.server.app import create_app
from trainingdb.server.database import create_db_engine, parse_database_url
from trainingdb.versioning.models import Branch, Dataset

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module", autouse=True)
def seeded(engine: Engine) -> None:
    with engine.begin() as conn:
        birds = conn.scalar(insert(Dataset).values(name="birds").returning(Dataset.id))
        cars = conn.scalar(
            insert(Dataset).values(name="cars", description="roads").returning(Dataset.id)
        )
        conn.execute(
            insert(Branch),
            [
                {"dataset_id": cars, "name": "main", "head_seq": 2},
                {"dataset_id": cars, "name": "team-a", "head_seq": 0},
                {"dataset_id": birds, "name": "main", "head_seq": 0},
            ],
        )


async def graphql(client: httpx.AsyncClient, query: str, **variables: object) -> dict[str, Any]:
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = orjson.loads(response.content)
    return body


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


async def test_readyz(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert (response.status_code, response.json()) == (200, {"status": "ready"})


async def test_readyz_when_the_database_is_down() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    engine = create_db_engine(parse_database_url(f"postgresql://u@127.0.0.1:{port}/db"))
    transport = httpx.ASGITransport(app=create_app(engine))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as down:
        response = await down.get("/readyz")
        assert response.status_code == 503
        assert response.json()["status"] == "unavailable"
        # The process itself is up.
        assert (await down.get("/healthz")).status_code == 200
    engine.dispose()


async def test_graphiql_on_get(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_datasets_with_branches(client: httpx.AsyncClient) -> None:
    body = await graphql(client, "{ datasets { name description branches { name headSeq } } }")
    assert body == {
        "data": {
            "datasets": [
                {"name": "birds", "description": "", "branches": [{"name": "main", "headSeq": 0}]},
                {
                    "name": "cars",
                    "description": "roads",
                    "branches": [{"name": "main", "headSeq": 2}, {"name": "team-a", "headSeq": 0}],
                },
            ]
        }
    }


async def test_dataset_by_name(client: httpx.AsyncClient) -> None:
    body = await graphql(
        client, "query($n: String!) { dataset(name: $n) { name defaultBranch } }", n="cars"
    )
    assert body == {"data": {"dataset": {"name": "cars", "defaultBranch": "main"}}}


async def test_missing_dataset_is_not_found(client: httpx.AsyncClient) -> None:
    body = await graphql(client, '{ dataset(name: "nope") { name } }')
    [error] = body["errors"]
    assert error["message"] == "dataset 'nope' does not exist"
    assert error["extensions"] == {"code": "NOT_FOUND"}
    assert error["path"] == ["dataset"]


async def test_syntax_error_code(client: httpx.AsyncClient) -> None:
    body = await graphql(client, "{ datasets { name ")
    [error] = body["errors"]
    assert error["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"


async def test_validation_error_code(client: httpx.AsyncClient) -> None:
    body = await graphql(client, "{ datasets { colour } }")
    [error] = body["errors"]
    assert "colour" in error["message"]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_datasets_with_branches_cost_two_statements_whatever_the_count(
    client: httpx.AsyncClient, engine: Engine
) -> None:
    """No N+1: branches of every dataset load in one batched statement."""
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    query = "{ datasets { name branches { name } } }"
    event.listen(engine, "before_cursor_execute", record)
    try:
        await graphql(client, query)
        with engine.begin() as conn:
            for i in range(5):
                dataset = conn.scalar(
                    insert(Dataset).values(name=f"more-{i}").returning(Dataset.id)
                )
                conn.execute(insert(Branch).values(dataset_id=dataset, name="main"))
        statements.clear()
        body = await graphql(client, query)
    finally:
        event.remove(engine, "before_cursor_execute", record)
        with engine.begin() as conn:
            added = select(Dataset.id).where(Dataset.name.like("more-%"))
            conn.execute(delete(Branch).where(Branch.dataset_id.in_(added)))
            conn.execute(delete(Dataset).where(Dataset.id.in_(added)))
    assert len(body["data"]["datasets"]) == 7
    assert len(statements) == 2, statements
