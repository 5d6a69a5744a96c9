"""A commit history of N commits over many branches, merged in every direction, and the figures
of the graph walks on it (versioning/graph.py): merge base, merge base with an old tag, log.

Shape, in a dataset of its own with no entities: a first commit on main, 49 branches made off
random ones of the branches so far, then steps. Each step picks one of the 50 at random and
commits on it, or with probability 0.3 merges another of the 50, picked at random, into it
(strategy `theirs`; a merge that is up to date writes nothing and the step commits instead).
With probability 0.005 a step first makes a branch from a random earlier commit, which takes
the place of a random one of the 50 (never main; the one replaced stays, and is not picked
again). N counts every commit written after the root commit, merges included.

How it is written: the last `engine_commits` steps (5,000 by default) go through the engine
(`v.commit`, `v.merge`, `v.create_branch`), in transactions of BATCH steps. A build of more
commits writes the steps before those in bulk, in one transaction: the engine takes ~17 ms a
step at 1k commits and ~36 ms at 100k on a 2-core machine (mostly Python: statements built and
compiled, the dataset's branches loaded several times a step), so 100k steps would take about
an hour. The bulk part inserts each branch row as it is made, then COPYs the commit rows in
creation order (so `ordinal`, an identity, increases along them) and their parent rows, and
sets the branches' head_seq. Both ways follow one model of the engine's rules (`Graph`, from
models/refs.py and commits.py): a commit's first parent is the branch's current commit (its
last own commit, or the commit it was made from), a merge's second the source's current commit,
generation is 1 + the greatest parent generation, and a merge whose source commit the target
already contains is up to date. Every step through the engine is checked against the model
(same parents, seq, generation, same up-to-date answer), and the whole graph against graph.py's
two orders once built: bulk rows are laid out as the engine lays out its own, and one size and
seed give the same graph whatever `engine_commits` is. The measured heads, the old tag and the
commits the walks from them visit (a few dozen generations of ~26 commits) are engine-written.
"""

from __future__ import annotations

import random
import statistics
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any, cast

from sqlalchemy import Connection, Engine, Table, bindparam, event, insert, select, text, update

from trainingdb import versioning as v
from trainingdb.versioning.commits import CommitRow
from trainingdb.versioning.models import Branch, Commit, CommitParent
from trainingdb.versioning.sql import copy_rows

BRANCHES = 50
MERGE_P = 0.3
FORK_P = 0.005
BATCH = 500  # engine steps per transaction
ENGINE_COMMITS = 5_000  # the last steps of every build go through the engine
PAIRS = 101  # calls measured per figure, each between freshly picked random heads
TAG_BACK = 1_000  # the old tag names the commit this many commits before the last
MESSAGE, AUTHOR = "step", "bench"


@dataclass(slots=True)
class _Branch:
    id: int
    name: str
    parent: int | None  # branch id
    fork_seq: int | None
    head_seq: int = 0


class Graph:
    """The engine's commit rules, in memory: commits by index in creation order (0: the root)."""

    def __init__(self, root: uuid.UUID, main_id: int) -> None:
        self.ids = [root]
        self.generation = [0]
        self.parents: list[tuple[int, ...]] = [()]
        self.coordinates = [(main_id, 0)]
        self.at = {(main_id, 0): 0}
        self.branches = {main_id: _Branch(main_id, "main", None, None)}
        self.by_name = {"main": main_id}

    def ref(self, commit: int) -> str:
        """`branch@seq`: a ref the engine resolves to commit `commit`."""
        branch_id, seq = self.coordinates[commit]
        return f"{self.branches[branch_id].name}@{seq}"

    def current(self, name: str) -> int:
        """The branch's current commit: its last own commit, or the commit it was made from."""
        branch = self.branches[self.by_name[name]]
        seq = branch.head_seq
        while seq == 0 and branch.parent is not None:
            assert branch.fork_seq is not None
            seq, branch = branch.fork_seq, self.branches[branch.parent]
        return self.at[(branch.id, seq)]

    def contains(self, commit: int, other: int) -> bool:
        """Whether `other` is `commit` or one of its ancestors (walks above other's generation)."""
        if commit == other:
            return True
        low = self.generation[other]
        stack, seen = [commit], {commit}
        while stack:
            for parent in self.parents[stack.pop()]:
                if parent == other:
                    return True
                if parent not in seen and self.generation[parent] > low:
                    seen.add(parent)
                    stack.append(parent)
        return False

    def fork(self, branch_id: int, name: str, commit: int) -> None:
        """Branch `name` (id `branch_id`) made from `commit`."""
        parent, seq = self.coordinates[commit]
        self.branches[branch_id] = _Branch(branch_id, name, parent, seq)
        self.by_name[name] = branch_id

    def record(self, commit_id: uuid.UUID, target: str, merged: int | None) -> int:
        """The next commit of branch `target` (a merge of commit `merged` into it); its index."""
        parents = (self.current(target),) + (() if merged is None else (merged,))
        branch = self.branches[self.by_name[target]]
        branch.head_seq += 1
        index = len(self.ids)
        self.ids.append(commit_id)
        self.generation.append(1 + max(self.generation[p] for p in parents))
        self.parents.append(parents)
        self.coordinates.append((branch.id, branch.head_seq))
        self.at[(branch.id, branch.head_seq)] = index
        return index


