"""Blob store in an S3 bucket (or any S3-compatible store): `prefix/ab/cd/<sha256>`.

A stream's hash is known only at its end, so `put_stream` uploads to a unique key under
`prefix/incoming/` (a managed multipart upload: memory holds a few parts, never the file), then
copies server-side to the content key unless that blob is already there, and deletes the
upload. A failed upload is aborted by boto3; an upload whose process died is left under
`incoming/`, where a lifecycle rule on that prefix (docs/OPERATIONS.md) expires it. A file on
disk is hashed first and uploaded straight to its content key.

Readers never see a partial blob: S3 makes an object visible only once it is complete.
"""

from __future__ import annotations

import hashlib
import io
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, cast

from boto3.s3.transfer import TransferConfig
from botocore.exceptions import BotoCoreError, ClientError

from .base import CHUNK_SIZE, BlobNotFoundError, StoredBlob, check_sha256, file_chunks

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# 8 MiB parts, two in flight: bounded memory per upload, and S3's 5 MiB minimum part size.
TRANSFER = TransferConfig(
    multipart_threshold=8 << 20, multipart_chunksize=8 << 20, max_concurrency=2
)


class _HashingReader(io.RawIOBase):
    """A readable stream over chunks that hashes and counts what is read through it."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks: Iterator[bytes] = iter(chunks)
        self._pending = b""
        self.digest = hashlib.sha256()
        self.size = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending:
            try:
                self._pending = next(self._chunks)
            except StopIteration:
                return 0
        n = min(len(buffer), len(self._pending))
        piece, self._pending = self._pending[:n], self._pending[n:]
        buffer[:n] = piece
        self.digest.update(piece)
        self.size += n
        return n


def _missing(error: ClientError) -> bool:
    code = str(error.response.get("Error", {}).get("Code", ""))
    return code in ("404", "NoSuchKey", "NotFound")


def _file_sha256(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    for chunk in file_chunks(path):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


class S3BlobStore:
    """Blobs as objects of `bucket` under `prefix`, through a boto3 S3 client."""

    def __init__(self, client: S3Client, bucket: str, prefix: str = "") -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""

    def key(self, sha256: str) -> str:
        """The blob's object key; ValueError unless `sha256` is a sha256."""
        check_sha256(sha256)
        return f"{self.prefix}{sha256[:2]}/{sha256[2:4]}/{sha256}"

    def path_or_key(self, sha256: str) -> str:
        """The blob's object key (which may not exist)."""
        return self.key(sha256)

    def exists(self, sha256: str) -> bool:
        """Whether the blob is stored."""
        try:
            self.client.head_object(Bucket=self.bucket, Key=self.key(sha256))
        except ClientError as error:
            if _missing(error):
                return False
            raise
        return True

    def put_stream(self, chunks: Iterable[bytes]) -> StoredBlob:
        """Store the concatenated chunks, holding a few parts in memory at a time."""
        reader = _HashingReader(chunks)
        incoming = f"{self.prefix}incoming/{uuid.uuid4().hex}"
        stream = io.BufferedReader(reader, buffer_size=CHUNK_SIZE)
        self.client.upload_fileobj(stream, self.bucket, incoming, Config=TRANSFER)
        try:
            sha256 = reader.digest.hexdigest()
            if not self.exists(sha256):
                self.client.copy(
                    {"Bucket": self.bucket, "Key": incoming},
                    self.bucket,
                    self.key(sha256),
                    Config=TRANSFER,
                )
        finally:
            self.client.delete_object(Bucket=self.bucket, Key=incoming)
        return StoredBlob(sha256=sha256, size=reader.size, storage_key=self.key(sha256))

    def put_file(self, path: Path) -> StoredBlob:
        """Store a file's bytes: hashed first, then uploaded to its content key if new."""
        sha256, size = _file_sha256(path)
        if not self.exists(sha256):
            self.client.upload_file(str(path), self.bucket, self.key(sha256), Config=TRANSFER)
        return StoredBlob(sha256=sha256, size=size, storage_key=self.key(sha256))

    def put_bytes(self, data: bytes) -> StoredBlob:
        """Store `data`."""
        sha256 = hashlib.sha256(data).hexdigest()
        if not self.exists(sha256):
            self.client.put_object(Bucket=self.bucket, Key=self.key(sha256), Body=data)
        return StoredBlob(sha256=sha256, size=len(data), storage_key=self.key(sha256))

    def open(self, sha256: str) -> BinaryIO:
        """A binary stream of the blob, read from S3 as it is consumed."""
        try:
            found = self.client.get_object(Bucket=self.bucket, Key=self.key(sha256))
        except ClientError as error:
            if _missing(error):
                raise BlobNotFoundError(sha256) from None
            raise
        return cast(BinaryIO, found["Body"])

    def check(self) -> None:
        """OSError if the bucket cannot be reached with these credentials."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except (ClientError, BotoCoreError) as error:
            raise ConnectionError(f"cannot reach bucket {self.bucket!r}: {error}") from None

    def direct_url(self, sha256: str, expires_in: int) -> str | None:
        """A presigned GET URL of the blob, valid for `expires_in` seconds."""
        url: str = self.client.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": self.key(sha256)},
            ExpiresIn=expires_in,
        )
        return url
