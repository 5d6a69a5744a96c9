"""The local blob store: content addressing, streaming, dedup, and nothing left by a failure."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from trainingdb.server.blobs import (
    CHUNK_SIZE,
    BlobNotFoundError,
    BlobUrlError,
    LocalBlobStore,
    StoredBlob,
    open_blob_store,
    parse_blob_url,
)
from trainingdb.server.settings import SettingsError


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_bytes_round_trip_and_layout(tmp_path: Path) -> None:
    root = tmp_path / "not" / "yet" / "there"
    store = LocalBlobStore(root)
    stored = store.put_bytes(b"hello")
    digest = sha(b"hello")
    assert stored == StoredBlob(
        sha256=digest, size=5, storage_key=f"{digest[:2]}/{digest[2:4]}/{digest}"
    )
    assert store.path_or_key(digest) == str(root / digest[:2] / digest[2:4] / digest)
    assert files_under(root) == [root / stored.storage_key]
    assert store.exists(digest)
    with store.open(digest) as stream:
        assert stream.read() == b"hello"


def test_empty_blob(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    stored = store.put_stream([])
    assert (stored.sha256, stored.size) == (sha(b""), 0)
    with store.open(stored.sha256) as stream:
        assert stream.read() == b""


def test_multi_chunk_stream_and_file(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
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


def test_stream_goes_to_disk_as_it_arrives(tmp_path: Path) -> None:
    """Each chunk is on disk (in a temporary file in the root) before the next is asked for."""
    root = tmp_path / "blobs"
    store = LocalBlobStore(root)
    sizes_seen: list[list[int]] = []

    def chunks() -> Iterator[bytes]:
        for i in range(3):
            yield bytes([i]) * CHUNK_SIZE
            sizes_seen.append([p.stat().st_size for p in files_under(root)])

    store.put_stream(chunks())
    assert sizes_seen == [[CHUNK_SIZE], [2 * CHUNK_SIZE], [3 * CHUNK_SIZE]]


def test_same_content_is_stored_once(tmp_path: Path) -> None:
    root = tmp_path / "blobs"
    store = LocalBlobStore(root)
    first, second = store.put_bytes(b"x" * 100), store.put_stream([b"x" * 40, b"x" * 60])
    assert first == second
    assert files_under(root) == [root / first.storage_key]


def test_concurrent_writers_of_the_same_bytes(tmp_path: Path) -> None:
    root = tmp_path / "blobs"
    store = LocalBlobStore(root)
    data = b"same picture" * 10_000
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = set(pool.map(lambda _: store.put_bytes(data), range(16)))
    assert len(results) == 1
    (stored,) = results
    assert files_under(root) == [root / stored.storage_key]
    assert (root / stored.storage_key).read_bytes() == data


def test_missing_blob(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "never-written")
    missing = "0" * 64
    with pytest.raises(BlobNotFoundError, match=f"^blob {missing} is not in the store$") as info:
        store.open(missing)
    assert isinstance(info.value, LookupError)
    assert info.value.sha256 == missing
    assert not store.exists(missing)


@pytest.mark.parametrize(
    "bad",
    [
        "../etc/passwd",
        "../" + "a" * 61,  # the right length is not enough
        "A" * 64,
        "ab" * 10,
        "g" * 64,
        "a" * 64 + "\n",
        "",
    ],
)
def test_only_sha256_keys_reach_the_filesystem(tmp_path: Path, bad: str) -> None:
    store = LocalBlobStore(tmp_path)
    with pytest.raises(ValueError, match="not a sha256") as info:
        store.open(bad)
    assert repr(bad) in str(info.value)
    with pytest.raises(ValueError, match="not a sha256"):
        store.exists(bad)
    with pytest.raises(ValueError, match="not a sha256"):
        store.path_or_key(bad)


def test_a_failed_write_leaves_nothing(tmp_path: Path) -> None:
    root = tmp_path / "blobs"
    store = LocalBlobStore(root)

    def broken() -> Iterator[bytes]:
        yield b"partial data" * CHUNK_SIZE
        raise OSError("source went away")

    with pytest.raises(OSError, match="source went away"):
        store.put_stream(broken())
    assert files_under(root) == []
    assert not store.exists(sha(b"partial data" * CHUNK_SIZE))


def test_blob_urls(tmp_path: Path) -> None:
    assert parse_blob_url("file:///srv/blobs", tmp_path) == Path("/srv/blobs")
    assert parse_blob_url("file://blobs", tmp_path) == tmp_path / "blobs"
    assert parse_blob_url("file://media/blobs", tmp_path) == tmp_path / "media/blobs"
    assert parse_blob_url("file:media/blobs", tmp_path) == tmp_path / "media/blobs"
    assert parse_blob_url((tmp_path / "a b").as_uri(), tmp_path) == tmp_path / "a b"
    assert open_blob_store("file://x", tmp_path).root == tmp_path / "x"


@pytest.mark.parametrize(
    "url", ["s3://bucket/prefix", "http://host/blobs", "/plain/path", "blobs", "ftp://host/x"]
)
def test_unsupported_blob_urls(tmp_path: Path, url: str) -> None:
    with pytest.raises(BlobUrlError) as info:
        open_blob_store(url, tmp_path)
    # The CLI reports SettingsErrors as one-line user errors; other callers see a ValueError.
    assert isinstance(info.value, SettingsError)
    assert isinstance(info.value, ValueError)
    message = str(info.value)
    assert message.startswith(f"TRAININGDB_BLOB_URL: unsupported blob store {url!r}; ")
    assert "file://PATH" in message
    assert "s3://bucket/prefix" in message
    assert "not available in this version" in message
    assert "\n" not in message


@pytest.mark.parametrize("url", ["file://", "file:", "file://."])
def test_blob_url_without_a_folder(tmp_path: Path, url: str) -> None:
    with pytest.raises(BlobUrlError, match=r"^TRAININGDB_BLOB_URL: .* names no folder"):
        parse_blob_url(url, tmp_path)