def size_label(commits: int) -> str:
    """1000 -> '1k', 100000 -> '100k', 300 -> '300'."""
    return f"{commits // 1000}k" if commits >= 1000 and commits % 1000 == 0 else str(commits)


class _Writer:
    """Where a step's refs and commits go; the Graph is updated either way."""

    def __init__(self, conn: Connection, dataset_id: int, graph: Graph) -> None:
        self.conn, self.dataset_id, self.graph = conn, dataset_id, graph

    def branch(self, name: str, commit: int) -> None:
        raise NotImplementedError

    def commit(self, target: str) -> int:
        raise NotImplementedError

    def merge(self, source: str, target: str) -> int | None:
        """The merge commit, None when up to date."""
        raise NotImplementedError


class _EngineWriter(_Writer):
    def branch(self, name: str, commit: int) -> None:
        made = v.create_branch(self.conn, self.dataset_id, name, self.graph.ref(commit))
        self.graph.fork(made.id, name, commit)
        assert (made.parent_branch_id, made.fork_seq) == self.graph.coordinates[commit]

    def _check(self, row: CommitRow, index: int) -> int:
        graph = self.graph
        expected = [graph.ids[p] for p in graph.parents[index]]
        assert [p for p in (row.first_parent, row.merge_parent) if p] == expected, row
        assert (row.branch_id, row.seq) == graph.coordinates[index], row
        assert row.generation == graph.generation[index], row
        return index

    def commit(self, target: str) -> int:
        row = v.commit(self.conn, self.dataset_id, target, MESSAGE, AUTHOR)
        return self._check(row, self.graph.record(row.id, target, None))

    def merge(self, source: str, target: str) -> int | None:
        graph = self.graph
        merged = graph.current(source)
        expected = graph.contains(graph.current(target), merged)
        done = v.merge(self.conn, self.dataset_id, source, target, "theirs", author=AUTHOR)
        assert done.up_to_date == expected, (source, target)
        if done.commit is None:
            return None
        return self._check(done.commit, graph.record(done.commit.id, target, merged))


