"""The HTTP side of the client: one httpx connection pool, POSTing GraphQL documents to
`/graphql` and turning every answer that is not data into a typed exception.

The client asks for `application/graphql-response+json` (GraphQL over HTTP), so a document that
does not validate is a 400 with its errors; `application/json` is accepted too, for a server or
proxy that answers only that. The API key travels on each GraphQL request, never on the
connection pool, so a download following a redirect to a blob store carries no key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import httpx
import orjson

from .errors import ConnectionFailed, ServerError, Unauthenticated, error_from

ACCEPT = "application/graphql-response+json, application/json;q=0.9"

# Failures after which a read is sent once more: the request may not have reached the server,
# or the connection broke under it (a pooled keep-alive connection the server had closed).
RETRIED = (httpx.NetworkError, httpx.RemoteProtocolError, httpx.ConnectTimeout)

# The first keyword of a document, after comments and white space: `query`, `mutation`,
# `subscription`, or `{` for a query without a keyword.
_OPERATION = re.compile(r"\A(?:\s|,|#[^\n]*\n?)*(query|mutation|subscription|\{)")


def graphql_url(url: str) -> str:
    """graphql_url: the `/graphql` endpoint of a server's base URL (or of the endpoint's URL
    itself); ValueError for a URL that is not http(s)://host[...]."""
    parsed = httpx.URL(url)
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ValueError(f"url: expected http(s)://host[:port], not {url!r}")
    path = parsed.path.rstrip("/")
    if not path.endswith("/graphql"):
        path += "/graphql"
    return str(parsed.copy_with(path=path, query=None, fragment=None))


def operation_of(document: str) -> str | None:
    """operation_of: `query`, `mutation` or `subscription`, judged by the document's first
    keyword; None when it opens otherwise (with a fragment, say)."""
    found = _OPERATION.match(document)
    if found is None:
        return None
    return "query" if found.group(1) == "{" else found.group(1)


class Session:
    """A connection pool to one server's `/graphql`, with the caller's API key."""

    def __init__(
        self,
        url: str,
        key: str | None,
        *,
        timeout: float,
        transport: httpx.BaseTransport | None,
    ) -> None:
        self.endpoint = graphql_url(url)
        if key is not None and not key.strip():
            raise ValueError("key: an empty API key; pass None to send no credentials")
        self._auth = {} if key is None else {"authorization": f"Bearer {key.strip()}"}
        self.http = httpx.Client(transport=transport, timeout=timeout)

    def execute(self, document: str, variables: Mapping[str, Any]) -> dict[str, Any]:
        """execute: the data of `document` run with `variables`; a typed TrainingdbError for
        any error the answer holds, or when there is no answer. A read is sent once more
        after a connection failure, a mutation never."""
        operation = operation_of(document)
        if operation == "subscription":
            raise ValueError("execute: a subscription needs a WebSocket, not an HTTP POST")
        try:
            body = orjson.dumps({"query": document, "variables": variables}, default=_plain)
        except TypeError as error:
            raise TypeError(f"variables: not JSON ({error})") from error
        headers = {"content-type": "application/json", "accept": ACCEPT, **self._auth}
        # Only a query is safe to send twice; a document of unknown kind counts as a write.
        attempts = 2 if operation == "query" else 1
        for attempt in range(1, attempts + 1):
            try:
                response = self.http.post(self.endpoint, content=body, headers=headers)
                break
            except RETRIED as error:
                if attempt < attempts:
                    continue
                raise self.unreachable(error) from error
            except httpx.HTTPError as error:
                raise self.unreachable(error) from error
        return self.answer(response)

    def unreachable(self, error: httpx.HTTPError) -> ConnectionFailed:
        """unreachable: the exception for a request that got no answer."""
        reason = str(error) or type(error).__name__
        return ConnectionFailed(f"{self.endpoint}: {reason}", "CONNECTION_FAILED")

    def answer(self, response: httpx.Response) -> dict[str, Any]:
        """answer: the `data` of a GraphQL response, or the exception it calls for."""
        status = response.status_code
        try:
            body = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            body = None
        errors = body.get("errors") if isinstance(body, dict) else None
        if isinstance(errors, list) and errors:
            raise error_from(errors, status)
        what = f"{self.endpoint} answered HTTP {status}"
        if status == 401:
            raise Unauthenticated(f"{what}: the key was refused", "UNAUTHENTICATED", status=status)
        if status != 200 or not isinstance(body, dict):
            kind = response.headers.get("content-type", "no content type")
            raise ServerError(
                f"{what} ({kind}): {response.text[:200]!r}",
                f"HTTP_{status}" if status != 200 else "BAD_RESPONSE",
                status=status,
            )
        data = body.get("data")
        if not isinstance(data, dict):
            raise ServerError(f"{what} without data or errors", "BAD_RESPONSE", status=status)
        return data

    def close(self) -> None:
        """close: the connection pool's sockets."""
        self.http.close()


def _plain(value: object) -> object:
    """orjson's fallback: a mapping as a dict, a set as a list."""
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, set | frozenset):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
