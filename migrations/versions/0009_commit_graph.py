"""The commit graph: a root commit per dataset, parents by commit id, generation numbers.

Until 0008 a merge commit recorded its source as `(merged_branch_id, merged_seq)` and the merge
base was derived from those pairs and the branch tree. One state has several such names
(`b@0` is the commit `b` was made from), and comparing names picked wrong bases. From here every
commit names its parents by id (`commit_parent`): position 0 is the branch's previous commit, or
the commit the branch was made from; position 1 is a merge's source. Each dataset gets a root
commit (the empty state, `root_branch@0`, generation 0), so every version resolves to a commit.

The backfill reads every dataset's branches and commits (commits are few next to entity rows)
and, per commit:
- first parent: the commit at the branch's previous seq, or — for its first commit — the commit
  at its fork point (followed up the branch tree while the fork seq is 0);
- second parent: the commit at the recorded merge source, resolved the same way;
- a parent that earlier garbage collection deleted (gc removed untagged commits of deleted
  branches, but kept the states forks and merges needed) is restored as a commit row, its own
  first parent being the branch's nearest earlier surviving commit;
- generation: 1 + the greatest generation of its parents.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 23:00:00
"""

from __future__ import annotations

import bisect
import uuid
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RESTORED = "(restored by migration 0009: garbage collection had removed this commit row)"


# Plain classes: Alembic loads revisions outside sys.modules, where dataclasses cannot look
# their module up.
class _Commit:
    def __init__(
        self,
        id: uuid.UUID,
        ordinal: int,
        merged: tuple[int, int] | None,
        parents: list[uuid.UUID] | None = None,
        new: bool = False,
    ) -> None:
        self.id = id
        self.ordinal = ordinal
        self.merged = merged
        self.parents = parents or []
        self.new = new


class _Dataset:
    def __init__(self, id: int, created_at: datetime) -> None:
        self.id = id
        self.created_at = created_at
        self.branches: dict[int, tuple[int | None, int | None]] = {}
        self.commits: dict[tuple[int, int], _Commit] = {}
        self.seqs: dict[int, list[int]] = {}  # sorted, per branch

    def root(self) -> int:
        (root,) = [b for b, (parent, _) in self.branches.items() if parent is None]
        return root

    def canonical(self, branch: int, seq: int) -> tuple[int, int]:
        while seq == 0:
            parent, fork = self.branches[branch]
            if parent is None or fork is None:
                break
            branch, seq = parent, fork
        return branch, seq

    def commit_at(self, branch: int, seq: int) -> _Commit:
        """The commit at `(branch, seq)`, restored if gc removed it."""
        branch, seq = self.canonical(branch, seq)
        found = self.commits.get((branch, seq))
        if found is not None:
            return found
        first = self.previous(branch, seq)
        made = _Commit(uuid.uuid4(), first.ordinal, None, [first.id], new=True)
        self.commits[(branch, seq)] = made
        bisect.insort(self.seqs.setdefault(branch, []), seq)
        return made

    def previous(self, branch: int, seq: int) -> _Commit:
        """The commit before `(branch, seq)` on its branch: the nearest earlier one left, else
        the commit the branch was made from."""
        seqs = self.seqs.get(branch, [])
        i = bisect.bisect_left(seqs, seq)
        earlier = seqs[i - 1] if i > 0 and seqs[i - 1] > 0 else 0
        return self.commit_at(branch, earlier)


def _load(conn: sa.Connection) -> list[_Dataset]:
    datasets = {
        r.id: _Dataset(r.id, r.created_at)
        for r in conn.execute(sa.text("SELECT id, created_at FROM dataset"))
    }
    for r in conn.execute(sa.text("SELECT dataset_id, id, parent_branch_id, fork_seq FROM branch")):
        datasets[r.dataset_id].branches[r.id] = (r.parent_branch_id, r.fork_seq)
    rows = conn.execute(
        sa.text(
            "SELECT dataset_id, id, branch_id, seq, ordinal, merged_branch_id, merged_seq"
            " FROM commit ORDER BY ordinal"
        )
    )
    for r in rows:
        merged = None if r.merged_branch_id is None else (r.merged_branch_id, r.merged_seq)
        dataset = datasets[r.dataset_id]
        dataset.commits[(r.branch_id, r.seq)] = _Commit(r.id, r.ordinal, merged)
        dataset.seqs.setdefault(r.branch_id, []).append(r.seq)
    for dataset in datasets.values():
        for seqs in dataset.seqs.values():
            seqs.sort()
    return [d for d in datasets.values() if d.branches]


def _link(dataset: _Dataset) -> None:
    """Root commit, then every stored commit's parents (restoring removed ones on the way)."""
    root = _Commit(uuid.uuid4(), 0, None, new=True)
    dataset.commits[(dataset.root(), 0)] = root
    stored = [(key, c) for key, c in dataset.commits.items() if not c.new]
    for (branch, seq), commit in stored:
        commit.parents = [dataset.previous(branch, seq).id]
        if commit.merged is not None:
            source = dataset.commit_at(*commit.merged).id
            if source != commit.parents[0]:
                commit.parents.append(source)


def _generations(commits: Sequence[_Commit]) -> dict[uuid.UUID, int]:
    by_id = {c.id: c for c in commits}
    generation: dict[uuid.UUID, int] = {}
    for start in commits:
        stack = [start]
        while stack:
            top = stack[-1]
            if top.id in generation:
                stack.pop()
                continue
            waiting = [by_id[p] for p in top.parents if p not in generation]
            if waiting:
                stack.extend(waiting)
                continue
            generation[top.id] = 1 + max((generation[p] for p in top.parents), default=-1)
            stack.pop()
    return generation


