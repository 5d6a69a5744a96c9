"""`trainingdb.lock`: what a checkout directory holds, written last so that a directory without
one is an unfinished checkout.

JSON: the server, dataset, version as asked (and the branch `--update` follows), the commit id
everything was read at, the filter, the format, the instance count, and every file — media
(with the file's id, which a later diff names) and annotations — by path, size and sha256.
`trainingdb.lock.pending` names the paths a checkout in progress is writing, so a re-run can
tell its own files from the user's.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import orjson

from .errors import InvalidInput

LOCK = "trainingdb.lock"
PENDING = "trainingdb.lock.pending"
STAGING = ".trainingdb-tmp"  # temporary files inside DIR, renamed into place when whole
FORMATS = ("coco", "yolo", "jsonl", "parquet")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Entry:
    """One file of the checkout: its path under DIR (POSIX), size and sha256."""

    path: str
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class Media:
    """A media file of the checkout: the dataset's file `id` and `name`, and where it is."""

    id: str
    name: str
    path: str
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class Manifest:
    """The content of `trainingdb.lock`; `where` / `query` are the filter (None: none)."""

    server: str
    dataset: str
    version: str
    branch: str | None
    commit: str
    commit_version: str
    format: str
    where: dict[str, Any] | None
    query: str | None
    instances: int
    files: tuple[Media, ...]
    annotations: tuple[Entry, ...] = field(default=())

    def to_json(self) -> bytes:
        """to_json: the lock file's bytes."""
        return orjson.dumps(asdict(self), option=orjson.OPT_INDENT_2) + b"\n"

    @classmethod
    def from_json(cls, raw: bytes, where: str) -> Manifest:
        """from_json: a lock file's content; InvalidInput naming `where` and the field."""
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as error:
            raise InvalidInput(f"{where}: not JSON ({error})", "BAD_USER_INPUT") from None
        top = _typed(data, dict, where)
        files = _typed(top.get("files"), list, f"{where}: files")
        notes = _typed(top.get("annotations"), list, f"{where}: annotations")
        return cls(
            server=_typed(top.get("server"), str, f"{where}: server"),
            dataset=_typed(top.get("dataset"), str, f"{where}: dataset"),
            version=_typed(top.get("version"), str, f"{where}: version"),
            branch=_optional(top.get("branch"), str, f"{where}: branch"),
            commit=_typed(top.get("commit"), str, f"{where}: commit"),
            commit_version=_typed(top.get("commit_version"), str, f"{where}: commit_version"),
            format=_choice(top.get("format"), f"{where}: format"),
            where=_optional(top.get("where"), dict, f"{where}: where"),
            query=_optional(top.get("query"), str, f"{where}: query"),
            instances=_typed(top.get("instances"), int, f"{where}: instances"),
            files=tuple(_media(f, f"{where}: files[{i}]") for i, f in enumerate(files)),
            annotations=tuple(_entry(e, f"{where}: annotations[{i}]") for i, e in enumerate(notes)),
        )


def safe_path(path: str, what: str) -> str:
    """safe_path: `path` when it is a relative POSIX path that stays inside its folder;
    InvalidInput naming `what` otherwise (a file name must never write outside DIR)."""
    if (
        "\0" in path
        or "\\" in path
        or path.startswith("/")
        or any(part in ("", ".", "..") for part in path.split("/"))
    ):
        raise InvalidInput(
            f"{what}: {path!r} is not a relative path inside the checkout", "BAD_USER_INPUT"
        )
    return path


def read(folder: Path, name: str = LOCK) -> Manifest | None:
    """read: the manifest `name` in `folder` (None when there is none)."""
    try:
        raw = (folder / name).read_bytes()
    except FileNotFoundError:
        return None
    return Manifest.from_json(raw, str(folder / name))


def write(folder: Path, manifest: Manifest, name: str = LOCK) -> None:
    """write: `manifest` as `folder/name`, atomically (a reader sees the old or the new)."""
    write_atomic(folder / name, manifest.to_json())


def write_atomic(target: Path, data: bytes) -> None:
    """write_atomic: `data` as `target`, through a temporary name in the checkout's staging
    folder and a rename, so no reader ever sees part of it."""
    staging = _staging_of(target)
    staging.mkdir(exist_ok=True)
    part = staging / f"{secrets.token_hex(8)}.part"
    try:
        part.write_bytes(data)
        os.replace(part, target)
    finally:
        part.unlink(missing_ok=True)


def _staging_of(target: Path) -> Path:
    """The staging folder of the checkout `target` (a lock file in DIR) belongs to."""
    return target.parent / STAGING


def _media(raw: object, where: str) -> Media:
    item = _typed(raw, dict, where)
    return Media(
        id=_typed(item.get("id"), str, f"{where}.id"),
        name=_typed(item.get("name"), str, f"{where}.name"),
        path=safe_path(_typed(item.get("path"), str, f"{where}.path"), f"{where}.path"),
        size=_typed(item.get("size"), int, f"{where}.size"),
        sha256=_typed(item.get("sha256"), str, f"{where}.sha256"),
    )


def _entry(raw: object, where: str) -> Entry:
    item = _typed(raw, dict, where)
    return Entry(
        path=safe_path(_typed(item.get("path"), str, f"{where}.path"), f"{where}.path"),
        size=_typed(item.get("size"), int, f"{where}.size"),
        sha256=_typed(item.get("sha256"), str, f"{where}.sha256"),
    )


def _choice(raw: object, where: str) -> str:
    value = _typed(raw, str, where)
    if value not in FORMATS:
        raise InvalidInput(
            f"{where}: {value!r} is not one of {', '.join(FORMATS)}", "BAD_USER_INPUT"
        )
    return value


def _optional(raw: object, kind: type[T], where: str) -> T | None:
    return None if raw is None else _typed(raw, kind, where)


def _typed(raw: object, kind: type[T], where: str) -> T:
    if not isinstance(raw, kind) or (kind is int and isinstance(raw, bool)):
        names = {dict: "an object", list: "a list", str: "a string", int: "an integer"}
        raise InvalidInput(
            f"{where}: expected {names.get(kind, kind.__name__)}, got {raw!r:.80}",
            "BAD_USER_INPUT",
        )
    return raw


def pending_paths(folder: Path) -> dict[str, str]:
    """pending_paths: path -> sha256 of the files an unfinished checkout of `folder` was
    writing (empty when none was)."""
    try:
        raw = orjson.loads((folder / PENDING).read_bytes())
    except FileNotFoundError:
        return {}
    except orjson.JSONDecodeError as error:
        raise InvalidInput(f"{folder / PENDING}: not JSON ({error})", "BAD_USER_INPUT") from None
    paths = _typed(raw, dict, str(folder / PENDING))
    return {
        safe_path(path, f"{folder / PENDING}"): _typed(sha, str, f"{folder / PENDING}: {path}")
        for path, sha in paths.items()
    }


def write_pending(folder: Path, paths: Mapping[str, str]) -> None:
    """write_pending: mark `folder` as a checkout in progress writing `paths` (path ->
    sha256), atomically."""
    write_atomic(folder / PENDING, orjson.dumps(dict(paths)))
