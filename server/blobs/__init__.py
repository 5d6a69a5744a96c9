"""Blob stores: content-addressed media bytes in a local folder or an S3 bucket."""

from .base import CHUNK_SIZE, BlobNotFoundError, BlobStore, StoredBlob, check_sha256, file_chunks
from .local import LocalBlobStore
from .s3 import S3BlobStore
from .urls import (
    BlobUrlError,
    open_blob_store,
    open_checked_blob_store,
    parse_blob_url,
    parse_s3_url,
)

__all__ = [
    "CHUNK_SIZE",
    "BlobNotFoundError",
    "BlobStore",
    "BlobUrlError",
    "LocalBlobStore",
    "S3BlobStore",
    "StoredBlob",
    "check_sha256",
    "file_chunks",
    "open_blob_store",
    "open_checked_blob_store",
    "parse_blob_url",
    "parse_s3_url",
]
