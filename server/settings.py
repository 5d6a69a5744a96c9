"""Settings from the environment, overridden by command-line flags.

| setting                  | default                      | meaning                               |
| TRAININGDB_DATA_DIR      | ./.trainingdb                | embedded PostgreSQL data, local blobs |
| TRAININGDB_DATABASE_URL  | (unset: embedded PostgreSQL) | an external PostgreSQL to use instead |
| TRAININGDB_BLOB_URL      | file://<data dir>/blobs      | where media bytes are stored          |
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DATA_DIR = "TRAININGDB_DATA_DIR"
DATABASE_URL = "TRAININGDB_DATABASE_URL"
BLOB_URL = "TRAININGDB_BLOB_URL"

DEFAULT_DATA_DIR = Path(".trainingdb")


class SettingsError(Exception):
    """A setting is wrong or names something unreachable; the message is one line for a user."""


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path
    database_url: str | None
    blob_url: str

    @classmethod
    def resolve(
        cls,
        *,
        data_dir: Path | None = None,
        database_url: str | None = None,
        blob_url: str | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> Settings:
        """Settings from explicit values, else `environ` (default os.environ), else defaults."""
        env = os.environ if environ is None else environ
        resolved_dir = (data_dir or Path(env.get(DATA_DIR) or DEFAULT_DATA_DIR)).expanduser()
        resolved_dir = resolved_dir.absolute()
        if resolved_dir.exists() and not resolved_dir.is_dir():
            raise SettingsError(f"{DATA_DIR}: {resolved_dir} exists and is not a directory")
        url = database_url or env.get(DATABASE_URL) or None
        blobs = blob_url or env.get(BLOB_URL) or (resolved_dir / "blobs").as_uri()
        return cls(data_dir=resolved_dir, database_url=url, blob_url=blobs)

    @property
    def embedded(self) -> bool:
        """True when no external database is configured and an embedded one must run."""
        return self.database_url is None
