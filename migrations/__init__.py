"""Alembic environment and revisions: the only way trainingdb's schema changes.

`upgrade`/`downgrade` run revisions on an open connection (the CLI, the server's start-up and
the tests use them); developers create revisions with
`alembic -c migrations/alembic.ini revision --autogenerate -m "..."`.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

SCRIPT_LOCATION = Path(__file__).resolve().parent


def alembic_config(connection: Connection | None = None, url: str | None = None) -> Config:
    """An Alembic config for this package's revisions, bound to `connection` or `url`."""
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    if url is not None:
        # ConfigParser interpolation would eat a literal '%' in a password.
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(connection: Connection, revision: str = "head") -> None:
    """Apply revisions up to `revision` on `connection` (committed by the caller's block)."""
    command.upgrade(alembic_config(connection), revision)


def downgrade(connection: Connection, revision: str = "base") -> None:
    """Revert revisions down to `revision` on `connection`."""
    command.downgrade(alembic_config(connection), revision)


def head_revision() -> str:
    """The newest revision id this package ships."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head
