"""YOLO export: a folder with `classes.txt` and one `labels/<file stem>.txt` per image of
normalized `class cx cy w h` lines (boxes only: other kinds have no YOLO form and are counted
as skipped)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .rows import ExportResult, by_file


def write_yolo(stream: Iterator[Any], folder: Path) -> ExportResult:
    labels_dir = folder / "labels"
    labels_dir.mkdir(parents=True, exist_ok=True)
    classes: dict[str, int] = {}
    instances = files = skipped = 0
    for group in by_file(stream):
        first = group[0]
        lines = []
        for row in group:
            if row.kind != "box" or not first.file_width or not first.file_height:
                skipped += 1
                continue
            cls = classes.setdefault(row.label_name, len(classes))
            w, h = first.file_width, first.file_height
            lines.append(
                f"{cls} {(row.x + row.w / 2) / w:.6f} {(row.y + row.h / 2) / h:.6f} "
                f"{row.w / w:.6f} {row.h / h:.6f}"
            )
        if lines:
            stem = Path(first.file_name).with_suffix(".txt")
            target = labels_dir / stem
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text("\n".join(lines) + "\n")
            files += 1
            instances += len(lines)
    (folder / "classes.txt").write_text("".join(f"{name}\n" for name in classes))
    return ExportResult("yolo", instances, files, len(classes), skipped)
