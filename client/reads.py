"""Reads: datasets, refs, commits, labels, and the paged lists (files, instances, a diff),
each a lazy iterator that holds one page at a time."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

from . import queries
from .http import Session
from .pages import check_page_size, connection_page, diff_page, iterate
from .parse import Json, at, decoded, decoded_list
from .records import File, Instance
from .types import Branch, Change, Commit, Dataset, Label, OrderBy, Tag
from .types import Where as Where  # re-exported: client/data.py reads it from here

T = TypeVar("T")


class Reads:
    """The read methods of `Client`."""

    _session: Session

    def datasets(self) -> list[Dataset]:
        """datasets: every dataset the caller may read, by name."""
        data = self._session.execute(queries.DATASETS, {})
        return decoded_list("datasets", Dataset.from_json, at(data, ("datasets",), "datasets"))

    def dataset(self, name: str) -> Dataset:
        """dataset: the dataset `name` (NotFound when there is none the caller may read)."""
        data = self._session.execute(queries.DATASET, {"name": name})
        return decoded("dataset", Dataset.from_json, at(data, ("dataset",), "dataset"))

    def branches(self, dataset: str) -> list[Branch]:
        """branches: the dataset's live branches the caller may read, by name."""
        data = self._session.execute(queries.BRANCHES, {"dataset": dataset})
        raw = at(data, ("dataset", "branches"), "branches")
        return decoded_list("branches", Branch.from_json, raw)

    def tags(self, dataset: str) -> list[Tag]:
        """tags: the dataset's tags the caller may read, by name."""
        data = self._session.execute(queries.TAGS, {"dataset": dataset})
        return decoded_list("tags", Tag.from_json, at(data, ("dataset", "tags"), "tags"))

    def commits(self, dataset: str, version: str | None = None, first: int = 100) -> list[Commit]:
        """commits: the newest `first` (1 to 1000) commits `version` contains (default: the
        default branch), newest first."""
        variables = {"dataset": dataset, "version": version, "first": first}
        data = self._session.execute(queries.COMMITS, variables)
        raw = at(data, ("dataset", "commits"), "commits")
        return decoded_list("commits", Commit.from_json, raw)

    def resolve(self, dataset: str, version: str) -> Commit:
        """resolve: the commit `version` (a branch, tag, commit id or `branch@seq`) names; for a
        branch, its current commit (its last own commit, or the one it was made from:
        uncommitted work is no commit). Every dataset has one, its root commit `main@0`."""
        (found,) = self.commits(dataset, version, first=1)
        return found

    def labels(self, dataset: str, version: str | None = None) -> list[Label]:
        """labels: every label at `version` (default: the default branch's head), by id."""
        variables = {"dataset": dataset, "version": version}
        pages = self._pages(queries.LABELS, variables, "labels", 1000, Label.from_json)
        return list(pages)

    def files(
        self,
        dataset: str,
        version: str | None = None,
        *,
        where: Where | None = None,
        query: str | None = None,
        order_by: OrderBy | None = None,
        page_size: int = 1000,
    ) -> Iterator[File]:
        """files: every file at `version` matching `where` and `query` (ANDed), in `order_by`
        order (default: by id), fetched `page_size` at a time as the iterator is consumed."""
        check_page_size(page_size)
        variables = _filters(dataset, version, where, query, order_by)
        return self._pages(queries.FILES, variables, "files", page_size, File.from_json)

    def instances(
        self,
        dataset: str,
        version: str | None = None,
        *,
        where: Where | None = None,
        query: str | None = None,
        order_by: OrderBy | None = None,
        page_size: int = 1000,
    ) -> Iterator[Instance]:
        """instances: every instance at `version` matching `where` and `query` (ANDed), in
        `order_by` order (default: by id), fetched `page_size` at a time as consumed."""
        check_page_size(page_size)
        variables = _filters(dataset, version, where, query, order_by)
        return self._pages(queries.INSTANCES, variables, "instances", page_size, Instance.from_json)

    def diff(self, dataset: str, a: str, b: str, page_size: int = 1000) -> Iterator[Change]:
        """diff: every entity that differs from version `a` to version `b`, by kind then id,
        fetched `page_size` at a time as consumed."""
        check_page_size(page_size)
        variables = {"dataset": dataset, "fromVersion": a, "toVersion": b, "first": page_size}

        def fetch(after: str | None) -> Mapping[str, Json]:
            data = self._session.execute(queries.DIFF, {**variables, "after": after})
            found: Mapping[str, Json] = at(data, ("dataset", "diff"), "diff")
            return found

        return iterate("diff", fetch, diff_page, Change.from_json)

    def _pages(
        self,
        document: str,
        variables: Mapping[str, Any],
        field: str,
        page_size: int,
        parse: Callable[[Mapping[str, Json]], T],
    ) -> Iterator[T]:
        def fetch(after: str | None) -> Mapping[str, Json]:
            page = {**variables, "first": page_size, "after": after}
            data = self._session.execute(document, page)
            found: Mapping[str, Json] = at(data, ("dataset", field), field)
            return found

        return iterate(field, fetch, connection_page, parse)


def _filters(
    dataset: str,
    version: str | None,
    where: Where | None,
    query: str | None,
    order_by: OrderBy | None,
) -> dict[str, Any]:
    return {
        "dataset": dataset,
        "version": version,
        "where": where,
        "query": query,
        "orderBy": None if order_by is None else list(order_by),
    }
