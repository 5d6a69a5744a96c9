"""Property: any COCO document (random ids, categories, images with and without annotations,
boxes, polygons, multi-polygons, attributes, a producer's own keys everywhere, info and
licenses) imported into a fresh dataset exports as itself, up to the normalisations of
coco_normal.py."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from tests.exports.coco_normal import decimals, expected, ordered
from tests.exports.helpers import image, make_dataset, make_worker, run_export, run_import
from trainingdb.server.jobs.worker import Worker
from trainingdb.versioning.models import JobStatus

# PostgreSQL's jsonb holds no NUL character; anything else goes.
TEXT = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=6)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**53), 2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    TEXT,
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=6,
)
# A producer's own keys: names no COCO reader gives a meaning to.
OWN = st.dictionaries(
    st.text("abcxyz_", min_size=1, max_size=5).map("x_".__add__), VALUES, max_size=2
)
QUARTERS = st.integers(0, 400).map(lambda q: q / 4)


@st.composite
def annotation(draw: st.DrawFn, width: int, height: int, categories: list[int]) -> dict[str, Any]:
    x = draw(st.integers(0, width * 4 - 4)) / 4
    y = draw(st.integers(0, height * 4 - 4)) / 4
    w = draw(st.integers(0, int((width - x) * 4))) / 4
    h = draw(st.integers(0, int((height - y) * 4))) / 4
    item: dict[str, Any] = {
        "category_id": draw(st.sampled_from(categories)),
        "bbox": [x, y, w, h],
        **draw(OWN),
    }
    point = st.tuples(st.integers(0, width * 2), st.integers(0, height * 2))
    polygon = st.lists(point, min_size=3, max_size=5).map(lambda ps: [c / 2 for p in ps for c in p])
    shape = draw(st.sampled_from(["box", "empty", "polygon", "multi"]))
    if shape == "empty":
        item["segmentation"] = []
    elif shape == "polygon":
        item["segmentation"] = [draw(polygon)]
    elif shape == "multi":
        item["segmentation"] = draw(st.lists(polygon, min_size=2, max_size=3))
    if draw(st.booleans()):
        item["area"] = draw(QUARTERS)
    if draw(st.booleans()):
        item["iscrowd"] = draw(st.sampled_from([0, 1]))
    if draw(st.booleans()):
        item["attributes"] = draw(st.dictionaries(TEXT, VALUES, max_size=3))
    if draw(st.booleans()):
        item["score"] = draw(st.integers(0, 100)) / 100
    return item


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    ids = st.lists(st.integers(1, 10**6), min_size=1, max_size=4, unique=True)
    category_ids = draw(ids)
    names = draw(
        st.lists(
            st.text("abcdefgh", min_size=1, max_size=5),
            min_size=len(category_ids),
            max_size=len(category_ids),
            unique=True,
        )
    )
    categories = [
        {"id": i, "name": n, "supercategory": draw(TEXT), **draw(OWN)}
        for i, n in zip(category_ids, names, strict=True)
    ]
    images: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    for k, image_id in enumerate(draw(ids)):
        width, height = draw(st.integers(8, 64)), draw(st.integers(8, 64))
        images.append(
            {"id": image_id, "file_name": f"img{k}.jpg", "width": width, "height": height}
            | draw(OWN)
        )
        for _ in range(draw(st.integers(0, 3))):
            item = draw(annotation(width, height, category_ids))
            annotations.append({"image_id": image_id, **item})
    annotation_ids = draw(
        st.lists(
            st.integers(1, 10**9),
            min_size=len(annotations),
            max_size=len(annotations),
            unique=True,
        )
    )
    for item, annotation_id in zip(annotations, annotation_ids, strict=True):
        item["id"] = annotation_id
    document: dict[str, Any] = {
        "images": images,
        "categories": categories,
        "annotations": annotations,
    }
    if draw(st.booleans()):
        document["info"] = {"description": draw(TEXT), "year": draw(st.integers(1990, 2030))}
    if draw(st.booleans()):
        document["licenses"] = [{"id": i, "name": draw(TEXT), "url": ""} for i in draw(ids)]
    document.update(draw(OWN))
    return document


@pytest.fixture(scope="module")
def worker(engine: Engine) -> Iterator[Worker]:
    with tempfile.TemporaryDirectory() as folder:
        yield make_worker(engine, Path(folder))


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(document=documents())
def test_any_coco_document_exports_as_itself(
    engine: Engine, worker: Worker, document: dict[str, Any]
) -> None:
    files = [image(i["file_name"], i["width"], i["height"]) for i in document["images"]]
    ds = make_dataset(engine, files)  # a fresh dataset per example
    with tempfile.TemporaryDirectory() as folder:
        source, out = Path(folder) / "in.json", Path(folder) / "out.json"
        source.write_bytes(orjson.dumps(document))
        done = run_import(engine, worker, ds, source, "coco")
        assert done.status is JobStatus.SUCCEEDED, (done.message, done.errors)
        run_export(engine, ds, "coco", out)
        exported = orjson.loads(out.read_bytes())
    assert decimals(ordered(exported)) == decimals(expected(document))
