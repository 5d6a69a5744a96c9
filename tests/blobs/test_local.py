"""The local blob store's own behaviour (the shared contract is in test_conformance.py): its
folder layout, writing as the stream arrives, and `TRAININGDB_BLOB_URL` parsing."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from trainingdb.server.blobs import (
    CHUNK_SIZE,
    BlobUrlError,
    LocalBlobStore,
    S3BlobStore,
    StoredBlob,
    open_blob_store,
    parse_blob_url,
    parse_s3_url,
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


def test_blob_urls(tmp_path: Path) -> None:
    assert parse_blob_url("file:///srv/blobs", tmp_path) == Path("/srv/blobs")
    assert parse_blob_url("file://blobs", tmp_path) == tmp_path / "blobs"
    assert parse_blob_url("file://media/blobs", tmp_path) == tmp_path / "media/blobs"
    assert parse_blob_url("file:media/blobs", tmp_path) == tmp_path / "media/blobs"
    assert parse_blob_url((tmp_path / "a b").as_uri(), tmp_path) == tmp_path / "a b"
    local = open_blob_store("file://x", tmp_path)
    assert isinstance(local, LocalBlobStore)
    assert local.root == tmp_path / "x"


@pytest.mark.parametrize("url", ["http://host/blobs", "/plain/path", "blobs", "ftp://host/x"])
def test_unsupported_blob_urls(tmp_path: Path, url: str) -> None:
    with pytest.raises(BlobUrlError) as info:
        open_blob_store(url, tmp_path)
    # The CLI reports SettingsErrors as one-line user errors; other callers see a ValueError.
    assert isinstance(info.value, SettingsError)
    assert isinstance(info.value, ValueError)
    message = str(info.value)
    assert message.startswith(f"TRAININGDB_BLOB_URL: unsupported blob store {url!r}; ")
    assert "file://PATH" in message
    assert "s3://BUCKET/PREFIX" in message
    assert "\n" not in message


@pytest.mark.parametrize("url", ["file://", "file:", "file://."])
def test_blob_url_without_a_folder(tmp_path: Path, url: str) -> None:
    with pytest.raises(BlobUrlError, match=r"^TRAININGDB_BLOB_URL: .* names no folder"):
        parse_blob_url(url, tmp_path)


def test_s3_urls(tmp_path: Path) -> None:
    assert parse_s3_url("s3://bucket") == ("bucket", "", {})
    assert parse_s3_url("s3://bucket/media/set-1/") == ("bucket", "media/set-1", {})
    assert parse_s3_url("s3://b/p?endpoint=http://127.0.0.1:9000&region=eu-west-1") == (
        "b",
        "p",
        {"endpoint": "http://127.0.0.1:9000", "region": "eu-west-1"},
    )
    store = open_blob_store("s3://b/p?endpoint=http://127.0.0.1:9000&region=eu-west-1", tmp_path)
    assert isinstance(store, S3BlobStore)
    assert (store.bucket, store.prefix) == ("b", "p/")
    assert store.client.meta.endpoint_url == "http://127.0.0.1:9000"
    assert store.key("a" * 64) == "p/aa/aa/" + "a" * 64


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("s3://", "names no bucket"),
        ("s3:///prefix", "names no bucket"),
        ("s3://b/p?endpiont=x", "unknown option(s) endpiont"),
    ],
)
def test_bad_s3_urls(tmp_path: Path, url: str, message: str) -> None:
    with pytest.raises(BlobUrlError, match=r"^TRAININGDB_BLOB_URL: ") as info:
        open_blob_store(url, tmp_path)
    assert message in str(info.value)
