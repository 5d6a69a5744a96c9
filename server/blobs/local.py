"""Blob store in a local folder: `root/ab/cd/<sha256>`.

Writes go to a temporary file in `root`, hashed chunk by chunk, fsynced, then renamed into
place: a reader never sees a partial blob, two writers of the same bytes (threads or processes)
both succeed, and an interrupted write leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from .base import BlobNotFoundError, StoredBlob, check_sha256, file_chunks

TEMP_PREFIX = ".incoming-"


def _fsync_dir(folder: Path) -> None:
    # A rename or a new directory is durable only once its parent directory is synced; the
    # database may commit a row naming the blob right after put returns.
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LocalBlobStore:
    """Blobs as files under `root`, two levels of fan-out so no directory grows huge."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def key(self, sha256: str) -> str:
        """The blob's path relative to the root; ValueError unless `sha256` is a sha256."""
        check_sha256(sha256)
        return f"{sha256[:2]}/{sha256[2:4]}/{sha256}"

    def path(self, sha256: str) -> Path:
        """The blob's absolute path (which may not exist)."""
        return self.root / self.key(sha256)

    def path_or_key(self, sha256: str) -> str:
        """The blob's file path as a string (which may not exist)."""
        return str(self.path(sha256))

    def put_stream(self, chunks: Iterable[bytes]) -> StoredBlob:
        """Store the concatenated chunks, holding one chunk in memory at a time."""
        self.root.mkdir(parents=True, exist_ok=True)
        # In the root, not /tmp: os.replace is atomic only within one filesystem. mkstemp gives a
        # unique name per writer and a private file, like the rest of the data directory.
        fd, temp_name = tempfile.mkstemp(dir=self.root, prefix=TEMP_PREFIX)
        temp = Path(temp_name)
        digest = hashlib.sha256()
        size = 0
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
            if not final.exists():
                created = [d for d in (final.parent.parent, final.parent) if not d.exists()]
                final.parent.mkdir(parents=True, exist_ok=True)
                os.replace(temp, final)
                for folder in {final.parent, *(d.parent for d in created)}:
                    _fsync_dir(folder)
        finally:
            # After a successful rename the temp name is gone; otherwise this is the cleanup of
            # a duplicate or of a write that failed part way.
            temp.unlink(missing_ok=True)
        return StoredBlob(sha256=sha256, size=size, storage_key=self.key(sha256))

    def put_file(self, path: Path) -> StoredBlob:
        """Store a file's bytes, streaming."""
        return self.put_stream(file_chunks(path))

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

    def check(self) -> None:
        """OSError if the root exists but is no folder (a missing one is made on first write)."""
        if self.root.exists() and not self.root.is_dir():
            raise NotADirectoryError(f"{self.root} exists and is not a folder")

    def direct_url(self, sha256: str, expires_in: int) -> str | None:
        """None: a folder has no URL of its own; the server serves these bytes."""
        check_sha256(sha256)
        return None
