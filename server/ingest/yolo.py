"""The YOLO reader: a folder of `classes.txt` and `labels/*.txt`, as drafts.

A label file holds one object a line, normalized to the image's size (Ultralytics' layout):
`class cx cy w h` (a box), `class cx cy w h score` (a predicted box), or `class x1 y1 x2 y2
x3 y3 ...` (a polygon, three points or more; an odd count of numbers ends with a score).
`labels/<name>.txt` annotates the file `<name>.*` (an `images/` prefix is ignored), and
`labels/<video>/<frame:06d>.txt` frame `frame` of the video `<video>.*` (conventions.py).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

from .formats import Draft, FormatError, find_stem, stem_index
from .kept import Kept, SizedFacts

_BOX = 4
_POLYGON = 6  # three x, y pairs at least


def yolo_labels(folder: Path) -> set[str]:
    return set(yolo_classes(folder))


def yolo_classes(folder: Path) -> list[str]:
    classes = folder / "classes.txt"
    if not classes.is_file():
        raise FormatError(f"{folder}: a YOLO folder holds classes.txt (one class name a line)")
    return [line.strip() for line in classes.read_text().splitlines() if line.strip()]


def label_files(folder: Path) -> Iterator[tuple[str, Path]]:
    """(stem, path) of each label file: `labels/cam1/0001.txt` is stem `cam1/0001`."""
    labels = folder / "labels"
    for path in sorted(labels.rglob("*.txt")) if labels.is_dir() else []:
        yield path.relative_to(labels).with_suffix("").as_posix(), path


def read_yolo(folder: Path) -> Iterator[Draft]:
    """The drafts of a YOLO folder (module docstring). Coordinates stay normalized (`ybox`,
    `ypoints`) until the file's size is known."""
    classes = yolo_classes(folder)
    for stem, path in label_files(folder):
        with path.open() as stream:
            for number, line in enumerate(stream, start=1):
                fields = line.split()
                if not fields:
                    continue
                record = f"labels/{stem}.txt:{number}"
                draft: Draft = {"record": record, "stem": stem}
                try:
                    index = int(fields[0])
                    values = [float(f) for f in fields[1:]]
                except ValueError:
                    yield {**draft, "error": "a line is: class cx cy w h [score], as numbers"}
                    continue
                if not 0 <= index < len(classes):
                    yield {**draft, "error": f"class {index} is not in 0..{len(classes) - 1}"}
                    continue
                if len(values) in (_BOX, _BOX + 1):
                    draft.update(label=classes[index], kind="box", ybox=values[:_BOX])
                elif len(values) >= _POLYGON:
                    pairs = len(values) // 2 * 2
                    draft.update(label=classes[index], kind="polygon", ypoints=values[:pairs])
                else:
                    yield {
                        **draft,
                        "error": "a line is: class cx cy w h [score], or class x1 y1 x2 y2 "
                        "x3 y3 ... [score]",
                    }
                    continue
                if len(values) % 2:
                    draft["score"] = values[-1]
                yield draft


def yolo_kept(folder: Path, files: Mapping[str, SizedFacts]) -> Kept:
    """A YOLO folder's class indexes (label `metadata.yolo.index`), and a frame row for each
    empty frame label file: an empty file says "nothing on this frame", which the export must
    say again (a background frame), though no instance holds it."""
    kept = Kept()
    for index, name in enumerate(yolo_classes(folder)):
        kept.labels.setdefault(name, {"yolo": {"index": index}})
    stems: dict[str, list[str]] | None = None
    for stem, path in label_files(folder):
        if path.read_text().strip():
            continue  # its lines are instances, and their errors the validator's
        stems = stems if stems is not None else stem_index(files)
        try:
            name, frame = find_stem(files, stems, stem)
        except LookupError as error:
            kept.error(f"labels/{stem}.txt", str(error))
            continue
        if frame is not None:
            kept.frames[(name, frame)] = {}
    return kept
