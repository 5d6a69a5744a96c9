"""GraphQL over HTTP as the specification has it (media types, status codes, methods), and CORS
for the origins the settings allow, through the real ASGI app."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import Engine

from trainingdb.server.app import create_app
from trainingdb.server.auth import Authenticator
from trainingdb.server.graphql_http import GRAPHQL_RESPONSE, negotiate
from trainingdb.server.settings import Settings, SettingsError, parse_origins

pytestmark = pytest.mark.anyio
QUERY = "{ datasets { name } }"


def body(response: httpx.Response) -> dict[str, Any]:
    found: dict[str, Any] = orjson.loads(response.content)
    return found


def media(response: httpx.Response) -> str:
    return response.headers["content-type"].split(";")[0]


@pytest.mark.parametrize(
    ("accept", "answer"),
    [
        (None, "application/json"),
        ("*/*", "application/json"),
        ("application/json", "application/json"),
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        (f"application/json, {GRAPHQL_RESPONSE}", GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE};q=0.5, application/json;q=0.9", "application/json"),
        (f"application/json;q=0, {GRAPHQL_RESPONSE}", GRAPHQL_RESPONSE),
        ("text/plain", None),
        ("application/json;q=0", None),
    ],
)
def test_negotiation(accept: str | None, answer: str | None) -> None:
    assert negotiate(accept) == answer


async def test_the_specification_s_media_type_when_accepted(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", json={"query": QUERY}, headers={"accept": GRAPHQL_RESPONSE}
    )
    assert (response.status_code, media(response)) == (200, GRAPHQL_RESPONSE)
    assert body(response) == {"data": {"datasets": []}}
    legacy = await client.post("/graphql", json={"query": QUERY})
    assert (legacy.status_code, media(legacy)) == (200, "application/json")


@pytest.mark.parametrize(
    ("document", "variables", "words"),
    [
        ("{ datasets { name }", None, "Syntax Error"),
        ("{ nope }", None, "Cannot query field 'nope'"),
        ("query($n: Int!) { dataset(id: $n) { name } }", {"n": "x"}, "Variable '$n'"),
    ],
)
async def test_a_request_error_has_no_data_and_is_400_in_the_new_media_type(
    client: httpx.AsyncClient, document: str, variables: Any, words: str
) -> None:
    payload = {"query": document, "variables": variables}
    strict = await client.post("/graphql", json=payload, headers={"accept": GRAPHQL_RESPONSE})
    assert (strict.status_code, media(strict)) == (400, GRAPHQL_RESPONSE)
    assert "data" not in body(strict)
    assert words in body(strict)["errors"][0]["message"]
    legacy = await client.post("/graphql", json=payload)
    assert legacy.status_code == 200  # application/json keeps 200, as the specification allows
    assert "data" not in body(legacy)


async def test_a_field_error_keeps_data_and_200(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql",
        json={"query": '{ dataset(name: "nope") { name } }'},
        headers={"accept": GRAPHQL_RESPONSE},
    )
    assert response.status_code == 200
    assert body(response)["data"] is None
    assert body(response)["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_queries_by_get_and_mutations_only_by_post(client: httpx.AsyncClient) -> None:
    got = await client.get("/graphql", params={"query": QUERY})
    assert (got.status_code, body(got)) == (200, {"data": {"datasets": []}})
    mutation = await client.get(
        "/graphql", params={"query": 'mutation { deleteDataset(name: "x") }'}
    )
    assert (mutation.status_code, mutation.headers["allow"]) == (405, "POST")
    assert body(mutation)["errors"][0]["message"] == "mutations are not allowed when using GET"
    put = await client.put("/graphql", json={"query": QUERY})
    assert (put.status_code, put.headers["allow"]) == (405, "GET, POST")


async def test_bodies_that_are_not_graphql_requests(client: httpx.AsyncClient) -> None:
    plain = await client.post(
        "/graphql", content=QUERY.encode(), headers={"content-type": "text/plain"}
    )
    assert (plain.status_code, body(plain)["errors"][0]["message"]) == (
        415,
        "Unsupported content type",
    )
    broken = await client.post(
        "/graphql", content=b"{", headers={"content-type": "application/json"}
    )
    assert (broken.status_code, media(broken)) == (400, "application/json")
    empty = await client.post("/graphql", json={})
    assert empty.status_code == 400
    unacceptable = await client.post(
        "/graphql", json={"query": QUERY}, headers={"accept": "text/csv"}
    )
    assert unacceptable.status_code == 406


def app_for(engine: Engine, origins: tuple[str, ...]) -> httpx.AsyncClient:
    app = create_app(engine, auth=Authenticator(engine, local_admin=True), cors_origins=origins)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


PREFLIGHT = {
    "origin": "https://labels.example.com",
    "access-control-request-method": "POST",
    "access-control-request-headers": "authorization, content-type",
}


async def test_cors_only_for_the_origins_allowed(engine: Engine) -> None:
    async with app_for(engine, ()) as closed:
        response = await closed.post(
            "/graphql", json={"query": QUERY}, headers={"origin": PREFLIGHT["origin"]}
        )
        assert "access-control-allow-origin" not in response.headers
    async with app_for(engine, ("https://labels.example.com",)) as open_:
        preflight = await open_.options("/graphql", headers=PREFLIGHT)
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == PREFLIGHT["origin"]
        assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
        response = await open_.post(
            "/graphql", json={"query": QUERY}, headers={"origin": PREFLIGHT["origin"]}
        )
        assert response.headers["access-control-allow-origin"] == PREFLIGHT["origin"]
        stranger = await open_.options(
            "/graphql", headers={**PREFLIGHT, "origin": "https://evil.example"}
        )
        assert stranger.status_code == 400


def test_cors_origins_from_settings() -> None:
    env = {"TRAININGDB_CORS_ORIGINS": "https://a.example, http://localhost:5173/"}
    settings = Settings.resolve(environ=env)
    assert settings.cors_origins == ("https://a.example", "http://localhost:5173")
    assert Settings.resolve(environ={}).cors_origins == ()
    assert parse_origins("*") == ("*",)
    with pytest.raises(SettingsError, match=r"^TRAININGDB_CORS_ORIGINS: 'labels\.example\.com'"):
        parse_origins("labels.example.com")
    with pytest.raises(SettingsError, match="is not an origin"):
        parse_origins("https://a.example/app")
