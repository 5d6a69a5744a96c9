"""Areas from geometry (RLE decoded as pycocotools does, polygons by the shoelace formula,
without float noise) and the id allocator, without a database."""

from __future__ import annotations

import numpy as np
import pytest
from pycocotools import mask as coco_mask

from trainingdb.server.exports.geometry import area, clean, rle_area, segmentation
from trainingdb.server.exports.ids import Ids


@pytest.mark.parametrize("seed", range(12))
def test_rle_area_is_pycocotools_area(seed: int) -> None:
    rng = np.random.default_rng(seed)
    height, width = (int(n) for n in rng.integers(1, 40, size=2))
    mask = np.asfortranarray((rng.random((height, width)) < rng.random()).astype(np.uint8))
    encoded = coco_mask.encode(mask)
    rle = {"size": [height, width], "counts": encoded["counts"].decode()}
    assert rle_area(rle) == int(coco_mask.area(encoded)) == int(mask.sum())
    assert area("segment", 1.0, 1.0, rle) == int(mask.sum())


def test_uncompressed_and_broken_rle() -> None:
    assert rle_area({"size": [2, 3], "counts": [1, 2, 3]}) == 2
    assert rle_area({"size": [2, 3], "counts": "P"}) is None  # cut short
    assert rle_area({"size": [2, 3], "counts": [1, -2]}) is None
    assert rle_area({"size": [2, 3], "counts": [1, 2]}) is None  # 3 of the 6 pixels
    # A mask that is not one falls back to its box.
    assert area("segment", 2.0, 3.0, {"size": [4, 4], "counts": "abc"}) == 6.0


def test_a_multi_polygon_has_the_area_of_its_polygons_not_of_its_box() -> None:
    squares = [[[0, 0], [20, 0], [20, 20], [0, 20]], [[30, 30], [50, 30], [50, 50], [30, 50]]]
    assert area("segment", 50.0, 50.0, squares) == 800
    assert area("polygon", 10.0, 10.0, [[0, 0], [10, 0], [0, 10]]) == 50
    assert area("box", 2.5, 4.0, None) == 10.0
    assert area("classification", None, None, None) is None
    assert segmentation("box", None) is None
    assert segmentation("polygon", [[1, 2], [3, 4], [5, 6]]) == [[1, 2, 3, 4, 5, 6]]


def test_float_noise_is_rounded_away() -> None:
    assert clean(7778.836000000001) == 7778.836
    assert repr(area("box", 0.1, 0.2, None)) == "0.02"  # 0.1 * 0.2 is 0.020000000000000004


def test_ids_keep_unique_values_and_hand_out_fresh_ones_above() -> None:
    ids = Ids.of([3, 3, 7, "a", None, True, 2.5])
    assert [ids.take(k) for k in [3, 3, 7, "a", None, True, 2.5]] == [3, 8, 7, "a", 9, 10, 2.5]
