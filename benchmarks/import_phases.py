"""Where an annotation import's time goes, in process, and what PostgreSQL's insert alone costs.

    python benchmarks/import_phases.py --instances N [--repeat R] [--json]

Makes the ingest benchmark's dataset (N/20 images, 20 labels) and its JSONL predictions, then:

- validate_us, format_us: microseconds per instance for the job's Python side: reading and
  validating the JSONL (server/ingest/annotations_job.Validator), then making COPY lines;
- stage_s, apply_s, import_per_s: `create_stream` of the validated rows into `main` (COPY into
  the staging table; then the checks and the INSERT into `instance`), without server or reader;
- second_apply_s: the same for another model run's N rows (other ids) onto the branch that now
  holds N: what the existing-record check costs once the branch is not empty;
- rerun_apply_s: the first N rows imported again (all found, none written);
- insert_floor_per_s: rows/s of a bare INSERT ... SELECT of the 2N imported rows into a table
  built like `instance` (its checks, its indexes, its triggers): what no Python change can beat;
- insert_heap_only_per_s: the same into a table with the checks and the primary key alone;
- bulk_index_per_s: rows/s of that heap-only insert followed by `CREATE INDEX` of each of
  `instance`'s secondary indexes: what an import into a partition of its own, indexed once and
  attached, would cost PostgreSQL (the schema does not do this; the figure is for the decision).

Each INSERT figure is the best of R runs into a fresh table.
"""

from __future__ import annotations

import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, text

if not __package__:  # run as `python benchmarks/import_phases.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.common import arguments, report
from benchmarks.ingest_bench import prepare, write_inputs
from trainingdb.server.ingest import annotations_job as job
from trainingdb.server.ingest.jsonl import read_jsonl
from trainingdb.server.runtime import Runtime
from trainingdb.server.settings import Settings
from trainingdb.versioning.bulk import create_stream, id_block
from trainingdb.versioning.copy_format import line_function
from trainingdb.versioning.tables import kind_of

INSTANCE = kind_of("instance")
COLUMNS = ["entity_id", *INSTANCE.content]


class _Quiet:
    """The job context's progress calls, ignored: this measures the work, not the reporting."""

    def progress(self, **_: Any) -> None:
        pass


def _secondary_indexes(conn: Connection) -> list[str]:
    """`instance`'s secondary index definitions, retargeted at the probe table."""
    found = conn.execute(
        text(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'instance'"
            " AND indexname <> 'instance_pkey' ORDER BY indexname"
        )
    ).scalars()
    return [
        re.sub(r"INDEX (\S+) ON public\.instance", r"INDEX \1_probe ON floor_probe", d)
        for d in found
    ]


def _insert_rate(conn: Connection, indexes: bool, rows: int, build: tuple[str, ...] = ()) -> float:
    """Rows/s of one INSERT ... SELECT of the imported rows into a fresh table like `instance`."""
    conn.execute(text("DROP TABLE IF EXISTS floor_probe"))
    including = "INCLUDING ALL" if indexes else "INCLUDING DEFAULTS INCLUDING CONSTRAINTS"
    conn.execute(text(f"CREATE TABLE floor_probe (LIKE instance {including})"))
    if indexes:
        conn.execute(
            text(
                "CREATE TRIGGER floor_probe_inserted AFTER INSERT ON floor_probe "
                "REFERENCING NEW TABLE AS new_rows "
                "FOR EACH STATEMENT EXECUTE FUNCTION trainingdb_instance_inserted()"
            )
        )
    else:
        conn.execute(text("ALTER TABLE floor_probe ADD PRIMARY KEY (dataset_id, row_id)"))
    names = ", ".join(["dataset_id", "branch_id", "seq_from", *COLUMNS])
    start = time.perf_counter()
    # Column names from the model, no input: nothing to bind.
    conn.execute(text(f"INSERT INTO floor_probe ({names}) SELECT {names} FROM instance"))  # noqa: S608
    for definition in build:
        conn.execute(text(definition))
    elapsed = time.perf_counter() - start
    conn.execute(text("DROP TABLE floor_probe"))
    return rows / elapsed


def _apply_time(runtime: Runtime, ds: int, rows: list[dict[str, Any]], created: int) -> float:
    """Seconds from the last staged row to the end of one `create_stream` of `rows`."""
    staged_at: list[float] = []

    def timed() -> Any:
        yield from rows
        staged_at.append(time.perf_counter())

    with runtime.engine.begin() as conn:
        result = create_stream(conn, ds, "main", "instance", timed(), repeats=True)
        end = time.perf_counter()
    assert result.created == created, (result, created)
    return end - staged_at[0]


def main() -> None:
    args = arguments(__doc__, repeat=3)
    n = args.instances
    with (
        tempfile.TemporaryDirectory() as tmp,
        Runtime.open(Settings.resolve(data_dir=Path(tmp) / "data")) as runtime,
    ):
        runtime.migrate()
        ds = prepare(runtime, n)
        (path,) = write_inputs(Path(tmp), n, 1, "jsonl")
        with runtime.engine.begin() as conn:
            files = job._files(conn, ds, "main")
            labels, required, _ = job._labels(conn, ds, "main", set())
        block = id_block(job.NAMESPACE, ds)
        validator = job.Validator(files, labels, required, "model", "run-1", block)
        start = time.perf_counter()
        rows = list(validator.rows(read_jsonl(path), _Quiet()))  # type: ignore[arg-type]
        validated = time.perf_counter()
        line = line_function(COLUMNS, [INSTANCE.table.c[c].type for c in COLUMNS])
        for row in rows:
            line(row)
        formatted = time.perf_counter()
        assert not validator.errors, validator.errors[:3]
        assert len(rows) == n
        other = job.Validator(files, labels, required, "model", "run-2", block)
        others = list(other.rows(read_jsonl(path), _Quiet()))  # type: ignore[arg-type]

        staged_at: list[float] = []
        with runtime.engine.begin() as conn:
            stream_start = time.perf_counter()

            def timed() -> Any:
                yield from rows
                staged_at.append(time.perf_counter())

            result = create_stream(conn, ds, "main", "instance", timed(), repeats=True)
            stream_end = time.perf_counter()
        assert result.created == n
        second = _apply_time(runtime, ds, others, n)
        rerun = _apply_time(runtime, ds, rows, 0)
        with runtime.engine.begin() as conn:
            # The imported rows themselves are the source (both runs': 2N rows): the same ids,
            # files, labels, scores.
            floor = max(_insert_rate(conn, True, 2 * n) for _ in range(args.repeat))
            heap = max(_insert_rate(conn, False, 2 * n) for _ in range(args.repeat))
            build = tuple(_secondary_indexes(conn))
            bulk = max(_insert_rate(conn, False, 2 * n, build) for _ in range(args.repeat))
    report(
        {
            "instances": n,
            "validate_us": round((validated - start) / n * 1e6, 2),
            "format_us": round((formatted - validated) / n * 1e6, 2),
            "stage_s": round(staged_at[0] - stream_start, 3),
            "apply_s": round(stream_end - staged_at[0], 3),
            "import_per_s": round(n / (stream_end - stream_start)),
            "second_apply_s": round(second, 3),
            "rerun_apply_s": round(rerun, 3),
            "insert_floor_per_s": round(floor),
            "insert_heap_only_per_s": round(heap),
            "bulk_index_per_s": round(bulk),
        },
        args.json,
    )


if __name__ == "__main__":
    main()
