"""Authentication over HTTP, through the real ASGI app: no credentials, bad ones, API keys whose
grants and revocation take effect on the next request, OIDC tokens, `--local-admin` on loopback
only, and the audit event a request's change leaves."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import Engine
from starlette.types import Message

from tests.access.test_oidc import Provider, claims
from trainingdb import versioning as v
from trainingdb.server.app import create_app
from trainingdb.server.auth import Authenticator, lookup_engine
from trainingdb.server.oidc import OidcVerifier
from trainingdb.versioning.access import audit, grants, identities, keys

pytestmark = pytest.mark.anyio
Client = Callable[..., httpx.AsyncClient]
DATASETS = "{ datasets { name } }"


@pytest.fixture(scope="module")
def world(engine: Engine) -> dict[str, str]:
    with engine.begin() as conn:
        v.create_dataset(conn, "herons")
        v.create_dataset(conn, "cranes")
        identities.create_team(conn, "birders")
        identities.add_member(conn, "birders", "ada")
        key = keys.create_key(conn, team="birders", member="ada").key
        admin = keys.create_key(conn, admin=True).key
    return {"key": key, "admin": admin}


@pytest.fixture
async def make_client(engine: Engine) -> AsyncIterator[Client]:
    opened: list[httpx.AsyncClient] = []

    def make(
        peer: str = "203.0.113.9", local_admin: bool = False, oidc: OidcVerifier | None = None
    ) -> httpx.AsyncClient:
        app = create_app(engine, auth=Authenticator(engine, oidc, local_admin))
        transport = httpx.ASGITransport(app=app, client=(peer, 40000))
        client = httpx.AsyncClient(transport=transport, base_url="http://t")
        opened.append(client)
        return client

    yield make
    for client in opened:
        await client.aclose()


async def post(
    client: httpx.AsyncClient, query: str, credential: str | None = None, **headers: str
) -> tuple[int, dict[str, Any]]:
    if credential is not None:
        headers["authorization"] = f"Bearer {credential}"
    response = await client.post("/graphql", json={"query": query}, headers=headers)
    return response.status_code, orjson.loads(response.content)


def _code(body: dict[str, Any]) -> str:
    (error,) = body["errors"]
    code: str = error["extensions"]["code"]
    return code


async def test_no_credentials_is_401_unauthenticated(make_client: Client) -> None:
    client = make_client()
    response = await client.post("/graphql", json={"query": DATASETS})
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    body = orjson.loads(response.content)
    assert _code(body) == "UNAUTHENTICATED"
    assert "Authorization: Bearer" in body["errors"][0]["message"]


@pytest.mark.parametrize(
    "headers",
    [
        {"authorization": "Bearer tdb_000000000000_" + "A" * 43},
        {"authorization": "Bearer nonsense"},
        {"authorization": "Basic dXNlcjpwYXNz"},
        {"x-api-key": "tdb_short"},
    ],
)
async def test_bad_credentials_are_401(
    make_client: Client, world: dict[str, str], headers: dict[str, str]
) -> None:
    status, body = await post(make_client(), DATASETS, **headers)
    assert (status, _code(body)) == (401, "UNAUTHENTICATED")


async def test_a_key_sees_what_its_team_is_granted_from_the_next_request(
    engine: Engine, make_client: Client, world: dict[str, str]
) -> None:
    client = make_client()
    status, body = await post(client, DATASETS, world["key"])
    assert (status, body["data"]) == (200, {"datasets": []})
    with engine.begin() as conn:
        grants.set_grant(conn, "birders", "herons", "viewer")
    _, body = await post(client, DATASETS, world["key"])
    assert body["data"] == {"datasets": [{"name": "herons"}]}
    _, body = await post(client, DATASETS, world["admin"])
    assert body["data"] == {"datasets": [{"name": "cranes"}, {"name": "herons"}]}
    _, body = await post(client, '{ dataset(name: "cranes") { name } }', world["key"])
    assert _code(body) == "NOT_FOUND"
    with engine.begin() as conn:
        grants.revoke_grant(conn, "birders", "herons")
    _, body = await post(client, DATASETS, world["key"])
    assert body["data"] == {"datasets": []}


async def test_a_revoked_key_stops_on_the_next_request(engine: Engine, make_client: Client) -> None:
    with engine.begin() as conn:
        made = keys.create_key(conn, team="birders")
    client = make_client()
    assert (await post(client, DATASETS, made.key))[0] == 200
    with engine.begin() as conn:
        keys.revoke_key(conn, made.row.prefix)
    status, body = await post(client, DATASETS, made.key)
    assert (status, _code(body)) == (401, "UNAUTHENTICATED")


async def test_x_api_key_header_works_too(make_client: Client, world: dict[str, str]) -> None:
    status, _ = await post(make_client(), DATASETS, **{"x-api-key": world["admin"]})
    assert status == 200


async def test_local_admin_is_for_loopback_peers_only(make_client: Client) -> None:
    for peer in ("127.0.0.1", "::1"):
        status, body = await post(make_client(peer, local_admin=True), DATASETS)
        assert status == 200
        assert {"name": "herons"} in body["data"]["datasets"]
    status, body = await post(make_client("192.168.1.20", local_admin=True), DATASETS)
    assert (status, _code(body)) == (401, "UNAUTHENTICATED")
    status, _ = await post(make_client("127.0.0.1", local_admin=False), DATASETS)
    assert status == 401


async def test_the_graphiql_page_needs_no_key(make_client: Client) -> None:
    response = await make_client().get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_a_change_is_audited_with_its_key_and_request_id(
    engine: Engine, make_client: Client, world: dict[str, str]
) -> None:
    with engine.begin() as conn:
        grants.set_grant(conn, "birders", "cranes", "editor")
    mutation = 'mutation { createBranch(dataset: "cranes", name: "ada/try") { name } }'
    status, body = await post(make_client(), mutation, world["key"], **{"x-request-id": "req-42"})
    assert (status, body.get("errors")) == (200, None)
    with engine.connect() as conn:
        dataset = v.get_dataset(conn, "cranes")
        (event,) = audit.events(conn, dataset_id=dataset.id, limit=1)
    prefix = world["key"].split("_")[1]
    assert (event.actor, event.credential, event.action) == (
        "birders/ada",
        f"key:{prefix}",
        "create a branch",
    )
    assert (event.dataset, event.ref, event.request_id) == ("cranes", "ada/try", "req-42")


async def test_a_refused_change_leaves_no_audit_event(
    engine: Engine, make_client: Client, world: dict[str, str]
) -> None:
    with engine.begin() as conn:
        grants.set_grant(conn, "birders", "herons", "viewer")
        dataset = v.get_dataset(conn, "herons")
        before = audit.events(conn, dataset_id=dataset.id)
    mutation = 'mutation { createBranch(dataset: "herons", name: "nope") { name } }'
    _, body = await post(make_client(), mutation, world["key"])
    assert _code(body) == "FORBIDDEN"
    with engine.connect() as conn:
        assert audit.events(conn, dataset_id=dataset.id) == before


async def test_an_oidc_token_acts_for_its_team_and_member(
    engine: Engine, make_client: Client, provider: Provider, verifier: OidcVerifier
) -> None:
    with engine.begin() as conn:
        identities.create_team(conn, "vision")
        grants.set_grant(conn, "vision", "herons", "viewer")
    token = provider.token(claims())
    status, body = await post(make_client(oidc=verifier), DATASETS, token)
    assert (status, body["data"]) == (200, {"datasets": [{"name": "herons"}]})
    status, body = await post(make_client(oidc=None), DATASETS, token)
    assert (status, _code(body)) == (401, "UNAUTHENTICATED")


async def test_a_websocket_with_bad_credentials_is_refused_at_the_handshake(
    engine: Engine,
) -> None:
    # Without any, the socket opens and must send them in connection_init (else 4403):
    # tests/subscriptions/test_ref_updates.py, with a real client.
    app = create_app(engine, auth=Authenticator(engine))
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "websocket.connect"}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "websocket",
        "path": "/graphql",
        "root_path": "",
        "scheme": "ws",
        "query_string": b"",
        "headers": [(b"authorization", b"Bearer tdb_0000_unknown")],
        "client": ("203.0.113.9", 40000),
        "server": ("t", 80),
        "subprotocols": ["graphql-transport-ws"],
    }
    await app(scope, receive, send)
    assert [(m["type"], m.get("code")) for m in sent] == [("websocket.close", 4401)]


async def test_a_key_lookup_survives_a_connection_the_database_dropped(
    engine: Engine, world: dict[str, str]
) -> None:
    lookups = lookup_engine(engine)  # no pre-ping: a dead connection fails once, then is retried
    try:
        auth = Authenticator(engine, lookups=lookups)
        app = create_app(engine, auth=auth)
        transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            assert (await post(client, DATASETS, world["admin"]))[0] == 200
            with lookups.connect() as conn:
                pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
            with engine.connect() as conn:
                assert conn.exec_driver_sql(f"SELECT pg_terminate_backend({int(pid)})").scalar()
            status, body = await post(client, DATASETS, world["admin"])
            assert status == 200, body
    finally:
        lookups.dispose()
