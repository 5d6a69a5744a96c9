"""Blob stores: content-addressed media bytes (a local folder today)."""

from .base import BlobNotFoundError, BlobStore, StoredBlob, check_sha256
from .local import LocalBlobStore
from .urls import open_blob_store, parse_blob_url

__all__ = [
    "BlobNotFoundError",
    "BlobStore",
    "LocalBlobStore",
    "StoredBlob",
    "check_sha256",
    "open_blob_store",
    "parse_blob_url",
]
