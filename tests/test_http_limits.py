"""Hostile bytes and oversized bodies at /graphql, through the real ASGI app: a body or a GET
parameter that is not UTF-8 is 400, a body over TRAININGDB_MAX_REQUEST_BYTES is 413 (by its
Content-Length before it is read, or once a chunked one passes the limit), a lone surrogate
escape never makes a 500, and every refusal carries an `extensions.code`."""

from __future__ import annotations

from collections.abc import AsyncIterator, MutableMapping
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import URL, Engine

from trainingdb.server.app import app_from_env, create_app
from trainingdb.server.auth import Authenticator

pytestmark = pytest.mark.anyio
QUERY = b'{"query": "{ datasets { name } }"}'
LIMIT = 1024
MIB = 1 << 20
CHUNK = 256
JSON_TYPE = {"content-type": "application/json"}


def body(response: httpx.Response) -> dict[str, Any]:
    # orjson, not response.json(): it refuses anything that is not UTF-8 JSON, as a client may.
    found: dict[str, Any] = orjson.loads(response.content)
    return found


def refused(response: httpx.Response) -> tuple[int, str, str]:
    (error,) = body(response)["errors"]
    return response.status_code, error["extensions"]["code"], error["message"]


def padded(size: int) -> bytes:
    """A valid request of exactly `size` bytes (JSON allows trailing whitespace)."""
    assert size >= len(QUERY)
    return QUERY + b" " * (size - len(QUERY))


def client_for(app: Any) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.fixture
async def small(engine: Engine) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app whose limit is LIMIT bytes."""
    app = create_app(engine, auth=Authenticator(engine, local_admin=True), max_request_bytes=LIMIT)
    async with client_for(app) as http:
        yield http


class Chunks:
    """A request body sent chunked (no Content-Length), counting the chunks the app pulled."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pulled = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for start in range(0, len(self.data), CHUNK):
            self.pulled += 1
            yield self.data[start : start + CHUNK]


# --- bytes that are not UTF-8 ------------------------------------------------------------------


async def test_a_body_that_is_not_utf8_is_400_naming_the_byte(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql",
        content=b'{"query": "{ __type(name: \\"\xff\xfe\\") { name } }"}',
        headers=JSON_TYPE,
    )
    assert (response.status_code, response.headers["content-type"]) == (400, "application/json")
    assert body(response) == {
        "errors": [
            {
                "message": "the request body is not valid UTF-8 (byte 0xff at offset 28)",
                "extensions": {"code": "BAD_REQUEST"},
            }
        ]
    }


@pytest.mark.parametrize(
    ("content", "message"),
    [
        # json.loads would have guessed UTF-16 from the byte order mark, and answered it.
        (QUERY.decode().encode("utf-16"), "byte 0xff at offset 0"),
        # A surrogate encoded as UTF-8 bytes (CESU-8): json.loads passed it through.
        (b'{"query": "{ datasets { name } }", "x": "\xed\xa0\x80"}', "byte 0xed at offset 41"),
        (b'{"query": "{ datasets { name } }", "x": "\xe2\x82', "byte 0xe2 at offset 41"),
        (b'{"query": "\xc0\xaf"}', "byte 0xc0 at offset 11"),  # an overlong "/"
    ],
)
async def test_other_bodies_that_are_not_utf8(
    client: httpx.AsyncClient, content: bytes, message: str
) -> None:
    response = await client.post("/graphql", content=content, headers=JSON_TYPE)
    assert refused(response) == (
        400,
        "BAD_REQUEST",
        f"the request body is not valid UTF-8 ({message})",
    )


