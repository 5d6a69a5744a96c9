"""Where a running server tells clients on this machine its URL: `serve` and `demo` write
`<data dir>/server.json` (URL and process id) while they run and remove it when they stop, so
`trainingdb checkout` finds the local server without `--server`.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import orjson

from .settings import SettingsError

SERVER_FILE = "server.json"


def _url_host(host: str) -> str:
    """The host a client on this machine reaches a server listening on `host` at."""
    if host in ("0.0.0.0", ""):  # noqa: S104 (reading a host, not binding one)
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


@contextlib.contextmanager
def advertised(data_dir: Path, host: str, port: int) -> Iterator[None]:
    """advertised: `<data_dir>/server.json` names this server's URL and process while the
    block runs, for `trainingdb checkout` without --server."""
    path = data_dir / SERVER_FILE
    data_dir.mkdir(parents=True, exist_ok=True)
    url = f"http://{_url_host(host)}:{port}"
    part = path.with_name(f".{SERVER_FILE}.{os.getpid()}")
    part.write_bytes(orjson.dumps({"url": url, "pid": os.getpid()}))
    os.replace(part, path)
    try:
        yield
    finally:
        # Another server started on the same directory since owns the file now: leave it.
        with contextlib.suppress(OSError, orjson.JSONDecodeError):
            if orjson.loads(path.read_bytes()).get("pid") == os.getpid():
                path.unlink()


def local_server(data_dir: Path) -> str:
    """local_server: the URL the server of `data_dir` advertises; SettingsError when none
    runs."""
    path = data_dir / SERVER_FILE
    hint = "start `trainingdb serve` there, or pass --server URL"
    try:
        found = orjson.loads(path.read_bytes())
        url, pid = found["url"], found["pid"]
        if not isinstance(url, str) or not isinstance(pid, int):
            raise TypeError("url and pid")
    except FileNotFoundError:
        raise SettingsError(f"no server runs for the data directory {data_dir}: {hint}") from None
    except (orjson.JSONDecodeError, KeyError, TypeError):
        raise SettingsError(f"{path}: not a server's address; {hint}") from None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        raise SettingsError(f"{path}: its server (process {pid}) has stopped; {hint}") from None
    except PermissionError:  # another user's process: it runs
        pass
    return url
