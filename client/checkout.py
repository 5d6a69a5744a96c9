"""Checkout: a version of a dataset materialized in a local directory — its media (hard-linked
from the shared cache), its annotations in a training format, and `trainingdb.lock` — and
`update`, which moves a checkout to another version fetching only what differs.

A branch is resolved to its current commit once, and everything is read at that commit id. The
filter (`where`, a FileWhere input, or `query`, the text language on files) picks the files;
the annotations are every instance on them. The lock is written last: a directory without one
is an unfinished checkout, and running the same checkout again completes it.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from .cache import BlobCache
from .checkout_formats import media_path
from .checkout_run import Options, Plan, Summary, files_by_id, materialize
from .checkout_sync import Target
from .client import Client
from .errors import InvalidInput, NotFound
from .manifest import FORMATS, LOCK, PENDING, Manifest, pending_paths, read


def checkout(
    client: Client,
    cache: BlobCache,
    dataset: str,
    version: str | None,
    folder: Path,
    *,
    server: str,
    fmt: str = "coco",
    where: Mapping[str, Any] | None = None,
    query: str | None = None,
    options: Options | None = None,
) -> Summary:
    """checkout: `dataset` at `version` (default: its default branch) into `folder`, which
    must be empty, absent, or an unfinished checkout; `server` is recorded in the lock."""
    started = time.monotonic()
    options = options or Options()
    if fmt not in FORMATS:
        raise InvalidInput(f"format: {fmt!r} is not one of {', '.join(FORMATS)}", "BAD_USER_INPUT")
    _check_filter(where, query)
    _check_fresh(folder)
    asked = version or client.dataset(dataset).default_branch
    branches = {b.name for b in client.branches(dataset)}
    commit = client.resolve(dataset, asked)
    base = Manifest(
        server=server,
        dataset=dataset,
        version=asked,
        branch=asked if asked in branches else commit.branch,
        commit=commit.id,
        commit_version=commit.version,
        format=fmt,
        where=None if where is None else dict(where),
        query=query,
        instances=0,
        files=(),
    )
    targets = _listed(client, base)
    plan = Plan(base, targets, export_query(base, targets), old=None)
    return materialize(client, cache, folder, plan, options, started)


def update(
    client: Client,
    cache: BlobCache,
    folder: Path,
    version: str | None = None,
    *,
    server: str | None = None,
    options: Options | None = None,
) -> Summary:
    """update: move the checkout in `folder` to `version` (default: the head of the branch it
    follows), fetching only media that differ, removing those that left, rewriting the
    annotations; the user's changed files are reported and kept unless `options.force`.
    `server` (default: the lock's) is recorded in the new lock."""
    started = time.monotonic()
    options = options or Options()
    old = read_checkout(folder)
    asked = version or old.branch
    if not asked:
        raise InvalidInput(
            f"{folder}: the checkout follows no branch; name the version: --update DIR @VERSION",
            "BAD_USER_INPUT",
        )
    commit = client.resolve(old.dataset, asked)
    branches = {b.name for b in client.branches(old.dataset)}
    branch = asked if asked in branches else commit.branch
    base = replace(
        old,
        server=server or old.server,
        version=asked,
        branch=branch,
        commit=commit.id,
        commit_version=commit.version,
    )
    if old.where is None and old.query is None:
        try:
            targets = _diffed(client, old, base)
        except NotFound:  # the old commit is gone (its branch deleted): list the files instead
            targets = _listed(client, base)
    else:
        targets = _listed(client, base)
    plan = Plan(base, targets, export_query(base, targets), old=old)
    return materialize(client, cache, folder, plan, options, started)


def read_checkout(folder: Path) -> Manifest:
    """read_checkout: the lock of the checkout in `folder`; InvalidInput when it is none."""
    found = read(folder)
    if found is None:
        unfinished = (folder / PENDING).exists()
        raise InvalidInput(
            f"{folder}: "
            + (
                "an unfinished checkout: run the same `trainingdb checkout` again to complete it"
                if unfinished
                else f"not a checkout (no {LOCK})"
            ),
            "BAD_USER_INPUT",
        )
    return found


def export_query(base: Manifest, targets: list[Target]) -> str | None:
    """export_query: the instance filter (text language) selecting the annotations of the
    checkout's files: the file query itself, or the listed files' ids for a `where` filter
    (the export job takes text only)."""
    if base.query is not None:
        return f"any file({base.query})"
    if base.where is None:
        return None
    if not targets:
        return "file_id is null"  # matches nothing: every instance is on a file
    return "file_id in (" + ", ".join(f"'{t.id}'" for t in targets) + ")"


def _check_filter(where: Mapping[str, Any] | None, query: str | None) -> None:
    if where is not None and query is not None:
        raise InvalidInput("filter: give --where or --query, not both", "BAD_USER_INPUT")
    if query is not None and not query.strip():
        raise InvalidInput("query: empty; leave it out to check out every file", "BAD_USER_INPUT")


def _check_fresh(folder: Path) -> None:
    """A new checkout goes to an absent or empty folder, or completes an unfinished one."""
    if folder.exists() and not folder.is_dir():
        raise InvalidInput(f"{folder}: exists and is not a folder", "BAD_USER_INPUT")
    if (folder / LOCK).exists():
        raise InvalidInput(
            f"{folder}: a checkout already; move it with `trainingdb checkout --update {folder}`",
            "BAD_USER_INPUT",
        )
    if folder.is_dir() and not (folder / PENDING).exists() and any(folder.iterdir()):
        raise InvalidInput(
            f"{folder}: not empty and not a checkout: check out into a new or empty folder",
            "BAD_USER_INPUT",
        )
    if folder.is_dir():
        pending_paths(folder)  # a damaged marker fails here, before anything is written


def _listed(client: Client, base: Manifest) -> list[Target]:
    """Every file at the commit matching the filter, as targets (names checked, none twice)."""
    files = client.files(base.dataset, base.commit, where=base.where, query=base.query)
    return _targets(base.format, ((f.id, f.name, f.sha256, f.url) for f in files))


def _diffed(client: Client, old: Manifest, base: Manifest) -> list[Target]:
    """The targets of an unfiltered update, from the diff: O(changes), not O(files)."""
    changed = {
        c.entity_id: c.change
        for c in client.diff(old.dataset, old.commit, base.commit)
        if c.kind == "file"
    }
    kept = [(m.id, m.name, m.sha256, None) for m in old.files if m.id not in changed]
    wanted = [eid for eid, change in changed.items() if change != "removed"]
    found = files_by_id(client, base, wanted)
    return _targets(base.format, [*kept, *((f.id, f.name, f.sha256, f.url) for f in found)])


def _targets(fmt: str, rows: Iterable[tuple[str, str, str, str | None]]) -> list[Target]:
    targets: list[Target] = []
    owner: dict[str, str] = {}
    for file_id, name, sha256, url in rows:
        path = media_path(fmt, name)
        if path in owner:
            raise InvalidInput(
                f"files {owner[path]} and {file_id} are both named {name!r}: a checkout "
                "needs distinct names",
                "BAD_USER_INPUT",
            )
        owner[path] = file_id
        targets.append(Target(file_id, name, path, sha256, url))
    return targets


__all__ = ["Options", "Summary", "checkout", "read_checkout", "update"]
