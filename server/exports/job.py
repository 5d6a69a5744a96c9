"""The `export` job: an export written to the blob store, for clients to download by link.

Params: `version` (default: the dataset's default branch), `format`, optional `query`. The
export is written to a temporary file (a zip for yolo's folder), then stored as a blob; the
job's result holds its sha256, size and counts, and GraphQL's `BatchJob.download` signs a link.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from trainingdb.server.jobs.worker import JobContext, JobFailed
from trainingdb.versioning.datasets import get_dataset_by_id
from trainingdb.versioning.errors import TrainingdbError

from .writers import FORMATS, export

SUFFIX = {"coco": ".json", "jsonl": ".jsonl", "parquet": ".parquet", "yolo": ".zip"}


def export_job(ctx: JobContext) -> dict[str, Any]:
    """export: write the slice, store it as a blob, and record where it is."""
    params = ctx.job.params
    fmt = str(params.get("format", "coco"))
    if fmt not in FORMATS:
        raise JobFailed(f"export format {fmt!r} is not one of {', '.join(FORMATS)}")
    with tempfile.TemporaryDirectory(prefix="trainingdb-export-") as tmp:
        with ctx.engine.connect() as conn:
            ref = (
                params.get("version") or get_dataset_by_id(conn, ctx.job.dataset_id).default_branch
            )
            target = Path(tmp) / ("export" if fmt == "yolo" else f"export{SUFFIX[fmt]}")
            try:
                result = export(conn, ctx.job.dataset_id, ref, fmt, target, params.get("query"))
            except TrainingdbError as error:
                raise JobFailed(error.message) from None
        if fmt == "yolo":
            target = Path(shutil.make_archive(str(target), "zip", root_dir=target))
        blob = ctx.blobs.put_file(target)
    ctx.progress(total=result.instances, done=result.instances, force=True)
    outcome = {
        **result.as_dict(),
        "version": ref,
        "sha256": blob.sha256,
        "size": blob.size,
        "filename": f"export{SUFFIX[fmt]}",
    }
    return ctx.apply(lambda conn: outcome)
