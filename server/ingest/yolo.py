"""The YOLO reader: a folder of `classes.txt` and `labels/*.txt`, as drafts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from .formats import Draft, FormatError


def yolo_labels(folder: Path) -> set[str]:
    return set(_yolo_classes(folder))


def _yolo_classes(folder: Path) -> list[str]:
    classes = folder / "classes.txt"
    if not classes.is_file():
        raise FormatError(f"{folder}: a YOLO folder holds classes.txt (one class name a line)")
    return [line.strip() for line in classes.read_text().splitlines() if line.strip()]


def read_yolo(folder: Path) -> Iterator[Draft]:
    """The drafts of a YOLO folder: `classes.txt` and `labels/<name>.txt` files of normalized
    `class cx cy w h [score]` lines. `<name>` is the file's name on the branch without its
    extension (an `images/` prefix is ignored), so `labels/cam1/0001.txt` annotates
    `cam1/0001.jpg`. Boxes stay normalized (`ybox`) until the file's size is known."""
    classes = _yolo_classes(folder)
    labels = folder / "labels"
    for path in sorted(labels.rglob("*.txt")) if labels.is_dir() else []:
        stem = path.relative_to(labels).with_suffix("").as_posix()
        with path.open() as stream:
            for number, line in enumerate(stream, start=1):
                fields = line.split()
                if not fields:
                    continue
                record = f"labels/{path.relative_to(labels).as_posix()}:{number}"
                draft: Draft = {"record": record, "stem": stem}
                try:
                    index = int(fields[0])
                    values = [float(f) for f in fields[1:]]
                except ValueError:
                    yield {**draft, "error": "a line is: class cx cy w h [score], as numbers"}
                    continue
                if len(values) not in (4, 5) or not 0 <= index < len(classes):
                    yield {
                        **draft,
                        "error": f"a line is: class cx cy w h [score], with class in "
                        f"0..{len(classes) - 1}",
                    }
                    continue
                draft.update(label=classes[index], kind="box", ybox=values[:4])
                if len(values) == 5:
                    draft["score"] = values[4]
                yield draft