class _BulkWriter(_Writer):
    def __init__(self, conn: Connection, dataset_id: int, graph: Graph) -> None:
        super().__init__(conn, dataset_id, graph)
        self.commits: list[dict[str, Any]] = []
        self.edges: list[dict[str, Any]] = []

    def branch(self, name: str, commit: int) -> None:
        parent, seq = self.graph.coordinates[commit]
        branch_id = self.conn.scalar(
            insert(Branch)
            .values(
                dataset_id=self.dataset_id,
                name=name,
                parent_branch_id=parent,
                fork_seq=seq,
                created_by=AUTHOR,
            )
            .returning(Branch.id)
        )
        assert branch_id is not None
        self.graph.fork(branch_id, name, commit)

    def _write(self, target: str, merged: int | None, message: str) -> int:
        graph = self.graph
        index = graph.record(uuid.uuid4(), target, merged)
        branch_id, seq = graph.coordinates[index]
        self.commits.append(
            {
                "dataset_id": self.dataset_id,
                "id": graph.ids[index],
                "branch_id": branch_id,
                "seq": seq,
                "message": message,
                "author": AUTHOR,
                "generation": graph.generation[index],
            }
        )
        for position, parent in enumerate(graph.parents[index]):
            self.edges.append(
                {
                    "dataset_id": self.dataset_id,
                    "commit_id": graph.ids[index],
                    "position": position,
                    "parent_id": graph.ids[parent],
                }
            )
        return index

    def commit(self, target: str) -> int:
        return self._write(target, None, MESSAGE)

    def merge(self, source: str, target: str) -> int | None:
        graph = self.graph
        merged = graph.current(source)
        if graph.contains(graph.current(target), merged):
            return None
        return self._write(target, merged, f"Merge {source} into {target}")

    def flush(self) -> None:
        """The commits in creation order (ordinals follow), their parents, the branch heads."""
        copy_rows(self.conn, cast(Table, Commit.__table__), self.commits)
        copy_rows(self.conn, cast(Table, CommitParent.__table__), self.edges)
        heads = [
            {"branch": b.id, "head": b.head_seq}
            for b in self.graph.branches.values()
            if b.head_seq > 0
        ]
        self.conn.execute(
            update(Branch)
            .where(Branch.dataset_id == self.dataset_id, Branch.id == bindparam("branch"))
            .values(head_seq=bindparam("head")),
            heads,
        )
        self.commits, self.edges = [], []


@dataclass
class CommitHistory:
    dataset_id: int
    graph: Graph
    heads: list[str] = field(default_factory=list)  # the 50 branches steps pick from
    made: list[int] = field(default_factory=list)  # every commit after the root, in order
    merges: int = 0
    forks: int = 0  # branches made from an earlier commit during the steps
    engine_commits: int = 0  # of `made`, how many went through the engine
    build_s: float = 0.0
    bulk_s: float = 0.0  # of build_s, writing the bulk steps

    @property
    def commits(self) -> int:
        return len(self.made)


def _steps(writer: _Writer, rng: random.Random, history: CommitHistory, steps: int) -> None:
    """`steps` more commits; the first one also makes main's first commit and the branches."""
    for _ in range(steps):
        if not history.made:
            history.made.append(writer.commit("main"))
            history.heads.append("main")
            for i in range(1, BRANCHES):
                writer.branch(f"b{i}", history.graph.current(rng.choice(history.heads)))
                history.heads.append(f"b{i}")
            continue
        if rng.random() < FORK_P:
            name = f"f{history.forks}"
            writer.branch(name, rng.choice(history.made))
            history.heads[rng.randrange(1, len(history.heads))] = name
            history.forks += 1
        target = rng.choice(history.heads)
        made = None
        if rng.random() < MERGE_P:
            source = rng.choice([h for h in history.heads if h != target])
            made = writer.merge(source, target)
            history.merges += made is not None
        history.made.append(writer.commit(target) if made is None else made)


def _check_orders(conn: Connection, dataset_id: int) -> None:
    """Every edge goes down in generation and ordinal; generation is 1 + the parents' greatest."""
    broken = conn.scalar(
        text(
            """
            SELECT count(*) FROM (
                SELECT c.generation, max(p.generation) AS top, bool_and(p.ordinal < c.ordinal) AS ok
                FROM commit c
                JOIN commit_parent e ON e.dataset_id = c.dataset_id AND e.commit_id = c.id
                JOIN commit p ON p.dataset_id = e.dataset_id AND p.id = e.parent_id
                WHERE c.dataset_id = :ds
                GROUP BY c.id, c.generation
            ) edges
            WHERE generation <> top + 1 OR NOT ok
            """
        ),
        {"ds": dataset_id},
    )
    assert broken == 0, f"{broken} commits break the graph's orders"


