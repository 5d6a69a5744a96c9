"""Bringing a checkout directory's media to their target: fetching what the cache lacks (in
parallel, one download per content), hard-linking them into place, removing what left.

Every file reaches DIR whole: a link or copy is made under a temporary name in DIR's staging
folder and renamed over the path.
"""

from __future__ import annotations

import os
import secrets
import shutil
import threading
from collections.abc import Callable, Collection, Iterable
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from .cache import BlobCache
from .errors import InvalidInput, TrainingdbError
from .manifest import STAGING


@dataclass(frozen=True, slots=True)
class Target:
    """A media file the checkout must hold: the dataset's file `id` and `name`, its path in
    DIR, its sha256, and its signed link (None where none was read: the file is in place)."""

    id: str
    name: str
    path: str
    sha256: str
    url: str | None


@dataclass(frozen=True, slots=True)
class Fetch:
    """What fetching did: every target's size, and what was downloaded."""

    sizes: dict[str, int]  # path -> size
    fetched_files: int
    fetched_bytes: int


def fetch_and_link(
    cache: BlobCache,
    folder: Path,
    targets: Iterable[Target],
    *,
    skip: Collection[str],
    keep: Collection[str],
    parallel: int,
    on_file: Callable[[], None],
) -> Fetch:
    """fetch_and_link: every target's blob into the cache (one download per content,
    `parallel` at a time) and linked at its path, except the paths in `skip` (already in
    place: not fetched) and `keep` (the user's: fetched, left alone). The first failure
    stops the rest and is raised."""
    by_sha: dict[str, list[Target]] = {}
    sizes: dict[str, int] = {}
    for target in targets:
        if target.path in skip:
            on_file()
        else:
            by_sha.setdefault(target.sha256, []).append(target)
    lock = threading.Lock()
    fetched = [0, 0]

    def one(group: list[Target]) -> None:
        try:
            got = cache.fetch(group[0].sha256, next((t.url for t in group if t.url), None))
        except TrainingdbError as error:
            # The user knows files by path, not by blob: say which one failed.
            error.message = f"{group[0].path}: {error.message}"
            error.args = (error.message,)
            raise
        for target in group:
            if target.path not in keep:
                link(got.path, folder, target.path)
            with lock:
                sizes[target.path] = got.size
            on_file()
        if got.downloaded:
            with lock:
                fetched[0] += 1
                fetched[1] += got.size

    with ThreadPoolExecutor(parallel, thread_name_prefix="trainingdb-checkout") as pool:
        futures: list[Future[None]] = [pool.submit(one, group) for group in by_sha.values()]
        try:
            done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        finally:
            # On a failure or Ctrl-C, the downloads not started yet never start (the pool
            # would otherwise run them all before letting go).
            for future in futures:
                future.cancel()
        failed = next((f for f in done if f.exception() is not None), None)
        if failed is not None:
            raise failed.exception()  # type: ignore[misc]
    return Fetch(sizes, fetched[0], fetched[1])


def link(blob: Path, folder: Path, path: str) -> None:
    """link: the cached `blob` as `folder/path`: a hard link, a copy where the filesystem
    allows none; nothing is done when it is that link already."""
    target = folder / path
    if target.is_dir() and not target.is_symlink():
        raise InvalidInput(f"{target}: a folder is where the file {path!r} goes", "BAD_USER_INPUT")
    try:
        if os.path.samefile(blob, target):
            return
    except FileNotFoundError:
        pass
    staged = folder / STAGING / f"{secrets.token_hex(8)}.part"
    staged.parent.mkdir(exist_ok=True)
    try:
        try:
            os.link(blob, staged)
        except OSError:  # another filesystem, or one without hard links
            shutil.copyfile(blob, staged)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged, target)
    finally:
        staged.unlink(missing_ok=True)


def remove(folder: Path, paths: Iterable[str]) -> None:
    """remove: `paths` from `folder`, and the folders that leaves empty."""
    for path in paths:
        target = folder / path
        target.unlink(missing_ok=True)
        parent = target.parent
        while parent != folder:
            try:
                parent.rmdir()
            except OSError:  # not empty (or gone): stop climbing
                break
            parent = parent.parent
