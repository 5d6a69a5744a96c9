"""The local blob store: content addressing, streaming, dedup, and nothing left by a failure."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from trainingdb.server.blobs import (
    BlobNotFoundError,
    LocalBlobStore,
    open_blob_store,
    parse_blob_url,
)
from trainingdb.server.blobs.base import CHUNK_SIZE
from trainingdb.server.settings import SettingsError


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_bytes_round_trip(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    stored = store.put_bytes(b"hello")
    sha = hashlib.sha256(b"hello").hexdigest()
    assert (stored.sha256, stored.size) == (sha, 5)
    assert stored.storage_key == f"{sha[:2]}/{sha[2:4]}/{sha}"
    assert store.exists(sha)
    with store.open(sha) as stream:
        assert stream.read() == b"hello"


def test_large_stream_and_file(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    chunks = [bytes([i]) * CHUNK_SIZE for i in range(3)] + [b"tail"]
    data = b"".join(chunks)
    from_stream = store.put_stream(iter(chunks))
    assert from_stream.sha256 == hashlib.sha256(data).hexdigest()
    assert from_stream.size == len(data)
    source = tmp_path / "source.bin"
    source.write_bytes(data)
    assert store.put_file(source) == from_stream


def test_same_content_is_stored_once(tmp_path: Path) -> None:
    root = tmp_path / "blobs"
    store = LocalBlobStore(root)
    first, second = store.put_bytes(b"x" * 100), store.put_bytes(b"x" * 100)
    assert first == second
    assert files_under(root) == [root / first.storage_key]


def test_missing_blob(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    with pytest.raises(BlobNotFoundError, match=r"0{64} is not in the store"):
        store.open("0" * 64)
    assert not store.exists("0" * 64)


@pytest.mark.parametrize("bad", ["../../etc/passwd", "A" * 64, "ab" * 10, "g" * 64])
def test_only_sha256_keys_reach_the_filesystem(tmp_path: Path, bad: str) -> None:
    store = LocalBlobStore(tmp_path)
    with pytest.raises(ValueError, match="not a sha256"):
        store.open(bad)
    with pytest.raises(ValueError, match="not a sha256"):
        store.exists(bad)


def test_a_failed_write_leaves_nothing(tmp_path: Path) -> None:
    root = tmp_path / "blobs"
    store = LocalBlobStore(root)

    def broken() -> Iterator[bytes]:
        yield b"partial data"
        raise OSError("source went away")

    with pytest.raises(OSError, match="source went away"):
        store.put_stream(broken())
    assert files_under(root) == []


def test_blob_urls(tmp_path: Path) -> None:
    assert parse_blob_url("file:///srv/blobs", tmp_path) == Path("/srv/blobs")
    assert parse_blob_url("file://blobs", tmp_path) == tmp_path / "blobs"
    assert parse_blob_url("file://media/blobs", tmp_path) == tmp_path / "media/blobs"
    assert parse_blob_url((tmp_path / "a b").as_uri(), tmp_path) == tmp_path / "a b"
    assert open_blob_store("file://x", tmp_path).root == tmp_path / "x"


@pytest.mark.parametrize("url", ["s3://bucket/prefix", "http://host/blobs", "/plain/path"])
def test_unsupported_blob_urls(tmp_path: Path, url: str) -> None:
    with pytest.raises(
        SettingsError, match=rf"^TRAININGDB_BLOB_URL: unsupported blob store '{url}'"
    ):
        parse_blob_url(url, tmp_path)
