"""Each error class from a real server's answer: the code, the class, the message, the path,
and every error of an answer with several."""

from __future__ import annotations

import base64
import uuid

import pytest

from tests.client.conftest import Live
from tests.clirun import free_port
from trainingdb.client import (
    Client,
    Conflict,
    ConnectionFailed,
    Forbidden,
    InvalidDocument,
    InvalidFilter,
    InvalidInput,
    NotFound,
    Unauthenticated,
    Unavailable,
)

pytestmark = pytest.mark.slow


def global_id(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_not_found_for_what_is_missing_or_unreadable(live: Live) -> None:
    with live.client() as admin, live.client(live.viewer) as viewer:
        with pytest.raises(NotFound) as missing:
            admin.dataset("nope")
        assert (missing.value.code, missing.value.path) == ("NOT_FOUND", ("dataset",))
        assert "'nope'" in missing.value.message
        assert viewer.dataset("birds").name == "birds"
        with pytest.raises(NotFound):  # exists, but not granted: answered as missing
            viewer.dataset("hidden")
        with pytest.raises(NotFound):
            list(admin.files("birds", "no-such-branch"))


def test_several_errors_raise_the_first_and_keep_all(live: Live) -> None:
    document = "query ($ids: [ID!]!) { nodes(ids: $ids) { nodeId } }"
    with live.client() as client, pytest.raises(InvalidInput) as both:
        client.execute(document, ids=["not-an-id", global_id(f"File:{uuid.UUID(int=0)}@main"), "x"])
    assert [(e.code, e.path) for e in both.value.errors] == [
        ("BAD_USER_INPUT", ("nodes", 0)),
        ("NOT_FOUND", ("nodes", 1)),
        ("BAD_USER_INPUT", ("nodes", 2)),
    ]
    first = both.value.errors[0]
    assert (both.value.message, both.value.path) == (first.message, first.path)
    assert "'not-an-id'" in first.message
    assert str(both.value).endswith(" (and 2 more errors on .errors)")


def test_forbidden_for_a_role_that_does_not_allow_it(live: Live) -> None:
    with live.client(live.viewer) as viewer, pytest.raises(Forbidden) as refused:
        viewer.create_branch("birds", "mine")
    assert refused.value.code == "FORBIDDEN"
    assert "editor" in refused.value.message


def test_unauthenticated_without_a_valid_key(live: Live) -> None:
    for key in ("tdb_nope_nope", None):
        with Client(live.server.url, key) as client, pytest.raises(Unauthenticated) as refused:
            client.datasets()
        assert (refused.value.code, refused.value.status) == ("UNAUTHENTICATED", 401)


def test_invalid_input_and_invalid_filter(live: Live) -> None:
    with live.client() as client:
        with pytest.raises(InvalidInput) as bad:
            client.commits("birds", first=0)
        assert (type(bad.value), bad.value.code) == (InvalidInput, "BAD_USER_INPUT")
        with pytest.raises(InvalidInput) as mistyped:  # a variable that does not fit its type
            list(client.instances("birds", where={"score": {"_gt": "high"}}))
        assert mistyped.value.code == "BAD_USER_INPUT"
        assert "high" in mistyped.value.message
        with pytest.raises(InvalidFilter) as text:
            list(client.instances("birds", query="scor > 3"))
        assert text.value.code == "INVALID_FILTER"
        assert text.value.message.startswith("query: line 1, column 1: instances have no field")
        with pytest.raises(InvalidInput) as vocabulary:  # InvalidFilter is an InvalidInput
            list(client.files("birds", where={"mediaType": {"_eq": "hologram"}}))
        assert vocabulary.value.code == "INVALID_FILTER"


def test_conflict_and_invalid_document(live: Live) -> None:
    with live.client() as client:
        with pytest.raises(Conflict) as taken:
            client.create_dataset("birds")
        assert taken.value.code == "CONFLICT"
        with pytest.raises(InvalidDocument) as invalid:
            client.execute("{ nope }")
        assert (invalid.value.code, invalid.value.status) == ("GRAPHQL_VALIDATION_FAILED", 400)
        with pytest.raises(InvalidDocument) as broken:
            client.execute("{ datasets { name }")
        assert broken.value.code == "GRAPHQL_PARSE_FAILED"


def test_a_server_that_is_not_there() -> None:
    client = Client(f"http://127.0.0.1:{free_port()}", "tdb_x_y", timeout=5)
    with client, pytest.raises(ConnectionFailed) as unreachable:
        client.datasets()
    assert isinstance(unreachable.value, Unavailable)  # worth trying again later
    assert unreachable.value.code == "CONNECTION_FAILED"
    assert client.url in unreachable.value.message
