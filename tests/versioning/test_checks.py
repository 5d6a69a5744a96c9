"""The fast pass of check_content never accepts what the full check refuses."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from trainingdb.versioning import checks
from trainingdb.versioning.models import EntityType

ANY = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.floats(-2, 3) | st.sampled_from([math.nan, math.inf, 0.5]),
    st.sampled_from(["box", "polygon", "text_span", "classification", "blob", "human", "model"]),
    st.just({}),
    st.just([1]),
)
FIELDS = [
    "frame_number", "kind", "x", "y", "w", "h", "points", "text_start", "text_end",
    "attributes", "score", "source", "model_run", "track_id", "author",
]  # fmt: skip


@settings(max_examples=3000, deadline=None)
@given(st.fixed_dictionaries({f: ANY for f in FIELDS}))
def test_fast_pass_implies_full_check(row: dict[str, object]) -> None:
    if checks._plainly_valid(EntityType.INSTANCE, row):
        slow = [
            f for f, value in row.items() if f in checks._TYPES and checks._TYPES[f](value)
        ] + checks._rules(EntityType.INSTANCE, row)
        slow += [f for f in checks._NOT_NULL if f in row and row[f] is None]
        assert slow == [], (row, slow)


def test_the_fast_pass_accepts_ordinary_rows() -> None:
    box: dict[str, object] = {
        "frame_number": None, "kind": "box", "x": 1.0, "y": 2, "w": 3.0, "h": 4.0,
        "points": None, "text_start": None, "text_end": None, "attributes": {},
        "score": 0.5, "source": "model", "model_run": "r1", "track_id": None, "author": "",
    }  # fmt: skip
    assert checks._plainly_valid(EntityType.INSTANCE, box)
    span = {**box, "kind": "text_span", "x": None, "text_start": 3, "text_end": 9}
    assert checks._plainly_valid(EntityType.INSTANCE, span)
    for bad in ({"score": 1.5}, {"w": -1.0}, {"x": True}, {"model_run": "r", "source": "human"}):
        assert not checks._plainly_valid(EntityType.INSTANCE, {**box, **bad})
