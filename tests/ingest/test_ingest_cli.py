"""`trainingdb ingest media` and `trainingdb worker`, run as a user runs them."""

from __future__ import annotations

import io
import signal
import subprocess
from pathlib import Path

from PIL import Image
from sqlalchemy import URL, Engine

from tests.clirun import TRAININGDB, environment, run
from trainingdb import versioning as v


def image(path: Path, size: tuple[int, int]) -> Path:
    buffer = io.BytesIO()
    Image.new("RGB", size, "#204060").save(buffer, format="PNG")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())
    return path


def settings(database_url: URL, tmp_path: Path) -> list[str]:
    return [
        "--database-url",
        database_url.render_as_string(hide_password=False),
        "--blob-url",
        (tmp_path / "blobs").as_uri(),
        "--data-dir",
        str(tmp_path / "data"),
    ]


def file_names(engine: Engine, dataset: str) -> list[str]:
    with engine.connect() as conn:
        ds = v.get_dataset(conn, dataset).id
        return sorted(f["name"] for f in v.read(conn, ds, "main", "file").values())


def test_ingest_runs_a_job_and_reports_it(
    engine: Engine, database_url: URL, tmp_path: Path
) -> None:
    with engine.begin() as conn:
        v.create_dataset(conn, "cli-media")
    folder = tmp_path / "media"
    image(folder / "a.png", (10, 10))
    image(folder / "sub" / "b.png", (20, 10))
    done = run(
        "ingest",
        "media",
        "cli-media",
        str(folder),
        "--root",
        str(folder),
        "--run",
        *settings(database_url, tmp_path),
    )
    assert done.returncode == 0, done.stderr
    assert "submitted: import 2 files" in done.stdout
    assert "succeeded: created=2 failed=0 unchanged=0" in done.stdout
    assert file_names(engine, "cli-media") == ["a.png", "sub/b.png"]

    (folder / "broken.png").write_bytes(b"\x89PNG nothing else")
    failed = run(
        "ingest", "media", "cli-media", str(folder), "--run", *settings(database_url, tmp_path)
    )
    assert failed.returncode == 1
    assert f"{folder / 'broken.png'}: " in failed.stderr
    assert "failed: 1 of 3 files cannot be imported; nothing was imported" in failed.stderr

    missing = run(
        "ingest",
        "media",
        "cli-media",
        str(tmp_path / "nope"),
        "--run",
        *settings(database_url, tmp_path),
    )
    assert missing.returncode == 2
    assert "no such file or folder" in missing.stderr


def test_a_worker_process_runs_what_ingest_submits(
    engine: Engine, database_url: URL, tmp_path: Path
) -> None:
    with engine.begin() as conn:
        v.create_dataset(conn, "cli-worker")
    worker = subprocess.Popen(
        [
            TRAININGDB,
            "worker",
            "--poll",
            "0.1",
            "--name",
            "w-test",
            *settings(database_url, tmp_path),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment(),
    )
    try:
        done = run(
            "ingest",
            "media",
            "cli-worker",
            str(image(tmp_path / "c.png", (5, 5))),
            *settings(database_url, tmp_path),
        )
        assert done.returncode == 0, done.stderr
        assert "succeeded" in done.stdout
        assert file_names(engine, "cli-worker") == ["c.png"]
    finally:
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=30)
    assert worker.returncode == 0, err
    assert "worker w-test waiting for jobs" in out
    assert "worker w-test stopped" in out
    assert "claimed by w-test" in err


def test_ingest_annotations_from_the_command_line(
    engine: Engine, database_url: URL, tmp_path: Path
) -> None:
    with engine.begin() as conn:
        v.create_dataset(conn, "cli-ann")
    picture = image(tmp_path / "pic.png", (40, 30))
    media = run(
        "ingest", "media", "cli-ann", str(picture), "--run", *settings(database_url, tmp_path)
    )
    assert media.returncode == 0, media.stderr
    preds = tmp_path / "preds.jsonl"
    preds.write_text(
        '{"file": "pic.png", "instances": [{"label": "cat", "bbox": [1, 1, 5, 5], "score": 0.5},'
        ' {"label": "dog", "bbox": [10, 10, 5, 5], "score": 0.7}]}\n'
    )
    args = ("ingest", "annotations", "cli-ann", str(preds), "--source", "model")
    refused = run(*args, *settings(database_url, tmp_path))
    assert refused.returncode == 2
    assert "--model-run" in refused.stderr
    done = run(
        *args, "--model-run", "m1", "--create-labels", "--run", *settings(database_url, tmp_path)
    )
    assert done.returncode == 0, done.stderr
    assert "succeeded: created=2 existing=0 failed=0 labels_created=2" in done.stdout
    with engine.connect() as conn:
        ds = v.get_dataset(conn, "cli-ann").id
        rows = v.read(conn, ds, "main", "instance").values()
    assert sorted(r["score"] for r in rows) == [0.5, 0.7]
