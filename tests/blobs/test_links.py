"""Signed blob links: PostgreSQL computes exactly the HMAC Python computes, and a link is refused
once tampered with or expired."""

from __future__ import annotations

import hashlib
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, literal, select

from trainingdb.graphql_schema.links import BlobLinks

SHAS = st.binary(min_size=1, max_size=8).map(lambda b: hashlib.sha256(b).hexdigest())


@settings(max_examples=40, deadline=None)
@given(
    secret=st.binary(min_size=16, max_size=200), sha=SHAS, base=st.sampled_from(["", "http://h:8"])
)
def test_sql_links_equal_python_links(engine: Engine, secret: bytes, sha: str, base: str) -> None:
    links = BlobLinks(secret, base_url=base, now=1_700_000_000)
    with engine.connect() as conn:
        printed = conn.scalar(select(links.sql_url(literal(sha))))
    assert printed == f'"{links.url(sha)}"'


def test_links_verify_and_expire() -> None:
    links = BlobLinks(b"0123456789abcdef", now=1000.0, ttl=60)
    sha = "a" * 64
    expires = links.expires
    good = links.signature(sha, expires)
    assert links.verify(sha, expires, good, now=1059) is None
    assert links.verify(sha, expires, good, now=1061) == "the link has expired"
    forged = "the link's signature does not match"
    assert links.verify(sha, expires + 3600, good, now=1000) == forged
    assert links.verify("b" * 64, expires, good, now=1000) == forged
    tampered = good[:-1] + ("1" if good.endswith("0") else "0")
    assert links.verify(sha, expires, tampered, now=1000) == forged
    assert BlobLinks(b"another secret!!", now=1000.0).verify(sha, expires, good, 1000) == forged


@pytest.mark.parametrize("ttl", [1, 3600])
def test_a_link_names_its_expiry(ttl: int) -> None:
    now = time.time()
    url = BlobLinks(b"0123456789abcdef", base_url="http://x", ttl=ttl, now=now).url("c" * 64)
    assert url.startswith(f"http://x/blobs/{'c' * 64}?expires={int(now) + ttl}&signature=")
