"""The native JSONL reader (the shape is in formats.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson

from .formats import Draft

# A line with `instances` holds nothing else: a key the import would drop is an error instead.
_LINE_KEYS = frozenset({"file", "instances"})


def read_jsonl(path: Path) -> Iterator[Draft]:
    """The drafts of a native JSONL file, line by line (flat memory)."""
    with path.open("rb") as stream:
        for number, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            record = f"{path.name}:{number}"
            try:
                value = orjson.loads(line)
            except orjson.JSONDecodeError as error:
                yield {"record": record, "error": f"not JSON ({error})"}
                continue
            if not isinstance(value, dict) or not isinstance(value.get("file"), str):
                yield {"record": record, "error": 'a line is an object with a "file" name'}
                continue
            if "instances" in value and not _LINE_KEYS.issuperset(value):
                unknown = ", ".join(sorted(set(value) - _LINE_KEYS))
                yield {"record": record, "error": f"unknown key(s) {unknown} beside instances"}
                continue
            items = value.get("instances", [value] if "label" in value else [])
            if not isinstance(items, list):
                yield {"record": record, "error": '"instances" must be a list'}
                continue
            for i, item in enumerate(items):
                where = record if "instances" not in value else f"{record} instances[{i}]"
                if not isinstance(item, dict):
                    yield {"record": where, "error": "an instance must be an object"}
                    continue
                yield {**item, "file": value["file"], "record": where}


def jsonl_labels(path: Path) -> set[str]:
    """Every label name a JSONL file uses (a first, cheap pass, to create missing labels)."""
    names: set[str] = set()
    for draft in read_jsonl(path):
        if isinstance(draft.get("label"), str):
            names.add(draft["label"])
    return names
