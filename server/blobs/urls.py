"""`TRAININGDB_BLOB_URL` -> a blob store."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from trainingdb.server.settings import BLOB_URL, SettingsError

from .local import LocalBlobStore


def parse_blob_url(url: str, data_dir: Path) -> Path:
    """The folder a `file://` URL names (relative paths under `data_dir`); SettingsError else."""
    parts = urlsplit(url)
    if parts.scheme != "file":
        raise SettingsError(
            f"{BLOB_URL}: unsupported blob store {url!r}; this version stores blobs in a local "
            "folder, given as file:///absolute/path or file://relative/path "
            "(S3 is not available yet)"
        )
    # file://relative/path puts the first segment in netloc; file:///abs has an empty netloc.
    path = Path(unquote(parts.netloc + parts.path))
    if not str(path) or str(path) == ".":
        raise SettingsError(f"{BLOB_URL}: {url!r} names no folder")
    return path if path.is_absolute() else data_dir / path


def open_blob_store(url: str, data_dir: Path) -> LocalBlobStore:
    """The blob store `url` names."""
    return LocalBlobStore(parse_blob_url(url, data_dir))
