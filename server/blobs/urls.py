"""`TRAININGDB_BLOB_URL` -> a blob store.

- A local folder: `file:///absolute/path`, `file://relative/path` or `file:relative/path`,
  relative ones under the data directory.
- An S3 bucket: `s3://bucket/optional/prefix`, with optional query parameters `endpoint`
  (an S3-compatible store's URL, e.g. MinIO's) and `region`. Credentials come from boto3's
  usual chain (environment, shared config, instance role); `AWS_ENDPOINT_URL_S3` works too.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

import boto3
from botocore.config import Config

from trainingdb.server.settings import BLOB_URL, SettingsError

from .base import BlobStore
from .local import LocalBlobStore
from .s3 import S3BlobStore


class BlobUrlError(SettingsError, ValueError):
    """`TRAININGDB_BLOB_URL` names no blob store this version can open."""

    # A SettingsError so the CLI prints it as a one-line user error; a ValueError because that
    # is what it is to a caller that knows nothing about settings.


def parse_blob_url(url: str, data_dir: Path) -> Path:
    """The folder a `file:` URL names (relative paths under `data_dir`); BlobUrlError else."""
    parts = urlsplit(url)
    if parts.scheme != "file":
        raise BlobUrlError(
            f"{BLOB_URL}: unsupported blob store {url!r}; give a local folder as file://PATH "
            "(absolute, or relative to the data directory) or a bucket as s3://BUCKET/PREFIX"
        )
    # file://relative/path puts the first segment in netloc; file:///abs has an empty netloc.
    path = Path(unquote(parts.netloc + parts.path))
    if str(path) == ".":
        raise BlobUrlError(f"{BLOB_URL}: {url!r} names no folder; give it as file://PATH")
    return path if path.is_absolute() else data_dir / path


_S3_OPTIONS = {"endpoint", "region"}


def parse_s3_url(url: str) -> tuple[str, str, dict[str, str]]:
    """(bucket, prefix, options) of an `s3://` URL; BlobUrlError naming what is wrong."""
    parts = urlsplit(url)
    if not parts.netloc:
        raise BlobUrlError(f"{BLOB_URL}: {url!r} names no bucket; give it as s3://BUCKET/PREFIX")
    options = dict(parse_qsl(parts.query, keep_blank_values=True))
    unknown = sorted(set(options) - _S3_OPTIONS)
    if unknown:
        raise BlobUrlError(
            f"{BLOB_URL}: unknown option(s) {', '.join(unknown)} in {url!r}; "
            f"options are {', '.join(sorted(_S3_OPTIONS))}"
        )
    return parts.netloc, unquote(parts.path).strip("/"), options


def open_blob_store(url: str, data_dir: Path) -> BlobStore:
    """The blob store `url` names; BlobUrlError if it names none this version supports."""
    if urlsplit(url).scheme == "s3":
        bucket, prefix, options = parse_s3_url(url)
        client = boto3.client(
            "s3",
            endpoint_url=options.get("endpoint") or None,
            region_name=options.get("region"),
            # An unreachable endpoint fails start-up in seconds, not after minutes of retries.
            config=Config(connect_timeout=5, retries={"max_attempts": 3, "mode": "standard"}),
        )
        return S3BlobStore(client, bucket, prefix)
    return LocalBlobStore(parse_blob_url(url, data_dir))


def open_checked_blob_store(url: str, data_dir: Path) -> BlobStore:
    """`open_blob_store`, then `check`: BlobUrlError saying why the store cannot be used."""
    store = open_blob_store(url, data_dir)
    try:
        store.check()
    except OSError as error:
        raise BlobUrlError(f"{BLOB_URL}: {error}") from None
    return store
