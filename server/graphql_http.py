"""GraphQL over HTTP at /graphql: authentication first, then Strawberry, answering by the
GraphQL-over-HTTP specification (https://graphql.github.io/graphql-over-http/draft/).

- Media types: `application/graphql-response+json` when the client accepts it, else
  `application/json`; an Accept header that allows neither is 406.
- Status codes: a request error (the document does not parse or validate, a variable does not
  fit its type) has no `data` entry; with `application/graphql-response+json` it is 400, with
  `application/json` 200 as the specification keeps for older clients. A response with `data`
  (even null, a field error) is 200.
- Methods: queries by GET or POST, mutations by POST only (405 with `Allow: POST` over GET),
  other methods 405; a POST body that is not `application/json` is 415, one that is not JSON
  or has no query 400. These answers are JSON too, typed by their status:
  `{"errors": [{"message": ..., "extensions": {"code": "BAD_REQUEST"}}]}` (_CODE_OF).
- Hostile bytes: a body or a GET parameter that is not UTF-8 is 400 BAD_REQUEST naming the
  byte and its offset (JSON over HTTP is UTF-8; a UTF-8 byte order mark is ignored). A body
  larger than `max_request_bytes` (TRAININGDB_MAX_REQUEST_BYTES) is 413 PAYLOAD_TOO_LARGE:
  refused by its Content-Length before it is read, else once the bytes received pass the
  limit, so the server never holds more. A lone surrogate a client sent as a JSON escape
  (`\\ud800`) and an error message echoes back is answered as U+FFFD, as UTF-8 cannot carry it.
- Authentication (server/auth.py): without valid credentials 401 UNAUTHENTICATED before
  Strawberry sees the request. The GraphiQL page (a browser's GET for HTML) needs no
  credentials; the queries it sends do.
- Subscriptions: WebSockets speaking graphql-transport-ws (or the older graphql-ws). Browsers
  cannot set headers on a WebSocket, so one without credentials in its handshake gives them in
  its `connection_init` payload (`{"authorization": "Bearer <key>"}` or `{"x-api-key": ...}`),
  else it is closed with 4403; bad credentials in the handshake close it with 4401.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_to_bytes

import orjson
from cross_web import HTTPException
from sqlalchemy import Engine
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse
from strawberry.types.unset import UNSET, UnsetType

from trainingdb.graphql_schema import Context, schema
from trainingdb.graphql_schema.context import EventSource, Loaders
from trainingdb.graphql_schema.links import BlobLinks
from trainingdb.versioning.access.policy import Gate
from trainingdb.versioning.access.principal import NOBODY
from trainingdb.versioning.errors import UnauthenticatedError

from .auth import Authenticator, credential_of
from .settings import DEFAULT_MAX_REQUEST_BYTES, MAX_REQUEST_BYTES

NO_SOCKET_CREDENTIALS = (
    "this server needs credentials: send them in connection_init's payload "
    '({"authorization": "Bearer <API key or token>"}) or in the handshake\'s headers'
)
GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"


def dumps(data: object) -> bytes:
    """`data` as JSON; a lone surrogate in a string becomes U+FFFD."""
    try:
        return orjson.dumps(data)
    except orjson.JSONEncodeError:
        # A lone surrogate ("\ud800" in the request's JSON) is a Python str that UTF-8 cannot
        # carry; a message quoting it (Strawberry's 'Unknown operation named "..."') would be a
        # 500. Anything else orjson refuses still is: that is a bug, not the client's input.
        return orjson.dumps(without_surrogates(data))


class ORJSONResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return dumps(content)


def negotiate(accept: str | None) -> str | None:
    """negotiate: the media type to answer in for an Accept header (None: neither is
    acceptable). The specification's type wins a tie, as it asks."""
    if not accept:
        return JSON
    best: tuple[float, str] | None = None
    for item in accept.split(","):
        kind, *params = (part.strip() for part in item.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        served = {
            GRAPHQL_RESPONSE: GRAPHQL_RESPONSE,
            JSON: JSON,
            "application/*": JSON,
            "*/*": JSON,
        }.get(kind.lower())
        if served is None or quality <= 0:
            continue
        rank = (quality, served)
        if best is None or rank[0] > best[0] or (rank[0] == best[0] and served == GRAPHQL_RESPONSE):
            best = rank
    return None if best is None else best[1]


def error_body(message: str, **extensions: object) -> dict[str, Any]:
    error: dict[str, Any] = {"message": message}
    if extensions:
        error["extensions"] = extensions
    return {"errors": [error]}


# Strawberry's own refusals (raised as HTTPException with a text reason), by the status the
# specification gives them.
_STATUS_OF = {
    "mutations are not allowed when using GET": 405,
    "Unsupported content type": 415,
}
# A refusal's extensions.code, by its status: a client tells them apart without the message.
_CODE_OF = {
    400: "BAD_REQUEST",
    405: "METHOD_NOT_ALLOWED",
    406: "NOT_ACCEPTABLE",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
}
_BOM = "\ufeff"
_SURROGATE = re.compile("[\ud800-\udfff]")


def refusal(status: int, message: str) -> dict[str, Any]:
    """The body of a request refused before it executed, typed by its status."""
    return error_body(message, code=_CODE_OF.get(status, "BAD_REQUEST"))


def decode_utf8(body: bytes) -> str:
    """The text of a JSON body; HTTPException 400 naming the first byte that is not UTF-8."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise HTTPException(
            400,
            f"the request body is not valid UTF-8 "
            f"(byte 0x{body[error.start]:02x} at offset {error.start})",
        ) from None
    # RFC 8259 lets a parser ignore a byte order mark; json.loads on bytes did.
    return text.removeprefix(_BOM)


def check_query_string(query_string: bytes) -> None:
    """HTTPException 400 when a parameter of a GET's query string is not UTF-8 once
    percent-decoded. Starlette would decode it with U+FFFD in place of the bad bytes, so a
    lookup by such a name would quietly look up another one."""
    for pair in query_string.split(b"&"):
        name, _, value = pair.partition(b"=")
        shown = unquote_to_bytes(name.replace(b"+", b" ")).decode("utf-8", "replace")
        for part, what in ((name, "name"), (value, "value")):
            raw = unquote_to_bytes(part.replace(b"+", b" "))
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as error:
                raise HTTPException(
                    400,
                    f"the query parameter {shown!r} is not valid UTF-8 in its {what} "
                    f"(byte 0x{raw[error.start]:02x} at offset {error.start}, percent-decoded)",
                ) from None


def too_large(size: str, limit: int) -> HTTPException:
    return HTTPException(
        413,
        f"the request body is {size} bytes; at most {limit} are allowed "
        f"(setting {MAX_REQUEST_BYTES})",
    )


def declared_length(request: Request) -> int | None:
    """The body's Content-Length; None when absent or not a number (the bytes are counted as
    they come instead: servers reject a malformed length before the app sees it anyway)."""
    given = request.headers.get("content-length")
    if given is None or not given.isascii() or not given.isdigit():
        return None
    return int(given)


def limited(receive: Receive, limit: int) -> Receive:
    """`receive`, raising 413 as soon as the body's bytes pass `limit`: before the chunk that
    passes it joins the ones Starlette has buffered, so no more than `limit` is ever held."""
    received = 0

    async def receive_at_most() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise too_large(f"at least {received}", limit)
        return message

    return receive_at_most


def without_surrogates(data: object) -> object:
    """`data` with each lone surrogate of its strings replaced by U+FFFD."""
    if isinstance(data, str):
        return _SURROGATE.sub("\ufffd", data)
    if isinstance(data, dict):
        return {without_surrogates(k): without_surrogates(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [without_surrogates(item) for item in data]
    return data


def is_request_error(response: GraphQLHTTPResponse) -> bool:
    """is_request_error: the response of a request that never executed (parse, validation or
    variable errors): errors without a path, and no data."""
    errors: list[dict[str, Any]] = list(response.get("errors") or [])  # type: ignore[arg-type]
    return (
        bool(errors)
        and response.get("data") is None
        and all(not error.get("path") for error in errors)
    )


@dataclass
class SocketContext(Context):
    """A WebSocket's context before it has authenticated: `authenticate` turns the credentials
    of its `connection_init` payload into a gate."""

    authenticate: Callable[[Mapping[str, str]], Gate] | None = None


def _credential_headers(params: Mapping[str, Any]) -> dict[str, str]:
    """The credentials a `connection_init` payload carries, as the request headers would."""
    lowered = {str(k).lower(): v for k, v in params.items() if isinstance(v, str)}
    headers = {}
    if "authorization" in lowered:
        headers["authorization"] = lowered["authorization"]
    api_key = lowered.get("x-api-key") or lowered.get("apikey")
    if api_key:
        headers["x-api-key"] = api_key
    return headers


class GraphQLApp(GraphQL[Context, None]):
    """Strawberry's ASGI view with a per-request context, orjson encoding and the
    specification's media types and status codes."""

    def __init__(
        self,
        engine: Engine,
        secret: bytes | None = None,
        events: EventSource | None = None,
        max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES,
    ) -> None:
        super().__init__(schema, graphql_ide="graphiql")
        self.engine = engine
        self.secret = secret
        self.events = events
        self.max_request_bytes = max_request_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        # Strawberry reads the body through this request: the limit applies as it buffers.
        request = Request(scope, limited(receive, self.max_request_bytes))
        html = request.method == "GET" and "text/html" in request.headers.get("accept", "")
        media = negotiate(request.headers.get("accept"))
        if media is None and not html:
            message = f"this endpoint answers {GRAPHQL_RESPONSE} or {JSON}"
            await ORJSONResponse(refusal(406, message), status_code=406)(scope, receive, send)
            return
        scope.setdefault("state", {})["media_type"] = media or JSON
        try:
            length = declared_length(request)
            if length is not None and length > self.max_request_bytes:
                raise too_large(str(length), self.max_request_bytes)
            if request.method == "GET":
                check_query_string(scope.get("query_string", b""))
            response = await self.run(request)
        except HTTPException as refused:
            status = _STATUS_OF.get(refused.reason, refused.status_code)
            headers = {}
            if status == 405:
                get = request.method == "GET"
                headers["Allow"] = "POST" if get else "GET, POST"
            response = ORJSONResponse(
                refusal(status, refused.reason), status_code=status, headers=headers
            )
        await response(scope, receive, send)

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        links = None
        if self.secret is not None:
            links = BlobLinks(self.secret, base_url=str(request.base_url).rstrip("/"))
        request_id: str = request.state.request_id
        gate: Gate | None = request.state.gate
        if gate is None:  # a WebSocket that authenticates in its connection_init
            waiting = Gate(NOBODY)
            context = SocketContext(
                self.engine, Loaders(self.engine, waiting), waiting, links, request_id, self.events
            )
            context.authenticate = request.state.authenticate
            return context
        return Context.for_request(self.engine, gate, links, request_id, self.events)

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        if isinstance(context, SocketContext) and context.authenticate is not None:
            headers = _credential_headers(context.connection_params or {})
            if not headers:
                raise ConnectionRejectionError({"message": NO_SOCKET_CREDENTIALS})
            try:
                gate = await asyncio.to_thread(context.authenticate, headers)
            except UnauthenticatedError as error:
                raise ConnectionRejectionError({"message": error.message}) from None
            context.act_as(gate)
            context.authenticate = None
        acknowledged: UnsetType = UNSET  # a connection_ack without payload
        return acknowledged

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        sub_response = await super().get_sub_response(request)
        sub_response.media_type = getattr(request.state, "media_type", JSON)
        return sub_response

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        media = sub_response.media_type or JSON
        status = 200
        if isinstance(response_data, dict) and is_request_error(response_data):
            response_data.pop("data", None)  # the request never executed: no data entry
            if media == GRAPHQL_RESPONSE:
                status = 400
        response = super().create_response(response_data, sub_response)
        response.headers["content-type"] = f"{media}; charset=utf-8"
        if not sub_response.status_code:
            response.status_code = status
        return response

    def decode_json(self, data: str | bytes) -> object:
        # Not json.loads on bytes: it guesses UTF-16 or 32 and raises UnicodeDecodeError (a 500)
        # on bytes that are none of them. Still json, not orjson: the same numbers and nesting.
        return json.loads(decode_utf8(data) if isinstance(data, bytes) else data)

    def encode_json(self, data: object) -> bytes:
        return dumps(data)


