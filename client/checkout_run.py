"""One run of a checkout or update: from a plan (the target commit and its files) to a
directory that holds exactly them, its annotations, and a new `trainingdb.lock`.

Order matters for interruptions: the pending marker first (the directory is ours), the export
job queued (the server works while media download), media fetched and linked, annotations
placed, what left removed, and the lock written last, atomically.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .cache import BlobCache
from .checkout_formats import place, wait_for
from .checkout_survey import report, survey
from .checkout_sync import Target, fetch_and_link, remove
from .client import Client
from .errors import InvalidInput
from .manifest import PENDING, STAGING, Manifest, Media, write, write_pending
from .records import File

ID_BATCH = 1000  # file ids asked for in one `files(where: {id: {_in: ...}})` request


@dataclass(frozen=True, slots=True)
class Options:
    """How to run: downloads at once, whether the user's changes in DIR are overwritten, and
    where notices (one line each) and progress (files placed so far, of how many) go."""

    parallel: int = 8
    force: bool = False
    notify: Callable[[str], None] = field(default=lambda message: None)
    on_total: Callable[[int], None] = field(default=lambda files: None)
    on_file: Callable[[], None] = field(default=lambda: None)

    def __post_init__(self) -> None:
        if not 1 <= self.parallel <= 64:
            raise InvalidInput(
                f"parallel: 1 to 64 downloads at once, not {self.parallel}", "BAD_USER_INPUT"
            )


@dataclass(frozen=True, slots=True)
class Summary:
    """What a checkout or update did; `changed` lists the user's files left alone (or, with
    force, replaced) as "path: modified|deleted|untracked" (untracked: a file the checkout did
    not write, where the new version puts one)."""

    commit: str
    version: str
    files: int
    instances: int
    fetched_files: int
    fetched_bytes: int
    reused_files: int
    removed_files: int
    seconds: float
    changed: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        """as_json: the summary as `--json` prints it."""
        return {
            "commit": self.commit,
            "version": self.version,
            "files": self.files,
            "instances": self.instances,
            "fetched_files": self.fetched_files,
            "fetched_bytes": self.fetched_bytes,
            "reused_files": self.reused_files,
            "removed_files": self.removed_files,
            "seconds": round(self.seconds, 3),
            "changed": list(self.changed),
        }


@dataclass(frozen=True, slots=True)
class Plan:
    """Where a run goes: the new lock's fields (`files` etc. still empty), the media files it
    must hold, the export's instance filter, and the lock it replaces (None: a new checkout)."""

    base: Manifest
    targets: list[Target]
    export_query: str | None
    old: Manifest | None


def materialize(
    client: Client, cache: BlobCache, folder: Path, plan: Plan, options: Options, started: float
) -> Summary:
    """materialize: bring `folder` to `plan` (module docstring) and say what it took."""
    base = plan.base
    folder.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(folder / STAGING, ignore_errors=True)  # an interrupted run's temporary files
    cache.clean()
    found = survey(folder, plan.old, {t.path: t.sha256 for t in plan.targets}, options.force)
    report(folder, cache, found, options.force, options.notify)
    write_pending(folder, {**found.pending, **found.wanted})
    job = client.export(base.dataset, base.commit, base.format, query=plan.export_query)
    queued = time.monotonic()
    targets = _with_links(client, cache, base, plan.targets, found.skip)
    options.on_total(len(targets))
    fetched = fetch_and_link(
        cache,
        folder,
        targets,
        skip=found.skip,
        keep=found.keep,
        parallel=options.parallel,
        on_file=options.on_file,
    )
    done = wait_for(client, job, queued, options.notify)
    annotations = place(
        client, done, folder, base.format, found.protects(folder, options.force, options.notify)
    )
    notes = {e.path: e.sha256 for e in annotations.files}
    write_pending(folder, {**found.pending, **found.wanted, **notes})
    gone = found.leftovers(folder, notes)
    remove(folder, gone)
    sizes = {**found.sizes, **fetched.sizes}
    files = tuple(
        Media(t.id, t.name, t.path, sizes[t.path], t.sha256)
        for t in sorted(targets, key=lambda t: t.path)
    )
    write(
        folder,
        replace(base, files=files, annotations=annotations.files, instances=annotations.instances),
    )
    (folder / PENDING).unlink(missing_ok=True)
    shutil.rmtree(folder / STAGING, ignore_errors=True)
    return Summary(
        commit=base.commit,
        version=base.commit_version,
        files=len(files),
        instances=annotations.instances,
        fetched_files=fetched.fetched_files,
        fetched_bytes=fetched.fetched_bytes,
        reused_files=len(files) - fetched.fetched_files,
        removed_files=len(gone),
        seconds=time.monotonic() - started,
        changed=tuple(f"{path}: {change}" for path, change in sorted(found.changed.items())),
    )


def files_by_id(client: Client, base: Manifest, ids: list[str]) -> Iterator[File]:
    """files_by_id: the files `ids` at the plan's commit (signed links included), in batches."""
    for start in range(0, len(ids), ID_BATCH):
        where = {"id": {"_in": ids[start : start + ID_BATCH]}}
        yield from client.files(base.dataset, base.commit, where=where, page_size=ID_BATCH)


def _with_links(
    client: Client, cache: BlobCache, base: Manifest, targets: list[Target], skip: set[str]
) -> list[Target]:
    """The targets, with a fresh signed link for those to download that have none (files an
    update kept from the old lock)."""
    need = [
        t.id for t in targets if t.url is None and t.path not in skip and not cache.has(t.sha256)
    ]
    if not need:
        return targets
    links = {f.id: f.url for f in files_by_id(client, base, need)}
    return [replace(t, url=links.get(t.id, t.url)) for t in targets]
