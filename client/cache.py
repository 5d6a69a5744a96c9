"""The content-addressed media cache every checkout and `TrainingSet` on a machine shares:
`<root>/blobs/<sha[:2]>/<sha>`, one file per distinct content, read-only.

A blob is downloaded to `<root>/tmp/<pid>-<random>.part`, hashed as it streams, and renamed
into place only once its sha256 is the one asked for: a blob in the cache is always whole and
right, so a killed download leaves at most a `.part`, which the next run (of any process)
removes once its writer is dead. Blobs are made read-only because checkouts hard-link them:
an editor writing into a checked-out file in place would otherwise change the cached copy too.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from .errors import ConnectionFailed, ServerError

CACHE_ENV = "TRAININGDB_CACHE"
_SHA256 = re.compile(r"[0-9a-f]{64}")
_PART = re.compile(r"(\d+)-[0-9a-f]+\.part")
_CHUNK = 1 << 16

OnBytes = Callable[[int], None]  # told the size of each chunk as it is written


class HashMismatch(ServerError):
    """HASH_MISMATCH: the bytes behind a link are not the content its sha256 names."""


def default_cache_dir() -> Path:
    """default_cache_dir: $TRAININGDB_CACHE, else $XDG_CACHE_HOME/trainingdb, else
    ~/.cache/trainingdb."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "trainingdb"


@dataclass(frozen=True, slots=True)
class Fetched:
    """A blob in the cache: its path, size, and whether this call downloaded it."""

    path: Path
    size: int
    downloaded: bool


class BlobCache:
    """The cache under `root`. `http` is the connection pool downloads use (None: one of its
    own, made on the first download); `on_bytes` sees every chunk written. Safe to share
    between threads and processes (a forked process must make its own BlobCache)."""

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        http: httpx.Client | None = None,
        on_bytes: OnBytes | None = None,
    ) -> None:
        self.root = Path(root).expanduser()
        self._http = http
        self._on_bytes = on_bytes
        self._lock = threading.Lock()

    def path(self, sha256: str) -> Path:
        """path: where blob `sha256` is (or would be) in the cache."""
        if not _SHA256.fullmatch(sha256):
            raise ValueError(f"sha256: 64 lowercase hex digits, not {sha256!r}")
        return self.root / "blobs" / sha256[:2] / sha256

    def has(self, sha256: str) -> bool:
        """has: whether blob `sha256` is in the cache."""
        return self.path(sha256).is_file()

    def get(self, sha256: str, url: str | None) -> Path:
        """get: the cached path of blob `sha256`, downloading it from the signed link `url`
        first when the cache lacks it."""
        return self.fetch(sha256, url).path

    def fetch(self, sha256: str, url: str | None) -> Fetched:
        """fetch: `get`, telling whether the blob was downloaded; HashMismatch when the link
        serves other bytes, ConnectionFailed / ServerError when it serves none."""
        final = self.path(sha256)
        if final.is_file():
            return Fetched(final, final.stat().st_size, downloaded=False)
        if url is None:
            raise ServerError(
                f"blob {sha256}: not in the cache and the server gave no link to it "
                "(it serves no blobs)",
                "BAD_RESPONSE",
            )
        tmp = self.root / "tmp"
        tmp.mkdir(parents=True, exist_ok=True)
        part = tmp / f"{os.getpid()}-{secrets.token_hex(6)}.part"
        try:
            size = self._download(url, sha256, part)
            part.chmod(0o444)
            final.parent.mkdir(parents=True, exist_ok=True)
            # Atomic: a reader sees the whole blob or none; two writers of one blob both win.
            os.replace(part, final)
        finally:
            part.unlink(missing_ok=True)
        return Fetched(final, size, downloaded=True)

    def evict(self, sha256: str) -> None:
        """evict: drop blob `sha256` (one found damaged), so the next `get` fetches it again."""
        self.path(sha256).unlink(missing_ok=True)

    def clean(self) -> int:
        """clean: remove the `.part` files of downloads whose process is gone; how many."""
        removed = 0
        with contextlib.suppress(FileNotFoundError):
            for part in (self.root / "tmp").iterdir():
                found = _PART.fullmatch(part.name)
                if found is None or not _alive(int(found.group(1))):
                    part.unlink(missing_ok=True)
                    removed += 1
        return removed

    def _download(self, url: str, sha256: str, part: Path) -> int:
        digest, size = hashlib.sha256(), 0
        shown = url.split("?")[0]  # the query string is the link's credential: never shown
        try:
            with self._stream(url) as response:
                if response.status_code != 200:
                    raise ServerError(
                        f"download {shown}: HTTP {response.status_code}",
                        f"HTTP_{response.status_code}",
                        status=response.status_code,
                    )
                with part.open("wb") as out:
                    for chunk in response.iter_bytes(_CHUNK):
                        out.write(chunk)
                        digest.update(chunk)
                        size += len(chunk)
                        if self._on_bytes is not None:
                            self._on_bytes(len(chunk))
        except httpx.HTTPError as error:
            reason = str(error) or type(error).__name__
            raise ConnectionFailed(f"download {shown}: {reason}", "CONNECTION_FAILED") from error
        if digest.hexdigest() != sha256:
            raise HashMismatch(
                f"download {shown}: the bytes have sha256 {digest.hexdigest()}, not {sha256}",
                "HASH_MISMATCH",
            )
        return size

    @contextlib.contextmanager
    def _stream(self, url: str) -> Iterator[httpx.Response]:
        # No Authorization header: the signed link is its own credential, and an object store
        # the server redirects to would refuse a request carrying one.
        with self._client().stream("GET", url, follow_redirects=True) as response:
            yield response

    def _client(self) -> httpx.Client:
        # One pool for every download of this cache: a new httpx.Client costs ~20 ms (its TLS
        # context), which at 10,000 small images was most of a checkout's time.
        with self._lock:
            if self._http is None:
                self._http = httpx.Client(
                    timeout=60.0,
                    limits=httpx.Limits(max_connections=32, max_keepalive_connections=32),
                )
            return self._http


def _alive(pid: int) -> bool:
    """Whether process `pid` exists (a .part of a live download must stay)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True