def build(
    engine: Engine, commits: int, name: str, engine_commits: int = ENGINE_COMMITS, seed: int = 7
) -> CommitHistory:
    """The history above in a new dataset called `name`, of exactly `commits` commits, the last
    `engine_commits` of them through the engine."""
    rng = random.Random(seed)
    start = time.perf_counter()
    with engine.begin() as conn:
        dataset_id = v.create_dataset(conn, name).id
        root = conn.execute(
            select(Commit.id, Commit.branch_id).where(Commit.dataset_id == dataset_id)
        ).one()
    history = CommitHistory(dataset_id, Graph(root.id, root.branch_id))
    bulk = max(commits - engine_commits, 0)
    if bulk:
        with engine.begin() as conn:
            writer = _BulkWriter(conn, dataset_id, history.graph)
            _steps(writer, rng, history, bulk)
            writer.flush()
        with engine.begin() as conn:
            conn.execute(text("ANALYZE commit, commit_parent, branch"))
        history.bulk_s = time.perf_counter() - start
    while history.commits < commits:
        with engine.begin() as conn:
            steps = min(BATCH, commits - history.commits)
            _steps(_EngineWriter(conn, dataset_id, history.graph), rng, history, steps)
    history.engine_commits = commits - bulk
    history.build_s = time.perf_counter() - start
    with engine.begin() as conn:
        _check_orders(conn, dataset_id)
        conn.execute(text("ANALYZE commit, commit_parent, branch, tag"))
    return history


@contextmanager
def counting(engine: Engine) -> Iterator[list[float]]:
    """[statements sent, seconds in them] while the block runs (SQLAlchemy cursor events)."""
    totals = [0.0, 0.0]
    started: list[float] = []

    def before(*_: Any) -> None:
        totals[0] += 1
        started.append(time.perf_counter())

    def after(*_: Any) -> None:
        totals[1] += time.perf_counter() - started.pop()

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        yield totals
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def _sampled(
    engine: Engine, calls: Sequence[Callable[[], Any]], figure: str, suffix: str
) -> tuple[dict[str, Any], list[Any]]:
    """Median time, median SQL time and statements of the calls, after one warm-up call; and
    what each call returned."""
    calls[0]()
    times, sql, counts, results = [], [], [], []
    for call in calls:
        with counting(engine) as totals:
            start = time.perf_counter()
            results.append(call())
            times.append(time.perf_counter() - start)
        counts.append(int(totals[0]))
        sql.append(totals[1])
    return {
        f"{figure}_ms{suffix}": _ms(statistics.median(times)),
        f"{figure}_p95_ms{suffix}": _ms(statistics.quantiles(times, n=20)[-1]),
        f"{figure}_sql_ms{suffix}": _ms(statistics.median(sql)),
        f"{figure}_statements{suffix}": statistics.median(counts),
        f"{figure}_statements_max{suffix}": max(counts),
    }, results


def measure(engine: Engine, history: CommitHistory, suffix: str, seed: int = 11) -> dict[str, Any]:
    """merge_base (random pairs of heads: the typical merge), merge_base_old_tag (a random head
    and a tag TAG_BACK commits back), log100 (`v.log` of 100 at a random head): over PAIRS calls
    each, the median time, the 95th percentile, the median time in SQL statements, and the
    statements a call ran (median, most); and merge_base_depth, how many generations below the
    lower head the base lies (median, most). Every name ends in `suffix`."""
    rng = random.Random(seed)
    ds, heads = history.dataset_id, history.heads
    old = history.made[max(history.commits - 1 - TAG_BACK, 0)]
    with engine.begin() as conn:
        v.create_tag(conn, ds, "old", history.graph.ref(old))
    figures: dict[str, Any] = {}
    with engine.connect() as conn:
        pairs = [rng.sample(heads, 2) for _ in range(PAIRS)]
        bases = [partial(v.merge_base, conn, ds, a, b) for a, b in pairs]
        sampled, found = _sampled(engine, bases, "merge_base", suffix)
        figures |= sampled
        graph = history.graph
        below = [
            min(graph.generation[graph.current(h)] for h in pair) - base.generation
            for pair, base in zip(pairs, found, strict=True)
        ]
        figures[f"merge_base_depth{suffix}"] = statistics.median(below)
        figures[f"merge_base_depth_max{suffix}"] = max(below)
        tagged = [partial(v.merge_base, conn, ds, rng.choice(heads), "old") for _ in range(PAIRS)]
        figures |= _sampled(engine, tagged, "merge_base_old_tag", suffix)[0]
        logs = [partial(v.log, conn, ds, rng.choice(heads), 100) for _ in range(PAIRS)]
        figures |= _sampled(engine, logs, "log100", suffix)[0]
    return figures
