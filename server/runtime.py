"""What a running trainingdb process holds: its settings, database engine and blob store.

`Runtime.open` starts (or attaches to) the embedded PostgreSQL when no database URL is set,
checks the database answers, and releases everything on exit — the one path every command takes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

from alembic.migration import MigrationContext
from sqlalchemy import URL, Engine

from trainingdb import migrations

from .blobs import BlobStore, open_checked_blob_store
from .database import check_connection, create_db_engine, parse_database_url
from .embedded import EmbeddedPostgres
from .secret import load_secret
from .settings import Settings, SettingsError


@dataclass(frozen=True, slots=True)
class Runtime:
    settings: Settings
    url: URL
    engine: Engine
    blobs: BlobStore
    embedded: bool
    secret: bytes

    @classmethod
    @contextmanager
    def open(cls, settings: Settings) -> Iterator[Runtime]:
        """Database (embedded or external) and blob store for `settings`, released on exit."""
        blobs = open_checked_blob_store(settings.blob_url, settings.data_dir)
        secret = load_secret(settings)
        with ExitStack() as stack:
            if settings.database_url is None:
                embedded = stack.enter_context(EmbeddedPostgres(settings.data_dir))
                url = embedded.start()
            else:
                url = parse_database_url(settings.database_url)
            engine = create_db_engine(url)
            stack.callback(engine.dispose)
            check_connection(engine)
            yield cls(
                settings=settings,
                url=url,
                engine=engine,
                blobs=blobs,
                embedded=settings.database_url is None,
                secret=secret,
            )

    def schema_revision(self) -> str | None:
        """The Alembic revision the database is at (None: never migrated)."""
        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def migrate(self, revision: str = "head") -> None:
        """Apply revisions up to `revision`."""
        with self.engine.begin() as conn:
            migrations.upgrade(conn, revision)

    def prepare_schema(self, migrate: bool = False) -> None:
        """Migrate an embedded database (or any, when `migrate`); otherwise require that the
        schema is current, since migrating someone else's database is its owner's call."""
        if self.embedded or migrate:
            self.migrate()
        else:
            self.require_current_schema()

    def require_current_schema(self) -> None:
        """SettingsError telling the user to migrate when the schema is not at head."""
        current, head = self.schema_revision(), migrations.head_revision()
        if current != head:
            raise SettingsError(
                f"the database schema is at revision {current or 'none'}, this trainingdb needs "
                f"{head}: run `trainingdb migrate` (or `serve --migrate`)"
            )
