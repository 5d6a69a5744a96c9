"""The server's secret key, which signs blob links (and later, session tokens).

`TRAININGDB_SECRET_KEY` when set (every server and worker of one deployment must share it);
otherwise `<data dir>/secret.key`, made once with 32 random bytes and readable by its owner
only, so a single-machine setup needs no configuration and keeps its links valid across restarts.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from .settings import SECRET_KEY, Settings, SettingsError

SECRET_FILE = "secret.key"  # noqa: S105 (a file name, not a secret)
MIN_LENGTH = 16


def load_secret(settings: Settings) -> bytes:
    """The secret key for `settings`; SettingsError if the one given is too short to sign."""
    given = settings.secret_key
    if given is not None:
        if len(given) < MIN_LENGTH:
            raise SettingsError(f"{SECRET_KEY}: use at least {MIN_LENGTH} characters")
        return given.encode()
    path = settings.data_dir / SECRET_FILE
    try:
        return path.read_text().strip().encode()
    except FileNotFoundError:
        return _create(path)


def _create(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    try:
        # O_EXCL: two processes starting together agree on whichever key was written first.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip().encode()
    with os.fdopen(fd, "w") as out:
        out.write(key + "\n")
    return key.encode()