class Authenticated:
    """ASGI wrapper: the request's gate (its principal's policy) into `scope["state"]`, or 401
    UNAUTHENTICATED."""

    def __init__(self, inner: GraphQLApp, auth: Authenticator) -> None:
        self.inner = inner
        self.auth = auth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = HTTPConnection(scope)  # an HTTP request or a WebSocket handshake
        state = scope.setdefault("state", {})
        state["request_id"] = request.headers.get("x-request-id") or uuid.uuid4().hex
        if scope["type"] == "http" and scope["method"] == "GET" and _wants_html(request):
            state["gate"] = Gate(NOBODY)  # the GraphiQL page only: no operation runs
            await self.inner(scope, receive, send)
            return
        peer = request.client.host if request.client else None
        try:
            gate = await asyncio.to_thread(self.auth.gate, request.headers, peer)
        except UnauthenticatedError as error:
            socket = scope["type"] == "websocket"
            if socket and not _presents_credentials(request.headers):
                # Credentials come in the connection_init payload (GraphQLApp.on_ws_connect).
                state["gate"] = None
                state["authenticate"] = lambda headers: self.auth.gate(headers, peer)
                await self.inner(scope, receive, send)
                return
            if socket:
                await WebSocket(scope, receive, send).close(code=4401, reason=error.message)
                return
            media = negotiate(request.headers.get("accept")) or JSON
            response = ORJSONResponse(
                error_body(error.message, code=error.code),
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer realm="trainingdb"'},
                media_type=media,
            )
            await response(scope, receive, send)
            return
        state["gate"] = gate
        await self.inner(scope, receive, send)


def _presents_credentials(headers: Mapping[str, str]) -> bool:
    try:
        return credential_of(headers) is not None
    except UnauthenticatedError:  # malformed: presented, and wrong
        return True


def _wants_html(request: HTTPConnection) -> bool:
    return "text/html" in request.headers.get("accept", "") and not request.query_params
