"""What every blob store does, checked on each backend: content addressing, streaming,
deduplication, missing blobs, key validation, and nothing left behind by a failed write."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from trainingdb.server.blobs import (
    CHUNK_SIZE,
    BlobNotFoundError,
    BlobStore,
    LocalBlobStore,
    StoredBlob,
)

from .conftest import stored


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def layout(digest: str) -> str:
    return f"{digest[:2]}/{digest[2:4]}/{digest}"


def test_bytes_round_trip(store: BlobStore) -> None:
    blob = store.put_bytes(b"hello")
    digest = sha(b"hello")
    assert (blob.sha256, blob.size) == (digest, 5)
    assert blob.storage_key.endswith(layout(digest))
    assert stored(store) == [layout(digest)]
    assert store.exists(digest)
    with store.open(digest) as stream:
        assert stream.read() == b"hello"


def test_empty_blob(store: BlobStore) -> None:
    blob = store.put_stream([])
    assert (blob.sha256, blob.size) == (sha(b""), 0)
    with store.open(blob.sha256) as stream:
        assert stream.read() == b""


def test_multi_chunk_stream_and_file(store: BlobStore, tmp_path: Path) -> None:
    chunks = [bytes([i]) * CHUNK_SIZE for i in range(3)] + [b"tail"]
    data = b"".join(chunks)
    from_stream = store.put_stream(iter(chunks))
    assert from_stream.sha256 == sha(data)
    assert from_stream.size == len(data) > 3 * CHUNK_SIZE
    with store.open(from_stream.sha256) as stream:
        assert stream.read(CHUNK_SIZE) == chunks[0]
        assert stream.read() == b"".join(chunks[1:])
    source = tmp_path / "source.bin"
    source.write_bytes(data)
    assert store.put_file(source) == from_stream
    assert stored(store) == [layout(sha(data))]


def test_a_stream_larger_than_a_part(store: BlobStore) -> None:
    """Above S3's multipart threshold: uploaded in parts, stored whole."""
    chunks = [bytes([i % 251]) * CHUNK_SIZE for i in range(20)]
    blob = store.put_stream(iter(chunks))
    assert blob == StoredBlob(sha(b"".join(chunks)), 20 * CHUNK_SIZE, blob.storage_key)
    with store.open(blob.sha256) as stream:
        assert hashlib.sha256(stream.read()).hexdigest() == blob.sha256
    assert stored(store) == [layout(blob.sha256)]


def test_same_content_is_stored_once(store: BlobStore) -> None:
    first, second = store.put_bytes(b"x" * 100), store.put_stream([b"x" * 40, b"x" * 60])
    assert first == second
    assert stored(store) == [layout(first.sha256)]


def test_concurrent_writers_of_the_same_bytes(store: BlobStore) -> None:
    data = b"same picture" * 10_000
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = set(pool.map(lambda _: store.put_stream([data]), range(16)))
    assert len(results) == 1
    (blob,) = results
    assert stored(store) == [layout(blob.sha256)]
    with store.open(blob.sha256) as stream:
        assert stream.read() == data


def test_missing_blob(store: BlobStore) -> None:
    missing = "0" * 64
    with pytest.raises(BlobNotFoundError, match=f"^blob {missing} is not in the store$") as info:
        store.open(missing)
    assert isinstance(info.value, LookupError)
    assert info.value.sha256 == missing
    assert not store.exists(missing)


@pytest.mark.parametrize(
    "bad",
    ["../etc/passwd", "../" + "a" * 61, "A" * 64, "ab" * 10, "g" * 64, "a" * 64 + "\n", ""],
)
def test_only_sha256_keys_reach_the_store(store: BlobStore, bad: str) -> None:
    for call in (store.open, store.exists, store.path_or_key):
        with pytest.raises(ValueError, match="not a sha256") as info:
            call(bad)
        assert repr(bad) in str(info.value)
    with pytest.raises(ValueError, match="not a sha256"):
        store.direct_url(bad, 60)


def test_a_failed_write_leaves_nothing(store: BlobStore) -> None:
    def broken() -> Iterator[bytes]:
        yield b"partial data" * CHUNK_SIZE
        raise OSError("source went away")

    with pytest.raises(OSError, match="source went away"):
        store.put_stream(broken())
    assert stored(store) == []
    assert not store.exists(sha(b"partial data" * CHUNK_SIZE))


def test_direct_urls(store: BlobStore) -> None:
    blob = store.put_bytes(b"picture bytes")
    url = store.direct_url(blob.sha256, 60)
    if isinstance(store, LocalBlobStore):
        assert url is None  # a folder has no URL: the server serves the bytes itself
    else:
        assert url is not None
        assert httpx.get(url).content == b"picture bytes"
