"""The blob store interface: content-addressed, streaming, deduplicated media bytes.

A blob is named by the sha256 of its bytes, so the same picture imported twice is stored once
and a database row can point at bytes that can never change under it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

CHUNK_SIZE = 1 << 20
_SHA256 = re.compile(r"[0-9a-f]{64}")


class BlobNotFoundError(LookupError):
    """No blob with this sha256 is in the store."""

    def __init__(self, sha256: str) -> None:
        super().__init__(f"blob {sha256} is not in the store")
        self.sha256 = sha256


def check_sha256(sha256: str) -> str:
    """`sha256` if it is 64 lowercase hex digits; ValueError naming the value otherwise."""
    # Keys become file paths and object names: anything else could climb out of the store root.
    if not _SHA256.fullmatch(sha256):
        raise ValueError(f"not a sha256 (64 lowercase hex digits): {sha256!r}")
    return sha256


def file_chunks(path: Path) -> Iterator[bytes]:
    """A file's bytes, CHUNK_SIZE at a time."""
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK_SIZE):
            yield chunk


@dataclass(frozen=True, slots=True)
class StoredBlob:
    """A blob as stored: its hash, its length in bytes and where the store keeps it.

    The media type is not here: the same bytes are the same blob whatever a client calls them,
    so the database records the type beside the hash.
    """

    sha256: str
    size: int
    storage_key: str


class BlobStore(Protocol):
    """What the rest of trainingdb needs from a place that keeps media bytes."""

    def put_stream(self, chunks: Iterable[bytes]) -> StoredBlob:
        """Store the concatenated chunks, holding one chunk in memory at a time."""
        ...

    def put_file(self, path: Path) -> StoredBlob:
        """Store a file's bytes, streaming."""
        ...

    def put_bytes(self, data: bytes) -> StoredBlob:
        """Store `data`."""
        ...

    def open(self, sha256: str) -> BinaryIO:
        """A binary stream of the blob; BlobNotFoundError if absent."""
        ...

    def exists(self, sha256: str) -> bool:
        """Whether the blob is stored."""
        ...

    def path_or_key(self, sha256: str) -> str:
        """Where the blob lives (a file path or an object key), whether or not it exists yet."""
        ...

    def check(self) -> None:
        """OSError saying why, if the store cannot be used (called once at start-up)."""
        ...

    def direct_url(self, sha256: str, expires_in: int) -> str | None:
        """A URL a client can fetch the bytes from without the server, valid `expires_in`
        seconds; None when the store has none (the server then serves the bytes itself)."""
        ...
