"""How each format lays out a checkout directory, and its annotation files, made by the
server's export job (so they are exactly what `trainingdb export` writes):

| format  | media           | annotations                                |
| coco    | `images/<name>` | `annotations.json`                         |
| yolo    | `images/<name>` | `labels/<stem>.txt`, `classes.txt`         |
| jsonl   | `media/<name>`  | `annotations.jsonl` (`file`: the name)     |
| parquet | `media/<name>`  | `annotations.parquet` (`file`: the name)   |

One change is made to the server's bytes: COCO's `file_name` (of images and of COCO-video
videos) gains the `images/` prefix, so each is a path relative to DIR, beside the annotation
file. Stills and videos exist there; a video's frames are named as extracted frames would be
(`images/<video stem>/<frame:06d>.jpg`), which a checkout does not extract.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import ijson
import orjson

from .client import Client
from .errors import JobTimeout, ServerError
from .manifest import STAGING, Entry, safe_path
from .types import Job

MEDIA_DIR = {"coco": "images", "yolo": "images", "jsonl": "media", "parquet": "media"}
SINGLE_FILE = {
    "coco": "annotations.json",
    "jsonl": "annotations.jsonl",
    "parquet": "annotations.parquet",
}
WORKER_NOTICE_AFTER = 5.0  # seconds an export may sit QUEUED before the user is told why


@dataclass(frozen=True, slots=True)
class Annotations:
    """The annotation files an export made (placed or, for protected paths, not) and the
    number of instances it holds."""

    files: tuple[Entry, ...]
    instances: int


def media_path(fmt: str, name: str) -> str:
    """media_path: where file `name` goes in a checkout in format `fmt`."""
    return f"{MEDIA_DIR[fmt]}/{safe_path(name, f'file name {name!r}')}"


class Waits(Protocol):
    """What `wait_for` needs of a client: `Client.wait`."""

    def wait(self, job: Job, *, poll: float, timeout: float | None = None) -> Job: ...


def wait_for(client: Waits, job: Job, queued_at: float, notify: Callable[[str], None]) -> Job:
    """wait_for: the export `job` once done, telling `notify` once when it has waited
    WORKER_NOTICE_AFTER seconds without a worker taking it."""
    left = WORKER_NOTICE_AFTER - (time.monotonic() - queued_at)
    try:
        return client.wait(job, poll=0.2, timeout=max(left, 0.0))
    except JobTimeout as timeout:
        if timeout.job.status == "QUEUED":
            notify(
                f"export job {job.id} is waiting for a worker: run `trainingdb worker` "
                "beside the server, or serve with `trainingdb serve --with-worker`"
            )
    return client.wait(job, poll=0.2)


def place(
    client: Client, job: Job, folder: Path, fmt: str, protected: Callable[[str, str], bool]
) -> Annotations:
    """place: the finished export `job` as `fmt`'s annotation files in `folder`, each written
    whole then renamed into place, except where `protected(path, sha256)` (the user's file
    there stays)."""
    staging = folder / STAGING
    staging.mkdir(exist_ok=True)
    result = job.result if isinstance(job.result, dict) else {}
    instances = result.get("instances")
    if not isinstance(instances, int):
        raise ServerError(
            f"export job {job.id}: its result names no instance count", "BAD_RESPONSE"
        )
    download = staging / f"export-{secrets.token_hex(6)}"
    try:
        client.download(job, download)
        entries = [
            _put(made, path, folder, protected) for path, made in _made(fmt, download, staging)
        ]
    except (ijson.JSONError, zipfile.BadZipFile) as error:
        raise ServerError(
            f"export job {job.id}: its {fmt} result cannot be read: {error}", "BAD_RESPONSE"
        ) from error
    finally:
        download.unlink(missing_ok=True)
    return Annotations(tuple(sorted(entries, key=lambda e: e.path)), instances)


def _made(fmt: str, download: Path, staging: Path) -> Iterator[tuple[str, Path]]:
    """(path in DIR, staged file) for each annotation file the export gives."""
    if fmt == "yolo":
        yield from _unzipped(download, staging)
    elif fmt == "coco":
        staged = _staged(staging)
        _rewrite_coco(download, staged, f"{MEDIA_DIR['coco']}/")
        yield SINGLE_FILE[fmt], staged
    else:
        yield SINGLE_FILE[fmt], download


def _put(staged: Path, path: str, folder: Path, protected: Callable[[str, str], bool]) -> Entry:
    """Record `staged`'s size and sha256, and rename it to `path` unless that is protected."""
    digest, size = hashlib.sha256(), 0
    with staged.open("rb") as data:
        while chunk := data.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    try:
        if not protected(path, digest.hexdigest()):
            target = folder / path
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staged, target)
    finally:
        staged.unlink(missing_ok=True)
    return Entry(path, size, digest.hexdigest())


def _staged(staging: Path) -> Path:
    return staging / f"{secrets.token_hex(8)}.part"


def _unzipped(archive: Path, staging: Path) -> Iterator[tuple[str, Path]]:
    """YOLO's folder, which the export job stores as a zip: each member, staged."""
    with zipfile.ZipFile(archive) as zipped:
        for member in zipped.infolist():
            if member.is_dir():
                continue
            path = safe_path(member.filename, f"export archive member {member.filename!r}")
            staged = _staged(staging)
            with zipped.open(member) as source, staged.open("wb") as out:
                while chunk := source.read(1 << 20):
                    out.write(chunk)
            yield path, staged


_PREFIXED = frozenset({"images.item.file_name", "videos.item.file_name"})


def _rewrite_coco(source: Path, dest: Path, prefix: str) -> None:
    """Copy COCO JSON from `source` to `dest`, streaming, with `prefix` before every image's
    and video's file_name. Values are re-encoded with orjson, as the server wrote them."""
    is_array: list[bool] = []  # per open container
    count: list[int] = []  # items written in it so far
    with source.open("rb") as data, dest.open("wb") as out:
        for path, event, value in ijson.parse(data, use_float=True):
            if event in ("end_map", "end_array"):
                is_array.pop()
                count.pop()
                out.write(b"}" if event == "end_map" else b"]")
                continue
            if event == "map_key":
                out.write((b"," if count[-1] else b"") + orjson.dumps(value) + b":")
                count[-1] += 1
                continue
            if is_array and is_array[-1]:
                out.write(b"," if count[-1] else b"")
                count[-1] += 1
            if event in ("start_map", "start_array"):
                out.write(b"{" if event == "start_map" else b"[")
                is_array.append(event == "start_array")
                count.append(0)
                continue
            if event == "string" and path in _PREFIXED:
                value = prefix + value
            out.write(orjson.dumps(value))
