"""Which files in a checkout directory are the user's: those whose content is no longer what
the checkout wrote (modified, deleted), and those it never wrote where the new version puts
a file (untracked). They are kept as they are, and reported, unless forced.

Every file the lock lists is hashed: a size or date check would miss an edit that keeps both,
and a hard link edited in place shares its inode with the cached blob.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

from .cache import BlobCache
from .manifest import Manifest, pending_paths

WHY = {
    "modified": "changed in the checkout since it was written",
    "deleted": "deleted from the checkout",
    "untracked": "a file the checkout did not write, where the version puts one",
}


def file_sha256(path: Path) -> str | None:
    """file_sha256: the sha256 of the regular file at `path`; None when there is none."""
    if not path.is_file() or path.is_symlink():
        return None
    digest = hashlib.sha256()
    with path.open("rb") as data:
        while chunk := data.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def user_changes(
    folder: Path, expected: Mapping[str, str], ours: Callable[[str], Collection[str]]
) -> dict[str, str]:
    """user_changes: path -> "modified" or "deleted" for each of `expected` (path -> sha256
    the checkout wrote) whose file in `folder` holds none of the contents `ours(path)` names."""
    changed: dict[str, str] = {}
    for path, sha256 in expected.items():
        found = file_sha256(folder / path)
        if found is None:
            changed[path] = "deleted"
        elif found != sha256 and found not in ours(path):
            changed[path] = "modified"
    return changed


@dataclass(slots=True)
class Survey:
    """What `folder` holds against the plan: `written` (path -> sha256 the old lock lists),
    `pending` (what an interrupted run was writing), `wanted` (the new media), the user's
    `changed` files, those to `keep` as they are, and those to `skip` (already in place)."""

    written: dict[str, str]
    sizes: dict[str, int]
    pending: dict[str, str]
    wanted: dict[str, str]
    changed: dict[str, str]
    keep: set[str]
    skip: set[str]

    def ours(self, path: str) -> bool:
        """ours: whether a checkout wrote `path` (else a file there is the user's)."""
        return path in self.written or path in self.pending

    def protects(
        self, folder: Path, force: bool, notify: Callable[[str], None]
    ) -> Callable[[str, str], bool]:
        """protects: whether an annotation file about to be written at a path, with a sha256,
        must not be: the user's file there is kept (and reported), unless forced."""

        def protect(path: str, sha256: str) -> bool:
            if path in self.keep:
                return True
            if force or self.ours(path):
                return False
            found = file_sha256(folder / path)
            if found is None or found == sha256:
                return False
            self.changed[path] = "untracked"
            self.keep.add(path)
            notify(_told(path, "untracked", force))
            return True

        return protect

    def leftovers(self, folder: Path, notes: dict[str, str]) -> list[str]:
        """leftovers: what the old version (or an interrupted run) wrote that the new one,
        with annotation files `notes`, does not hold, except the user's files."""
        held = self.wanted.keys() | notes.keys()
        gone = [p for p in self.written if p not in held and p not in self.keep]
        return gone + [
            p
            for p, sha in self.pending.items()
            if p not in held and p not in self.written and file_sha256(folder / p) == sha
        ]


def survey(folder: Path, old: Manifest | None, wanted: dict[str, str], force: bool) -> Survey:
    """survey: `folder` against the lock it had (`old`, None for a new checkout) and the media
    the new version puts where (`wanted`: path -> sha256)."""
    written: dict[str, str] = {}
    sizes: dict[str, int] = {}
    if old is not None:
        written = {m.path: m.sha256 for m in old.files}
        written |= {a.path: a.sha256 for a in old.annotations}
        sizes = {m.path: m.size for m in old.files}
    pending = pending_paths(folder)
    changed = user_changes(
        folder, written, lambda p: {s for s in (pending.get(p), wanted.get(p)) if s}
    )
    for path in sizes.keys() - wanted.keys():
        if changed.get(path) == "deleted":  # media leaving the version: nothing to keep
            del changed[path]
    for path, sha in wanted.items():
        if path not in written and path not in pending:
            found = file_sha256(folder / path)
            if found is not None and found != sha:
                changed[path] = "untracked"
    keep = set() if force else set(changed)
    # Not fetched: files already in place, and the user's files the new version leaves as is.
    skip = {
        p for p, sha in written.items() if wanted.get(p) == sha and (p in keep or p not in changed)
    }
    return Survey(written, sizes, pending, wanted, changed, keep, skip)


def report(
    folder: Path, cache: BlobCache, survey: Survey, force: bool, notify: Callable[[str], None]
) -> None:
    """report: each file the user changed in DIR, to `notify`; a cached blob changed with one
    (through its hard link) leaves the cache."""
    for path, change in sorted(survey.changed.items()):
        notify(_told(path, change, force))
        try:
            blob = cache.path(survey.written.get(path, ""))
        except ValueError:  # a file the old lock does not list: no blob of it was linked
            continue
        target = folder / path
        # A hard link edited in place changes the cached blob too: it must be fetched again.
        if target.exists() and blob.exists() and os.path.samefile(blob, target):
            cache.evict(survey.written[path])


def _told(path: str, change: str, force: bool) -> str:
    if force:
        return f"replacing {path} (--force): {WHY[change]}"
    return f"kept {path} as it is: {WHY[change]} (--force replaces it with the version's)"
