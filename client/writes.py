"""Writes: datasets, branches, tags, commits, merges, labels, and bulk instance writes sent in
batches no larger than the server takes in one mutation."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from . import queries
from .errors import ServerError, TrainingdbError
from .http import Session
from .parse import SHAPE_ERRORS, Json, at, decoded, decoded_list, items, obj, text
from .records import InstanceInput, LabelInput, input_object
from .types import Branch, Commit, Dataset, Label, MergeResult, Tag

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

MAX_BATCH = 50_000  # the server's limit on entities per mutation (docs/QUERIES.md)
DEFAULT_BATCH = 5_000  # a few MB of JSON a request: well under any proxy's body limit

Strategy = Literal["FAIL", "OURS", "THEIRS"]
# A row to create: a mapping of InstanceInput fields, an InstanceInput, or any dataclass with
# InstanceInput's field names.
InstanceRow: TypeAlias = "Mapping[str, Any] | InstanceInput | DataclassInstance"


class Writes:
    """The write methods of `Client`. Entity writes change a branch's working state; `commit`
    makes it a version."""

    _session: Session

    def create_dataset(
        self, name: str, description: str = "", default_branch: str = "main"
    ) -> Dataset:
        """create_dataset: a new dataset with an empty default branch (admins only)."""
        variables = {"name": name, "description": description, "defaultBranch": default_branch}
        data = self._session.execute(queries.CREATE_DATASET, variables)
        return decoded("createDataset", Dataset.from_json, at(data, ("createDataset",), "dataset"))

    def create_branch(
        self, dataset: str, name: str, from_: str | None = None, author: str = ""
    ) -> Branch:
        """create_branch: branch `name` at version `from_` (default: the default branch; a
        branch means its last commit)."""
        variables = {"dataset": dataset, "name": name, "from": from_, "author": author}
        data = self._session.execute(queries.CREATE_BRANCH, variables)
        return decoded("createBranch", Branch.from_json, at(data, ("createBranch",), "branch"))

    def create_tag(
        self, dataset: str, name: str, version: str, message: str = "", author: str = ""
    ) -> Tag:
        """create_tag: tag `name` on the committed `version` (a branch: its last commit)."""
        variables = {
            "dataset": dataset,
            "name": name,
            "version": version,
            "message": message,
            "author": author,
        }
        data = self._session.execute(queries.CREATE_TAG, variables)
        return decoded("createTag", Tag.from_json, at(data, ("createTag",), "tag"))

    def commit(self, dataset: str, branch: str, message: str, author: str | None = None) -> Commit:
        """commit: the branch's working state as its next commit (an empty commit is allowed)."""
        variables = {"dataset": dataset, "branch": branch, "message": message}
        data = self._session.execute(queries.COMMIT, {**variables, "author": author or ""})
        return decoded("commit", Commit.from_json, at(data, ("commit",), "commit"))

    def merge(
        self,
        dataset: str,
        source: str,
        target: str,
        *,
        strategy: Strategy = "FAIL",
        field_strategies: Mapping[str, Strategy] | None = None,
        message: str | None = None,
        author: str | None = None,
    ) -> MergeResult:
        """merge: the commit `source` names (a branch: its current commit) into branch
        `target`: up to date if the target contains it, else three-way from their best common
        ancestor, field by field, as one merge commit. `field_strategies` overrides `strategy`
        for some fields (`{"score": "THEIRS", "attributes.color": "OURS"}`, GraphQL names).
        With FAIL and conflicts nothing is written and the result says `merged=False`."""
        per_field = None
        if field_strategies is not None:
            per_field = [{"field": f, "strategy": s} for f, s in field_strategies.items()]
        variables = {
            "dataset": dataset,
            "source": source,
            "target": target,
            "strategy": strategy,
            "fieldStrategies": per_field,
            "message": message,
            "author": author or "",
        }
        data = self._session.execute(queries.MERGE, variables)
        return decoded("merge", MergeResult.from_json, at(data, ("merge",), "merge"))

    def create_labels(
        self, dataset: str, branch: str, labels: Iterable[str | Mapping[str, Any] | LabelInput]
    ) -> list[Label]:
        """create_labels: new labels (a name, a LabelInput or a mapping of LabelInput fields),
        all in one mutation, in input order."""
        rows = [
            {"name": label} if isinstance(label, str) else input_object(label, f"labels[{i}]")
            for i, label in enumerate(labels)
        ]
        variables = {"dataset": dataset, "branch": branch, "labels": rows}
        data = self._session.execute(queries.CREATE_LABELS, variables)
        return decoded_list("createLabels", Label.from_json, at(data, ("createLabels",), "labels"))

    def create_instances(
        self,
        dataset: str,
        branch: str,
        rows: Iterable[InstanceRow],
        *,
        batch_size: int = DEFAULT_BATCH,
    ) -> list[str]:
        """create_instances: new instances (InstanceInputs, dataclasses of the same fields, or
        mappings of InstanceInput fields), `batch_size` a mutation; their ids in input order."""
        return self._batched(_CREATE, dataset, branch, _objects(rows, "rows"), batch_size)

    def update_instances(
        self,
        dataset: str,
        branch: str,
        patches: Iterable[Mapping[str, Any]],
        *,
        batch_size: int = DEFAULT_BATCH,
    ) -> list[str]:
        """update_instances: change instances by `id` (InstancePatch mappings: a key left out
        is kept, a key given as None is cleared), `batch_size` a mutation; their ids."""
        return self._batched(_UPDATE, dataset, branch, _objects(patches, "patches"), batch_size)

    def delete_instances(
        self, dataset: str, branch: str, ids: Iterable[str], *, batch_size: int = DEFAULT_BATCH
    ) -> list[str]:
        """delete_instances: delete instances by id, `batch_size` a mutation; the ids deleted."""
        return self._batched(_DELETE, dataset, branch, iter(ids), batch_size)

    def _batched(
        self, bulk: _Bulk, dataset: str, branch: str, rows: Iterator[Any], batch_size: int
    ) -> list[str]:
        """Send `rows` in batches of `batch_size`; the ids each batch answers, in order. Each
        batch is one transaction: on an error, earlier batches stay in the working state."""
        _check_batch(batch_size)
        ids: list[str] = []
        start = 0
        while batch := list(islice(rows, batch_size)):
            variables = {"dataset": dataset, "branch": branch, bulk.argument: batch}
            try:
                data = self._session.execute(bulk.document, variables)
            except TrainingdbError as error:
                if start:  # a later batch: its row numbers are not the caller's
                    error.add_note(
                        f"{bulk.field}: this batch held input rows {start} to "
                        f"{start + len(batch) - 1} (add {start} to a row number in the message); "
                        f"the {start} rows before it are written to {branch!r}'s working state"
                    )
                raise
            answered = at(data, (bulk.field,), bulk.field)
            try:
                ids += [bulk.id_of(item) for item in items(answered)]
            except SHAPE_ERRORS as error:
                raise ServerError(
                    f"{bulk.field}: cannot read ids in {str(answered)[:200]}", "BAD_RESPONSE"
                ) from error
            start += len(batch)
        return ids


def _id_of(item: Json) -> str:
    return text(obj(item)["id"])


@dataclass(frozen=True, slots=True)
class _Bulk:
    """A bulk mutation: its document, answer field, list argument, and how an id is read."""

    document: str
    field: str
    argument: str
    id_of: Callable[[Json], str]


_CREATE = _Bulk(queries.CREATE_INSTANCES, "createInstances", "instances", _id_of)
_UPDATE = _Bulk(queries.UPDATE_INSTANCES, "updateInstances", "instances", _id_of)
_DELETE = _Bulk(queries.DELETE_INSTANCES, "deleteInstances", "ids", text)  # answers bare ids


def _objects(rows: Iterable[object], what: str) -> Iterator[dict[str, Any]]:
    # Lazy: a batch is converted only when it is about to be sent.
    return (input_object(row, f"{what}[{i}]") for i, row in enumerate(rows))


def _check_batch(batch_size: int) -> None:
    if isinstance(batch_size, bool) or not isinstance(batch_size, int):
        raise TypeError(f"batch_size: expected an int, got {batch_size!r}")
    if not 1 <= batch_size <= MAX_BATCH:
        raise ValueError(f"batch_size: between 1 and {MAX_BATCH}, not {batch_size}")
