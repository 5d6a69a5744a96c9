"""Blob store in a local folder: `root/ab/cd/<sha256>`.

Writes go to a temporary file in `root`, hashed chunk by chunk, fsynced, then renamed into
place: a reader never sees a partial blob, two writers of the same bytes both succeed, and an
interrupted write leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from .base import CHUNK_SIZE, BlobNotFoundError, StoredBlob, check_sha256


def _file_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK_SIZE):
            yield chunk


class LocalBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def key(self, sha256: str) -> str:
        """The blob's path relative to the root."""
        check_sha256(sha256)
        return f"{sha256[:2]}/{sha256[2:4]}/{sha256}"

    def path(self, sha256: str) -> Path:
        """The blob's absolute path (which may not exist)."""
        return self.root / self.key(sha256)

    def put_stream(self, chunks: Iterable[bytes]) -> StoredBlob:
        """Store the concatenated chunks; holds one chunk in memory at a time."""
        self.root.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        fd, temp_name = tempfile.mkstemp(dir=self.root, prefix=".incoming-")
        temp = Path(temp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in chunks:
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            sha256 = digest.hexdigest()
            final = self.path(sha256)
            if final.exists():
                temp.unlink()
            else:
                final.parent.mkdir(parents=True, exist_ok=True)
                os.replace(temp, final)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        return StoredBlob(sha256=sha256, size=size, storage_key=self.key(sha256))

    def put_file(self, path: Path) -> StoredBlob:
        """Store a file's bytes, streaming."""
        return self.put_stream(_file_chunks(path))

    def put_bytes(self, data: bytes) -> StoredBlob:
        """Store `data`."""
        return self.put_stream([data])

    def open(self, sha256: str) -> BinaryIO:
        """A binary stream of the blob; BlobNotFoundError if absent."""
        try:
            return self.path(sha256).open("rb")
        except FileNotFoundError:
            raise BlobNotFoundError(sha256) from None

    def exists(self, sha256: str) -> bool:
        """Whether the blob is stored."""
        return self.path(sha256).is_file()