def _backfill(conn: sa.Connection) -> None:
    for dataset in _load(conn):
        _link(dataset)
        commits = list(dataset.commits.values())
        generation = _generations(commits)
        made = [(key, c) for key, c in dataset.commits.items() if c.new]
        if made:
            conn.execute(
                sa.text(
                    "INSERT INTO commit (dataset_id, id, branch_id, seq, message, ordinal,"
                    " generation, created_at)"
                    " VALUES (:dataset_id, :id, :branch_id, :seq, :message, :ordinal,"
                    " :generation, :created_at)"
                ),
                [
                    {
                        "dataset_id": dataset.id,
                        "id": c.id,
                        "branch_id": branch,
                        "seq": seq,
                        "message": "Dataset created" if seq == 0 else RESTORED,
                        "ordinal": c.ordinal,
                        "generation": generation[c.id],
                        "created_at": dataset.created_at,
                    }
                    for (branch, seq), c in made
                ],
            )
        stored = [
            {"g": generation[c.id], "d": dataset.id, "id": c.id} for c in commits if not c.new
        ]
        if stored:
            conn.execute(
                sa.text("UPDATE commit SET generation = :g WHERE dataset_id = :d AND id = :id"),
                stored,
            )
        edges = [
            {"d": dataset.id, "c": c.id, "p": parent, "n": n}
            for c in commits
            for n, parent in enumerate(c.parents)
        ]
        if edges:
            conn.execute(
                sa.text(
                    "INSERT INTO commit_parent (dataset_id, commit_id, position, parent_id)"
                    " VALUES (:d, :c, :n, :p)"
                ),
                edges,
            )


def upgrade() -> None:
    op.add_column("commit", sa.Column("generation", sa.BigInteger(), nullable=True))
    op.add_column(
        "commit", sa.Column("pruned", sa.Boolean(), server_default=sa.text("false"), nullable=False)
    )
    op.drop_constraint(op.f("ck_commit_seq_positive"), "commit", type_="check")
    op.create_check_constraint(op.f("ck_commit_seq_non_negative"), "commit", "seq >= 0")
    op.create_table(
        "commit_parent",
        sa.Column("dataset_id", sa.BigInteger(), nullable=False),
        sa.Column("commit_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("parent_id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("parent_id <> commit_id", name=op.f("ck_commit_parent_not_own_parent")),
        sa.CheckConstraint("position IN (0, 1)", name=op.f("ck_commit_parent_position")),
        sa.ForeignKeyConstraint(
            ["dataset_id", "commit_id"],
            ["commit.dataset_id", "commit.id"],
            name=op.f("fk_commit_parent_dataset_id_commit_id_commit"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id", "parent_id"],
            ["commit.dataset_id", "commit.id"],
            name=op.f("fk_commit_parent_dataset_id_parent_id_commit"),
            deferrable=True,
            initially="DEFERRED",
        ),
        sa.PrimaryKeyConstraint("dataset_id", "commit_id", "position", name=op.f("pk_commit_parent")),
    )
    _backfill(op.get_bind())
    op.alter_column("commit", "generation", nullable=False)
    op.create_check_constraint(op.f("ck_commit_root_commit"), "commit", "(seq = 0) = (generation = 0)")
    op.drop_index(
        "ix_commit_merges",
        table_name="commit",
        postgresql_where=sa.text("merged_branch_id IS NOT NULL"),
    )
    op.drop_constraint(op.f("ck_commit_merge_source"), "commit", type_="check")
    op.drop_constraint(
        op.f("fk_commit_dataset_id_merged_branch_id_branch"), "commit", type_="foreignkey"
    )
    op.drop_column("commit", "merged_branch_id")
    op.drop_column("commit", "merged_seq")


def downgrade() -> None:
    op.add_column("commit", sa.Column("merged_branch_id", sa.BigInteger(), nullable=True))
    op.add_column("commit", sa.Column("merged_seq", sa.BigInteger(), nullable=True))
    op.execute(
        "UPDATE commit c SET merged_branch_id = s.branch_id, merged_seq = s.seq"
        " FROM commit_parent p JOIN commit s ON s.dataset_id = p.dataset_id AND s.id = p.parent_id"
        " WHERE p.position = 1 AND p.dataset_id = c.dataset_id AND p.commit_id = c.id"
    )
    op.create_foreign_key(
        op.f("fk_commit_dataset_id_merged_branch_id_branch"),
        "commit",
        "branch",
        ["dataset_id", "merged_branch_id"],
        ["dataset_id", "id"],
    )
    op.create_check_constraint(
        op.f("ck_commit_merge_source"), "commit", "(merged_branch_id IS NULL) = (merged_seq IS NULL)"
    )
    op.create_index(
        "ix_commit_merges",
        "commit",
        ["dataset_id", "branch_id", "seq"],
        unique=False,
        postgresql_where=sa.text("merged_branch_id IS NOT NULL"),
    )
    op.drop_table("commit_parent")
    # Root commits had no place before: what named them goes with them.
    op.execute("DELETE FROM tag WHERE seq = 0")
    op.execute("DELETE FROM commit WHERE seq = 0")
    op.drop_constraint(op.f("ck_commit_root_commit"), "commit", type_="check")
    op.drop_constraint(op.f("ck_commit_seq_non_negative"), "commit", type_="check")
    op.create_check_constraint(op.f("ck_commit_seq_positive"), "commit", "seq >= 1")
    op.drop_column("commit", "pruned")
    op.drop_column("commit", "generation")
