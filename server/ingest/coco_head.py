"""Everything of a COCO file but its annotations, in one streaming pass.

A COCO file is one JSON object whose `annotations` list is most of its bytes; the rest (images,
videos, categories, info, licenses, a producer's own top-level keys) is small. One pass of
ijson's event parser builds those values and walks past the annotations without building
them, so memory holds the head, never the annotations (which `coco.py` reads item by item).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ijson

from .formats import FormatError

# The top-level lists the import reads itself; every other top-level key is the document's.
LISTS = ("images", "videos", "categories")
_OPEN = frozenset({"start_map", "start_array"})
_CLOSE = frozenset({"end_map", "end_array"})
Event = tuple[str, Any]


@dataclass
class CocoHead:
    """A COCO file's top level: `results` is true for a results file (a bare list of
    annotations), which has no head."""

    results: bool = False
    images: list[Any] = field(default_factory=list)
    videos: list[Any] = field(default_factory=list)
    categories: list[Any] = field(default_factory=list)
    # `info`, `licenses` and any other top-level key, as given.
    document: dict[str, Any] = field(default_factory=dict)


def read_head(path: Path) -> CocoHead:
    """The head of the COCO file at `path`; FormatError if it is not a COCO object or list."""
    head = CocoHead()
    try:
        with path.open("rb") as stream:
            events: Iterator[Event] = ijson.basic_parse(stream, use_float=True)
            first = next(events, None)
            if first is not None and first[0] == "start_array":
                head.results = True
                return head
            if first is None or first[0] != "start_map":
                raise FormatError(f"{path.name}: not JSON (a COCO file is an object or a list)")
            for event, key in events:
                if event == "end_map":
                    break
                start = next(events)
                if key == "annotations":
                    _skip(start, events)
                elif key in LISTS:
                    value = _build(start, events)
                    if not isinstance(value, list):
                        raise FormatError(f"{path.name}: {key} must be a list")
                    setattr(head, key, value)
                else:
                    head.document[key] = _build(start, events)
    except ijson.JSONError as error:
        raise FormatError(f"{path.name}: not JSON ({error})") from None
    except StopIteration:
        raise FormatError(f"{path.name}: not JSON (it ends early)") from None
    return head


def _build(start: Event, events: Iterator[Event]) -> Any:
    """The value whose first event is `start`, built from the events that follow."""
    builder = ijson.ObjectBuilder()
    builder.event(*start)
    depth = 1 if start[0] in _OPEN else 0
    while depth:
        event, value = next(events)
        builder.event(event, value)
        depth += (event in _OPEN) - (event in _CLOSE)
    return builder.value


def _skip(start: Event, events: Iterator[Event]) -> None:
    depth = 1 if start[0] in _OPEN else 0
    while depth:
        event, _ = next(events)
        depth += (event in _OPEN) - (event in _CLOSE)
