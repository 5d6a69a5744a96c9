"""Settings from the environment, overridden by command-line flags.

| setting                  | default                      | meaning                               |
| TRAININGDB_DATA_DIR      | ./.trainingdb                | embedded PostgreSQL data, local blobs |
| TRAININGDB_DATABASE_URL  | (unset: embedded PostgreSQL) | an external PostgreSQL to use instead |
| TRAININGDB_BLOB_URL      | file://<data dir>/blobs      | where media bytes are stored          |
| TRAININGDB_SECRET_KEY    | <data dir>/secret.key        | signs blob links (share it: servers)  |
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DATA_DIR = "TRAININGDB_DATA_DIR"
DATABASE_URL = "TRAININGDB_DATABASE_URL"
BLOB_URL = "TRAININGDB_BLOB_URL"
SECRET_KEY = "TRAININGDB_SECRET_KEY"  # noqa: S105 (the variable's name)

DEFAULT_DATA_DIR = Path(".trainingdb")


class SettingsError(Exception):
    """A setting is wrong or names something unreachable; the message is one line for a user."""


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path
    database_url: str | None
    blob_url: str
    secret_key: str | None = None

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
        secret = env.get(SECRET_KEY) or None
        return cls(data_dir=resolved_dir, database_url=url, blob_url=blobs, secret_key=secret)

    @property
    def embedded(self) -> bool:
        """True when no external database is configured and an embedded one must run."""
        return self.database_url is None
