"""The `import_media` job: media files on disk become blobs and file entities on a branch.

Params: `branch`, `paths` (absolute, readable by the worker), optional `root` (file names are
paths relative to it; default: the file's base name) and `skip_invalid`.

Each file is probed (`probe.py`) and stored in the blob store (content-addressed, so storing
before the database commit is safe: a blob no file names is invisible, and a retry stores
nothing twice). Then one transaction records the blobs and creates the files. A file whose name
is already on the branch with the same bytes is left as it is, so running the same import again
changes nothing; the same name with other bytes is an error for that file. With errors, the job
applies nothing unless `skip_invalid` is set, in which case it applies the good files and
reports the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.dialects.postgresql import insert

from trainingdb import versioning as v
from trainingdb.server.jobs.worker import JobContext, JobFailed
from trainingdb.versioning.models import Blob, EntityType
from trainingdb.versioning.sql import among
from trainingdb.versioning.tables import KINDS
from trainingdb.versioning.visibility import visible

from .probe import MediaError, MediaInfo, probe


@dataclass(frozen=True, slots=True)
class Probed:
    name: str
    path: str
    sha256: str
    size: int
    storage_key: str
    info: MediaInfo


def _name(path: Path, root: Path | None) -> str:
    if root is None:
        return path.name
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        raise MediaError(f"{path}: not under the import's root {root}") from None


def import_media(ctx: JobContext) -> dict[str, Any]:
    """import_media: probe, store and record every path (module docstring)."""
    params = ctx.job.params
    branch = str(params.get("branch") or "main")
    root = Path(params["root"]) if params.get("root") else None
    paths = [Path(p) for p in params.get("paths", [])]
    errors: list[dict[str, Any]] = []
    good: dict[str, Probed] = {}
    ctx.progress(total=len(paths), force=True)
    for i, path in enumerate(paths):
        try:
            name = _name(path, root)
            if name in good:
                raise MediaError(f"{path}: the name {name!r} is taken by {good[name].path}")
            info = probe(path)
            blob = ctx.blobs.put_file(path)
            good[name] = Probed(name, str(path), blob.sha256, blob.size, blob.storage_key, info)
        except (MediaError, OSError) as error:
            errors.append({"record": str(path), "message": str(error)})
        ctx.progress(done=i + 1, failed=len(errors), errors=errors)
    skip = bool(params.get("skip_invalid"))

    def write(conn: Connection) -> dict[str, Any]:
        existing = _existing(conn, ctx.job.dataset_id, branch, list(good))
        new: list[Probed] = []
        unchanged = 0
        for name, probed in good.items():
            if name not in existing:
                new.append(probed)
            elif existing[name] == probed.sha256:
                unchanged += 1
            else:
                errors.append(
                    {
                        "record": probed.path,
                        "message": f"{probed.path}: file {name!r} is already on {branch!r} "
                        "with other content",
                    }
                )
        ctx.progress(done=len(paths), failed=len(errors), errors=errors)
        if errors and not skip:
            raise JobFailed(
                f"{len(errors)} of {len(paths)} files cannot be imported; nothing was imported "
                "(submit with skip_invalid to import the others)",
                errors,
            )
        _record(conn, ctx.job.dataset_id, branch, new)
        return {"created": len(new), "unchanged": unchanged, "failed": len(errors)}

    return ctx.apply(write)


def _existing(conn: Connection, dataset_id: int, branch: str, names: list[str]) -> dict[str, str]:
    """name -> blob sha256 of the files with these names at the branch's head."""
    table = KINDS[EntityType.FILE].table
    version = v.resolve(conn, dataset_id, branch)
    rows = conn.execute(
        select(table.c.name, table.c.blob_sha256).where(
            visible(table, version), among(table.c.name, set(names))
        )
    )
    return {name: sha for name, sha in rows}


def _record(conn: Connection, dataset_id: int, branch: str, files: list[Probed]) -> None:
    if not files:
        return
    blobs = {
        f.sha256: {
            "dataset_id": dataset_id,
            "sha256": f.sha256,
            "size": f.size,
            "mime": f.info.mime,
            "storage_key": f.storage_key,
        }
        for f in files
    }
    conn.execute(insert(Blob).values(list(blobs.values())).on_conflict_do_nothing())
    v.create(
        conn,
        dataset_id,
        branch,
        "file",
        [
            {
                "name": f.name,
                "blob_sha256": f.sha256,
                "media_type": f.info.media_type.value,
                "width": f.info.width,
                "height": f.info.height,
                "fps": f.info.fps,
                "frame_count": f.info.frame_count,
                "duration": f.info.duration,
                # Nothing of the importing machine (its absolute paths): the name is the
                # file's path relative to the import's root already.
                "metadata": {},
            }
            for f in files
        ],
    )
