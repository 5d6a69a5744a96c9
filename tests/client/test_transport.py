"""The client's HTTP edge without a server, through httpx.MockTransport: what it does with
answers a healthy trainingdb never gives (a proxy's HTML, a repeated cursor, a malformed node),
when it sends a request again, the URL it talks to, and argument checks before anything is sent.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from trainingdb.client import (
    Client,
    ConnectionFailed,
    InstanceInput,
    Job,
    JobTimeout,
    ServerError,
    TrainingdbError,
    Unauthenticated,
)
from trainingdb.client.http import graphql_url

Handler = Callable[[httpx.Request], httpx.Response]


class Recorder:
    """A MockTransport handler: answers with `handler`, keeping every request."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.handler(request)

    def client(self, key: str | None = "tdb_k_s") -> Client:
        return Client("http://db.example:8000", key, transport=httpx.MockTransport(self))


def data(payload: dict[str, Any]) -> Handler:
    return lambda request: httpx.Response(200, json={"data": payload})


def job_json(status: str) -> dict[str, Any]:
    return {
        "id": "7", "dataset": "birds", "kind": "EXPORT", "status": status, "total": 10,
        "done": 3, "failed": 0, "errors": [], "result": None, "message": "", "download": None,
        "finishedAt": None,
    }  # fmt: skip


def test_the_url_is_the_servers_graphql_endpoint() -> None:
    for given in (
        "http://h:8000",
        "http://h:8000/",
        "http://h:8000/graphql",
        "http://h:8000/graphql/",
    ):
        assert graphql_url(given) == "http://h:8000/graphql"
    assert graphql_url("https://h/tdb/") == "https://h/tdb/graphql"
    for bad in ("h:8000", "ftp://h/", "http:///graphql"):
        with pytest.raises(ValueError, match="http"):
            graphql_url(bad)


def test_the_key_goes_with_graphql_requests_only(tmp_path: Path) -> None:
    recorder = Recorder(data({"datasets": []}))
    with recorder.client() as client:
        assert client.datasets() == []
    with recorder.client(None) as anonymous:
        anonymous.datasets()
    sent, unsent = recorder.requests
    assert sent.headers["authorization"] == "Bearer tdb_k_s"
    assert "authorization" not in unsent.headers
    assert sent.headers["accept"].startswith("application/graphql-response+json")
    assert json.loads(sent.content)["variables"] == {}

    blob = Recorder(lambda request: httpx.Response(200, content=b"bytes"))
    with blob.client() as client:
        got = client.download("/files/x", tmp_path / "new" / "x.bin")
    assert got.read_bytes() == b"bytes"
    assert "authorization" not in blob.requests[0].headers  # a signed link is its own credential
    assert str(blob.requests[0].url) == "http://db.example:8000/files/x"


def test_a_read_is_sent_again_once_after_a_connection_failure() -> None:
    failures: list[Exception] = []

    def flaky(request: httpx.Request) -> httpx.Response:
        if failures:
            raise failures.pop(0)
        return httpx.Response(200, json={"data": {"datasets": []}})

    recorder = Recorder(flaky)
    with recorder.client() as client:
        failures[:] = [httpx.ConnectError("refused"), httpx.ConnectError("refused")]
        with pytest.raises(ConnectionFailed, match="refused"):
            client.datasets()  # given up after the one retry
        failures[:] = [httpx.RemoteProtocolError("server disconnected")]
        assert client.datasets() == []
        assert len(recorder.requests) == 4
        failures[:] = [httpx.ConnectError("refused")]
        with pytest.raises(ConnectionFailed):
            client.commit("birds", "main", "never twice")
    assert len(recorder.requests) == 5  # the mutation was sent once
    assert failures == []


def test_answers_that_are_not_graphql() -> None:
    proxy = Recorder(lambda r: httpx.Response(502, text="<html>Bad Gateway</html>"))
    with proxy.client() as client, pytest.raises(ServerError) as bad_gateway:
        client.datasets()
    assert (bad_gateway.value.code, bad_gateway.value.status) == ("HTTP_502", 502)
    assert "Bad Gateway" in bad_gateway.value.message

    bare = Recorder(lambda r: httpx.Response(401))
    with bare.client() as client, pytest.raises(Unauthenticated):
        client.datasets()

    empty = Recorder(lambda r: httpx.Response(200, json={"data": None}))
    with empty.client() as client, pytest.raises(ServerError, match="without data"):
        client.datasets()

    newer = Recorder(
        lambda r: httpx.Response(
            200, json={"data": None, "errors": [{"message": "m", "extensions": {"code": "TEAPOT"}}]}
        )
    )
    with newer.client() as client, pytest.raises(TrainingdbError) as unknown:
        client.datasets()
    assert (type(unknown.value), unknown.value.code) == (TrainingdbError, "TEAPOT")


def page(cursor: str | None, more: bool, nodes: list[Any]) -> dict[str, Any]:
    info = {"hasNextPage": more, "endCursor": cursor}
    return {"dataset": {"labels": {"pageInfo": info, "nodes": nodes}}}


LABEL = {"id": "1", "name": "car", "color": "#888888", "description": "", "attributeSchema": {}}


def test_a_repeated_cursor_or_a_malformed_row_stops_with_a_server_error() -> None:
    looping = Recorder(data(page("c1", True, [LABEL])))
    with looping.client() as client, pytest.raises(ServerError, match="cursor 'c1' twice"):
        client.labels("birds")
    assert len(looping.requests) == 2

    malformed = Recorder(data(page(None, False, [{**LABEL, "name": None}])))
    with malformed.client() as client, pytest.raises(ServerError) as bad:
        client.labels("birds")
    assert bad.value.code == "BAD_RESPONSE"
    assert "labels: cannot read the answer" in bad.value.message

    no_cursor = Recorder(data(page(None, True, [LABEL])))
    with no_cursor.client() as client, pytest.raises(ServerError, match="endCursor is null"):
        client.labels("birds")


def test_wait_gives_up_after_its_timeout() -> None:
    running = Recorder(data({"job": job_json("RUNNING")}))
    seen: list[Job] = []
    with running.client() as client, pytest.raises(JobTimeout) as late:
        client.wait("7", poll=0.01, timeout=0.05, on_progress=seen.append)
    assert isinstance(late.value, TimeoutError)
    assert late.value.job.status == "RUNNING"
    assert "job 7 (EXPORT) is still RUNNING after 0.05 s (3/10 done)" in late.value.message
    assert len(seen) == 1  # one state, reported once however often it was polled
    assert len(running.requests) >= 2


def test_bad_arguments_fail_before_anything_is_sent() -> None:
    nothing = Recorder(data({}))
    with nothing.client() as client:
        with pytest.raises(ValueError, match="page_size: between 1 and 10000, not 0"):
            client.instances("birds", page_size=0)
        with pytest.raises(ValueError, match="batch_size: between 1 and 50000, not 50001"):
            client.create_instances("birds", "main", [], batch_size=50_001)
        rows: list[Any] = [InstanceInput(file_id="f", kind="box"), ("not", "a", "row")]
        with pytest.raises(TypeError, match=r"rows\[1\]: expected a mapping .* got tuple"):
            client.create_instances("birds", "main", rows)
        with pytest.raises(ValueError, match="only a succeeded export"):
            client.download(Job.from_json(job_json("RUNNING")), "x")
        with pytest.raises(ValueError, match="subscription"):
            client.execute("subscription { jobProgress(id: 1) { id } }")
        with pytest.raises(ValueError, match="key: an empty API key"):
            Client("http://h", " ")
    assert nothing.requests == []