async def test_a_utf8_byte_order_mark_is_ignored(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", content=b"\xef\xbb\xbf" + QUERY, headers=JSON_TYPE)
    assert (response.status_code, body(response)) == (200, {"data": {"datasets": []}})


@pytest.mark.parametrize(
    ("query_string", "message"),
    [
        (
            "query=%7B%20__type(name:%20%22%FF%FE%22)%20%7B%20name%20%7D%20%7D",
            "the query parameter 'query' is not valid UTF-8 in its value "
            "(byte 0xff at offset 16, percent-decoded)",
        ),
        (
            "query=%7B%20datasets%20%7B%20name%20%7D%20%7D&variables=%7B%7D%FF",
            "the query parameter 'variables' is not valid UTF-8 in its value "
            "(byte 0xff at offset 2, percent-decoded)",
        ),
        (
            "query=%7B%20dataset(name:%20%22%ED%A0%80%22)%20%7B%20name%20%7D%20%7D",
            "the query parameter 'query' is not valid UTF-8 in its value "
            "(byte 0xed at offset 17, percent-decoded)",
        ),
        (
            "qu%FFery=x",
            "the query parameter 'qu\ufffdery' is not valid UTF-8 in its name "
            "(byte 0xff at offset 2, percent-decoded)",
        ),
    ],
)
async def test_get_parameters_that_are_not_utf8_are_400(
    client: httpx.AsyncClient, query_string: str, message: str
) -> None:
    # Starlette would have decoded them with U+FFFD: a lookup of another name, silently.
    response = await client.get(f"/graphql?{query_string}")
    assert refused(response) == (400, "BAD_REQUEST", message)


async def test_get_parameters_in_utf8_are_answered(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/graphql", params={"query": '{ dataset(name: "café ☕ 🐍") { name } }'}
    )
    assert response.status_code == 200
    (error,) = body(response)["errors"]
    assert (error["extensions"]["code"], error["message"]) == (
        "NOT_FOUND",
        "dataset 'café ☕ 🐍' does not exist",
    )


async def test_raw_bytes_in_a_query_string(engine: Engine) -> None:
    # httpx percent-encodes everything; a hand-written client (or a proxy) may not.
    app = create_app(engine, auth=Authenticator(engine, local_admin=True))
    messages: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        messages.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"query=\xff",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "root_path": "",
    }
    await app(scope, receive, send)
    assert messages[0]["status"] == 400
    (error,) = orjson.loads(messages[1]["body"])["errors"]
    assert error == {
        "message": "the query parameter 'query' is not valid UTF-8 in its value "
        "(byte 0xff at offset 0, percent-decoded)",
        "extensions": {"code": "BAD_REQUEST"},
    }


async def test_a_multipart_body_is_415_unread(small: httpx.AsyncClient) -> None:
    parts = Chunks(
        b'--x\r\nContent-Disposition: form-data; name="operations"\r\n\r\n'
        b'{"query": "\xff"}\r\n--x--\r\n'
    )
    response = await small.post(
        "/graphql", content=parts, headers={"content-type": "multipart/form-data; boundary=x"}
    )
    assert refused(response) == (415, "UNSUPPORTED_MEDIA_TYPE", "Unsupported content type")
    assert parts.pulled == 0


# --- lone surrogates, escaped in valid UTF-8 JSON ----------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        b'{"query": "{ __type(name: \\"\\ud800\\") { name } }"}',
        b'{"query": "{ \\"\\udfff\\" }"}',
        b'{"query": "# \\ud800\\n{ datasets { name } }"}',
        b'{"query": "{ datasets { name } }", "operationName": "\\ud800"}',
        b'{"query": "query \\ud800 { datasets { name } }"}',
        b'{"query": "query($n: String!) { dataset(name: $n) { name } }", '
        b'"variables": {"n": "a\\ud800"}}',
        b'{"query": "query($n: Int!) { __typename }", "variables": {"n": "\\ud800"}}',
        b'{"query": "{ datasets { name } }", "variables": {"\\ud800": 1}}',
        b'{"query": "{ datasets { name } }", "extensions": {"\\ud800": "\\udc00"}}',
        b'{"query": "{ datasets { name } }", "\\ud800": 1}',
    ],
)
async def test_lone_surrogate_escapes_never_make_a_500(
    client: httpx.AsyncClient, content: bytes
) -> None:
    response = await client.post("/graphql", content=content, headers=JSON_TYPE)
    assert response.status_code in (200, 400)
    answer = body(response)  # valid UTF-8 JSON, whatever it echoes
    for error in answer.get("errors") or []:
        assert error["extensions"]["code"] not in (None, "INTERNAL_SERVER_ERROR"), error


async def test_a_surrogate_pair_escape_is_one_character(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql",
        content=b'{"query": "{ dataset(name: \\"\\ud83d\\udc0d\\") { name } }"}',
        headers=JSON_TYPE,
    )
    (error,) = body(response)["errors"]
    assert (error["extensions"]["code"], error["message"]) == (
        "NOT_FOUND",
        "dataset '🐍' does not exist",
    )


async def test_every_refusal_is_typed(client: httpx.AsyncClient) -> None:
    cases = [
        (client.put("/graphql", json={"query": "{ datasets { name } }"}), 405),
        (client.get("/graphql", params={"query": 'mutation { deleteDataset(name: "x") }'}), 405),
        (client.post("/graphql", content=b"{", headers=JSON_TYPE), 400),
        (client.post("/graphql", json={}), 400),
        (client.post("/graphql", json={"query": 1}), 400),
        (client.post("/graphql", content=QUERY, headers={"content-type": "text/plain"}), 415),
        (client.post("/graphql", content=QUERY, headers={**JSON_TYPE, "accept": "text/csv"}), 406),
    ]
    codes = {
        400: "BAD_REQUEST",
        405: "METHOD_NOT_ALLOWED",
        406: "NOT_ACCEPTABLE",
        415: "UNSUPPORTED_MEDIA_TYPE",
    }
    for request, status in cases:
        response = await request
        assert refused(response)[:2] == (status, codes[status]), response.content


