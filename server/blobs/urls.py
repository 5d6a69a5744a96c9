"""`TRAININGDB_BLOB_URL` -> a blob store.

Only local folders exist in this version. Accepted spellings: `file:///absolute/path`,
`file://relative/path` and `file:relative/path`, relative ones under the data directory.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from trainingdb.server.settings import BLOB_URL, SettingsError

from .local import LocalBlobStore


class BlobUrlError(SettingsError, ValueError):
    """`TRAININGDB_BLOB_URL` names no blob store this version can open."""

    # A SettingsError so the CLI prints it as a one-line user error; a ValueError because that
    # is what it is to a caller that knows nothing about settings.


def parse_blob_url(url: str, data_dir: Path) -> Path:
    """The folder a `file:` URL names (relative paths under `data_dir`); BlobUrlError else."""
    parts = urlsplit(url)
    if parts.scheme != "file":
        raise BlobUrlError(
            f"{BLOB_URL}: unsupported blob store {url!r}; this version stores blobs only in a "
            "local folder, given as file://PATH (absolute, or relative to the data directory), "
            "and S3 (s3://bucket/prefix) support is not available in this version"
        )
    # file://relative/path puts the first segment in netloc; file:///abs has an empty netloc.
    path = Path(unquote(parts.netloc + parts.path))
    if str(path) == ".":
        raise BlobUrlError(f"{BLOB_URL}: {url!r} names no folder; give it as file://PATH")
    return path if path.is_absolute() else data_dir / path


def open_blob_store(url: str, data_dir: Path) -> LocalBlobStore:
    """The blob store `url` names; BlobUrlError if it names none this version supports."""
    return LocalBlobStore(parse_blob_url(url, data_dir))
