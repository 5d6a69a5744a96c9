"""Blob stores: content-addressed media bytes (a local folder in this version)."""

from .base import CHUNK_SIZE, BlobNotFoundError, BlobStore, StoredBlob, check_sha256
from .local import LocalBlobStore
from .urls import BlobUrlError, open_blob_store, parse_blob_url

__all__ = [
    "CHUNK_SIZE",
    "BlobNotFoundError",
    "BlobStore",
    "BlobUrlError",
    "LocalBlobStore",
    "StoredBlob",
    "check_sha256",
    "open_blob_store",
    "parse_blob_url",
]