# --- the body size limit -----------------------------------------------------------------------


async def test_a_body_at_the_limit_is_answered_one_byte_more_is_413(
    small: httpx.AsyncClient,
) -> None:
    at = await small.post("/graphql", content=padded(LIMIT), headers=JSON_TYPE)
    assert (at.status_code, body(at)) == (200, {"data": {"datasets": []}})
    over = await small.post("/graphql", content=padded(LIMIT + 1), headers=JSON_TYPE)
    assert over.headers["content-type"] == "application/json"
    assert body(over) == {
        "errors": [
            {
                "message": "the request body is 1025 bytes; at most 1024 are allowed "
                "(setting TRAININGDB_MAX_REQUEST_BYTES)",
                "extensions": {"code": "PAYLOAD_TOO_LARGE"},
            }
        ]
    }
    assert over.status_code == 413


async def test_a_content_length_over_the_limit_is_refused_before_reading(
    small: httpx.AsyncClient,
) -> None:
    chunks = Chunks(padded(100 * CHUNK))
    response = await small.post(
        "/graphql",
        content=chunks,
        headers={**JSON_TYPE, "content-length": str(len(chunks.data))},
    )
    assert refused(response) == (
        413,
        "PAYLOAD_TOO_LARGE",
        "the request body is 25600 bytes; at most 1024 are allowed "
        "(setting TRAININGDB_MAX_REQUEST_BYTES)",
    )
    assert chunks.pulled == 0


async def test_a_chunked_body_is_counted_as_it_comes(small: httpx.AsyncClient) -> None:
    at = Chunks(padded(LIMIT))
    request = small.build_request("POST", "/graphql", content=at, headers=JSON_TYPE)
    assert "content-length" not in request.headers
    assert request.headers["transfer-encoding"] == "chunked"
    response = await small.send(request)
    assert (response.status_code, body(response)) == (200, {"data": {"datasets": []}})
    over = await small.post("/graphql", content=Chunks(padded(LIMIT + 1)), headers=JSON_TYPE)
    assert refused(over) == (
        413,
        "PAYLOAD_TOO_LARGE",
        "the request body is at least 1025 bytes; at most 1024 are allowed "
        "(setting TRAININGDB_MAX_REQUEST_BYTES)",
    )


async def test_a_long_chunked_body_stops_being_read_past_the_limit(
    small: httpx.AsyncClient,
) -> None:
    chunks = Chunks(padded(100 * CHUNK))
    response = await small.post("/graphql", content=chunks, headers=JSON_TYPE)
    assert refused(response)[:2] == (413, "PAYLOAD_TOO_LARGE")
    # The chunk that passes the limit is the last one read: 4 of 256 bytes fit in 1024.
    assert chunks.pulled == LIMIT // CHUNK + 1


async def test_the_default_limit_is_8_mib(client: httpx.AsyncClient) -> None:
    at = await client.post("/graphql", content=padded(8 * MIB), headers=JSON_TYPE)
    assert (at.status_code, body(at)) == (200, {"data": {"datasets": []}})
    over = await client.post("/graphql", content=padded(10 * MIB), headers=JSON_TYPE)
    assert refused(over) == (
        413,
        "PAYLOAD_TOO_LARGE",
        "the request body is 10485760 bytes; at most 8388608 are allowed "
        "(setting TRAININGDB_MAX_REQUEST_BYTES)",
    )


async def test_the_setting_sets_the_served_limit(
    database_url: URL, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # app_from_env is what each `serve --workers N` process runs: the setting from its
    # environment reaches the endpoint.
    monkeypatch.setenv("TRAININGDB_DATABASE_URL", database_url.render_as_string(False))
    monkeypatch.setenv("TRAININGDB_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TRAININGDB_LOCAL_ADMIN", "1")
    monkeypatch.setenv("TRAININGDB_MAX_REQUEST_BYTES", "100")
    app = app_from_env()
    async with app.router.lifespan_context(app), client_for(app) as http:
        at = await http.post("/graphql", content=padded(100), headers=JSON_TYPE)
        assert (at.status_code, body(at)) == (200, {"data": {"datasets": []}})
        over = await http.post("/graphql", content=padded(101), headers=JSON_TYPE)
        assert refused(over)[:2] == (413, "PAYLOAD_TOO_LARGE")
        assert "at most 100 are allowed" in refused(over)[2]
