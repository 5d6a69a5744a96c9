"""The engine against the reference model (tests/versioning/model.py), driven by hypothesis.

Random sequences of writes (valid and invalid), commits, branches, tags, branch deletion,
protection, merges with every strategy and reverts run on both; every operation must succeed on
both or fail on both with the same code. After every step, the working state of every live
branch and every tagged state must be equal; rules also read and diff random refs (old commits,
`branch@n`, tags, commit ids and their prefixes) and compare.

CI runs 60 examples of up to 30 steps (about a minute on 2 cores);
TRAININGDB_HYPOTHESIS_EXAMPLES raises the count for longer local runs. The example database is
off (`database=None`), so nothing is written into the repository.
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import Engine, insert

from tests.versioning.model import KINDS, Model, ModelError
from trainingdb import versioning as v
from trainingdb.versioning.models import Blob

T = TypeVar("T")
EXAMPLES = int(os.environ.get("TRAININGDB_HYPOTHESIS_EXAMPLES", "60"))

LABELS = [uuid.UUID(int=0x100 + i) for i in range(5)]
FILES = [uuid.UUID(int=0x200 + i) for i in range(3)]
INSTANCES = [uuid.UUID(int=0x300 + i) for i in range(8)]
BRANCHES = ["main", "b1", "b2", "b3"]
TAGS = ["t1", "t2"]
SHA = "e" * 64

POOLS = {"label": LABELS, "file": FILES, "instance": INSTANCES}
branch_names = st.sampled_from(BRANCHES)
label_names = st.sampled_from(["car", "person", "bike", "truck", "sign"])
coords = st.integers(0, 8).map(lambda n: n * 0.25)


def attempt(call: Callable[[], T]) -> tuple[str | None, T | None]:
    """(None, result), or (error code, None) for an engine or model error."""
    try:
        return None, call()
    except (v.TrainingdbError, ModelError) as error:
        return error.code, None


class EngineVsModel(RuleBasedStateMachine):
    engine: Engine

    def __init__(self) -> None:
        super().__init__()
        self.conn = self.engine.connect()
        self.tx = self.conn.begin()
        self.dataset = v.create_dataset(self.conn, "model-based").id
        self.conn.execute(
            insert(Blob).values(
                dataset_id=self.dataset, sha256=SHA, size=1, mime="image/png", storage_key="k"
            )
        )
        self.model = Model()
        self.model.add_root(v.resolve(self.conn, self.dataset, "main").branch_id, "main")

    def teardown(self) -> None:
        self.tx.rollback()
        self.conn.close()

    # --- running both sides --------------------------------------------------------------

    def both(
        self, engine_call: Callable[[], T], model_call: Callable[[T | None], object]
    ) -> T | None:
        """Run the engine, then the model (given the engine's result); outcomes must agree."""
        try:
            result: T | None = engine_call()
            engine_code = None
        except v.TrainingdbError as error:
            result, engine_code = None, error.code
        try:
            model_call(result)
            model_code = None
        except ModelError as error:
            model_code = error.code
        assert engine_code == model_code, f"engine: {engine_code}, model: {model_code}"
        return result

    def refs(self) -> list[str]:
        """Refs that exist (live branches, tags, `b@n`, commit ids and 8-digit prefixes), and
        a few that do not, so both outcomes are drawn."""
        refs = ["nope", "b3@9", *self.model.tags]
        for branch in self.model.branches.values():
            if not branch.deleted:
                refs += [branch.name, branch.name]
                refs += [f"{branch.name}@{n}" for n in range(branch.head + 1)]
        for commit in self.model.commits[-6:]:
            refs += [str(commit.id), commit.id.hex[:8]]
        return refs

    def branch(self, data: st.DataObject) -> str:
        """Mostly a live branch; sometimes any name (which may not exist)."""
        live = [b.name for b in self.model.branches.values() if not b.deleted]
        return data.draw(st.sampled_from(live) if data.draw(st.integers(0, 9)) else branch_names)

    def entity(self, data: st.DataObject, branch: str, kind: str) -> uuid.UUID:
        """Mostly an entity visible on `branch`; sometimes any id of the pool."""
        found = self.model.live(branch)
        existing = sorted(found.working[kind]) if found else []
        if existing and data.draw(st.integers(0, 5)) > 0:
            return data.draw(st.sampled_from(existing))
        return data.draw(st.sampled_from(POOLS[kind]))

    def seed_model(self, kind: str, rows: list[dict[str, Any]], _: object) -> None:
        self.model.create("main", kind, rows)

    @initialize()
    def seed(self) -> None:
        """Start from a small committed state, so most operations find something to act on."""
        seeds: list[tuple[str, list[dict[str, Any]]]] = [
            (
                "label",
                [
                    {"entity_id": LABELS[0], "name": "car"},
                    {"entity_id": LABELS[1], "name": "person"},
                ],
            ),
            (
                "file",
                [
                    {"entity_id": FILES[i], "name": name, "blob_sha256": SHA, "media_type": "image"}
                    for i, name in enumerate(["a.png", "b.png"])
                ],
            ),
            (
                "instance",
                [
                    {
                        "entity_id": INSTANCES[i],
                        "file_entity_id": FILES[i % 2],
                        "label_entity_id": LABELS[i // 2],
                        "kind": "box",
                        "x": float(i),
                        "y": 0.0,
                        "w": 1.0,
                        "h": 1.0,
                    }
                    for i in range(4)
                ],
            ),
        ]
        for kind, rows in seeds:
            self.both(
                functools.partial(v.create, self.conn, self.dataset, "main", kind, rows),
                functools.partial(self.seed_model, kind, rows),
            )
        self.both(
            lambda: v.commit(self.conn, self.dataset, "main", "seed"),
            lambda made: self.model.commit("main", made.id if made else uuid.uuid4()),
        )

    def fresh(self, data: st.DataObject, branch: str, kind: str) -> uuid.UUID:
        """Mostly an id not yet visible on `branch` (a create that can succeed)."""
        found = self.model.live(branch)
        taken = found.working[kind] if found else {}
        unused = [eid for eid in POOLS[kind] if eid not in taken]
        if unused and data.draw(st.integers(0, 4)) > 0:
            return data.draw(st.sampled_from(unused))
        return data.draw(st.sampled_from(POOLS[kind]))

    # --- writes ---------------------------------------------------------------------------

    @rule(data=st.data(), name=label_names)
    def create_label(self, data: st.DataObject, name: str) -> None:
        branch = self.branch(data)
        row = {"entity_id": self.fresh(data, branch, "label"), "name": name}
        self.both(
            lambda: v.create(self.conn, self.dataset, branch, "label", [row]),
            lambda _: self.model.create(branch, "label", [row]),
        )

    @rule(data=st.data(), name=st.sampled_from(["a.png", "c.png", "d.png"]))
    def create_file(self, data: st.DataObject, name: str) -> None:
        branch = self.branch(data)
        row = {
            "entity_id": self.fresh(data, branch, "file"),
            "name": name,
            "blob_sha256": SHA,
            "media_type": "image",
        }
        self.both(
            lambda: v.create(self.conn, self.dataset, branch, "file", [row]),
            lambda _: self.model.create(branch, "file", [row]),
        )

    @rule(
        data=st.data(),
        count=st.integers(1, 3),
        x=coords,
        attributes=st.dictionaries(st.sampled_from(["a", "b"]), st.integers(0, 3), max_size=2),
    )
    def create_instances(
        self, data: st.DataObject, count: int, x: float, attributes: dict[str, int]
    ) -> None:
        branch = self.branch(data)
        eids = [self.fresh(data, branch, "instance") for _ in range(count)]
        label, file = self.entity(data, branch, "label"), self.entity(data, branch, "file")
        rows = [
            {
                "entity_id": eid,
                "file_entity_id": file,
                "label_entity_id": label,
                "kind": "box",
                "x": x,
                "y": 1.0,
                "w": 2.0,
                "h": 3.0,
                "attributes": attributes,
            }
            for eid in eids
        ]
        self.both(
            lambda: v.create(self.conn, self.dataset, branch, "instance", rows),
            lambda _: self.model.create(branch, "instance", rows),
        )

    @rule(data=st.data(), name=label_names)
    def rename_label(self, data: st.DataObject, name: str) -> None:
        branch = self.branch(data)
        change = {self.entity(data, branch, "label"): {"name": name}}
        self.both(
            lambda: v.update(self.conn, self.dataset, branch, "label", change),
            lambda _: self.model.update(branch, "label", change),
        )

    @rule(data=st.data(), x=coords, relabel=st.booleans())
    def update_instance(self, data: st.DataObject, x: float, relabel: bool) -> None:
        branch = self.branch(data)
        eid = self.entity(data, branch, "instance")
        fields: dict[str, Any] = {"x": x}
        if relabel:
            fields["label_entity_id"] = self.entity(data, branch, "label")
        self.both(
            lambda: v.update(self.conn, self.dataset, branch, "instance", {eid: fields}),
            lambda _: self.model.update(branch, "instance", {eid: fields}),
        )

    @rule(data=st.data(), kind=st.sampled_from(KINDS))
    def delete(self, data: st.DataObject, kind: str) -> None:
        branch = self.branch(data)
        eid = self.entity(data, branch, kind)
        self.both(
            lambda: v.delete(self.conn, self.dataset, branch, kind, [eid]),
            lambda _: self.model.delete(branch, kind, [eid]),
        )

    # --- refs -----------------------------------------------------------------------------

    @rule(data=st.data())
    def commit(self, data: st.DataObject) -> None:
        branch = self.branch(data)
        self.both(
            lambda: v.commit(self.conn, self.dataset, branch, "step", "machine"),
            lambda made: self.model.commit(branch, made.id if made else uuid.uuid4()),
        )

    @rule(name=st.sampled_from(BRANCHES[1:]), data=st.data())
    def create_branch(self, name: str, data: st.DataObject) -> None:
        source = data.draw(st.sampled_from(self.refs()))
        self.both(
            lambda: v.create_branch(self.conn, self.dataset, name, source),
            lambda made: self.model.create_branch(made.id if made else -1, name, source),
        )

    @rule(name=st.sampled_from(TAGS), data=st.data())
    def create_tag(self, name: str, data: st.DataObject) -> None:
        ref = data.draw(st.sampled_from(self.refs()))
        self.both(
            lambda: v.create_tag(self.conn, self.dataset, name, ref),
            lambda _: self.model.create_tag(name, ref),
        )

    @rule(data=st.data())
    def delete_branch(self, data: st.DataObject) -> None:
        name = self.branch(data)
        self.both(
            lambda: v.delete_branch(self.conn, self.dataset, name),
            lambda _: self.model.delete_branch(name),
        )

    @rule(data=st.data(), protected=st.sampled_from([False, False, True]))
    def protect(self, data: st.DataObject, protected: bool) -> None:
        name = self.branch(data)
        self.both(
            lambda: v.set_protected(self.conn, self.dataset, name, protected),
            lambda _: self.model.set_protected(name, protected),
        )

    # --- merge, revert --------------------------------------------------------------------

    @rule(strategy=st.sampled_from(["fail", "ours", "theirs"]), data=st.data())
    def merge(self, strategy: str, data: st.DataObject) -> None:
        into = self.branch(data)
        source = data.draw(st.sampled_from(self.refs()))

        def model_merge(result: v.MergeResult | None) -> None:
            commit_id = result.commit.id if result and result.commit else uuid.uuid4()
            made = self.model.merge(source, into, strategy, commit_id)
            if result is not None:
                assert made == (result.commit is not None)

        self.both(lambda: v.merge(self.conn, self.dataset, source, into, strategy), model_merge)

    @rule(data=st.data())
    def revert(self, data: st.DataObject) -> None:
        branch = self.branch(data)
        to = data.draw(st.sampled_from(self.refs()))
        self.both(
            lambda: v.revert(self.conn, self.dataset, branch, to),
            lambda made: self.model.revert(branch, to, made.id if made else uuid.uuid4()),
        )

    # --- reads ----------------------------------------------------------------------------

    def read_both(self, ref: str) -> None:
        engine = attempt(lambda: {k: v.read(self.conn, self.dataset, ref, k) for k in KINDS})
        model = attempt(lambda: self.model.state(self.model.resolve(ref)))
        assert engine == model, ref

    @rule(data=st.data())
    def read_a_version(self, data: st.DataObject) -> None:
        self.read_both(data.draw(st.sampled_from(self.refs())))

    @rule(data=st.data())
    def diff_two_versions(self, data: st.DataObject) -> None:
        a = data.draw(st.sampled_from(self.refs()))
        b = data.draw(st.sampled_from(self.refs()))
        engine = attempt(
            lambda: {
                (c.kind.value, c.entity_id): (c.before, c.after)
                for c in v.diff(self.conn, self.dataset, a, b)
            }
        )
        assert engine == attempt(lambda: self.model.diff(a, b)), (a, b)
        if engine[1]:
            # Resuming after any change lists exactly the changes that followed it.
            full = [(c.kind, c.entity_id) for c in v.diff(self.conn, self.dataset, a, b)]
            cut = data.draw(st.integers(0, len(full) - 1))
            rest = v.diff(self.conn, self.dataset, a, b, after=full[cut])
            assert [(c.kind, c.entity_id) for c in rest] == full[cut + 1 :]

    @invariant()
    def live_branches_and_tags_match(self) -> None:
        for branch in self.model.branches.values():
            if not branch.deleted:
                self.read_both(branch.name)
        for tag in self.model.tags:
            self.read_both(tag)


@pytest.mark.slow
def test_engine_matches_the_reference_model(engine: Engine) -> None:
    EngineVsModel.engine = engine
    run_state_machine_as_test(
        EngineVsModel,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=30,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
