"""An instance's geometry as COCO writes it: segmentation and area.

Areas follow the geometry: a polygon's by the shoelace formula (a multi-polygon's is the sum of
its polygons'), an RLE mask's by counting its pixels (the run lengths of ones, as
`pycocotools.mask.area` does; decoded here so the server needs no pycocotools), a box's as
w * h. Computed areas are rounded to a millionth: `7778.836000000001` is float noise, not a
measurement.
"""

from __future__ import annotations

from typing import Any

DIGITS = 6


def clean(value: float) -> float:
    """`value` without float noise (its shortest repr after rounding to a millionth)."""
    return round(value, DIGITS)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def flat_polygon(points: Any) -> list[float] | None:
    """[[x, y], ...] as COCO's flat [x, y, x, y, ...]; None if `points` is not that."""
    if not isinstance(points, list) or not points:
        return None
    flat: list[float] = []
    for pair in points:
        if not isinstance(pair, list) or len(pair) != 2 or not all(map(_is_number, pair)):
            return None
        flat.extend(pair)
    return flat


def segmentation(kind: str, points: Any) -> Any:
    """COCO's segmentation of an instance, or None (a box, or a kind COCO has no mask for)."""
    if kind == "polygon":
        flat = flat_polygon(points)
        return None if flat is None else [flat]
    if kind == "segment" and isinstance(points, dict):
        return points
    if kind == "segment" and isinstance(points, list):
        polygons = [flat_polygon(p) for p in points]
        return None if not polygons or None in polygons else polygons
    return None


def shoelace(flat: list[float]) -> float:
    xs, ys = flat[0::2], flat[1::2]
    n = len(xs)
    return abs(sum(xs[i] * ys[(i + 1) % n] - xs[(i + 1) % n] * ys[i] for i in range(n))) / 2


def rle_counts(counts: str) -> list[int]:
    """The run lengths of a compressed RLE string (COCO's LEB128-like, delta-coded format;
    pycocotools' `rleFrString`)."""
    runs: list[int] = []
    p = 0
    while p < len(counts):
        x = k = 0
        more = True
        while more:
            c = ord(counts[p]) - 48
            x |= (c & 0x1F) << (5 * k)
            more = bool(c & 0x20)
            p += 1
            k += 1
            if not more and c & 0x10:
                x |= -1 << (5 * k)
        if len(runs) > 2:
            x += runs[-2]
        runs.append(x)
    return runs


def rle_area(rle: dict[str, Any]) -> int | None:
    """The pixels an RLE mask covers; None if it is not one."""
    counts = rle.get("counts")
    try:
        runs = rle_counts(counts) if isinstance(counts, str) else counts
    except IndexError:  # a string cut short
        return None
    if not isinstance(runs, list) or not all(isinstance(r, int) and r >= 0 for r in runs):
        return None
    size = rle.get("size")
    if isinstance(size, list) and len(size) == 2 and all(isinstance(n, int) for n in size):
        height, width = size
        if sum(runs) != height * width:  # runs that do not fill the mask: no mask
            return None
    return sum(runs[1::2])


def area(kind: str, w: float | None, h: float | None, points: Any) -> float | int | None:
    """The area of an instance's geometry (module docstring); None if it has none."""
    mask = segmentation(kind, points)
    if isinstance(mask, dict):
        pixels = rle_area(mask)
        if pixels is not None:
            return pixels
    elif mask is not None:
        return clean(sum(shoelace(polygon) for polygon in mask))
    if w is None or h is None:
        return None
    return clean(w * h)
