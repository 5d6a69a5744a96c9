"""trainingdb's core: the data model and the copy-on-write versioning engine.

Knows nothing of GraphQL or HTTP. Semantics and the API are documented in docs/VERSIONING.md;
every function takes a SQLAlchemy Connection and runs in the caller's transaction.
"""

from .branches import create_branch, delete_branch, set_protected
from .commits import CommitRow, commit
from .datasets import (
    DatasetRow,
    create_dataset,
    delete_dataset,
    get_dataset,
    list_datasets,
    update_dataset,
)
from .diff import Change, DiffSummary, diff, diff_summary
from .errors import (
    Conflict,
    ConflictError,
    FieldConflict,
    InvalidFilterError,
    InvalidInputError,
    MergeConflictError,
    NotFoundError,
    ProtectedBranchError,
    TrainingdbError,
)
from .gc import GcReport, gc
from .graph import log, merge_base
from .history import Revision, history
from .merge import MergeResult, Strategy, merge
from .models import EntityType
from .reads import read
from .refs import BranchRow
from .revert import revert
from .tags import TagRow, create_tag, delete_tag, list_tags
from .versions import LineageEntry, Version, resolve
from .visibility import visible, visible_rows
from .writes import create, delete, update

__all__ = [
    "BranchRow",
    "Change",
    "CommitRow",
    "Conflict",
    "ConflictError",
    "DatasetRow",
    "DiffSummary",
    "EntityType",
    "FieldConflict",
    "GcReport",
    "InvalidFilterError",
    "InvalidInputError",
    "LineageEntry",
    "MergeConflictError",
    "MergeResult",
    "NotFoundError",
    "ProtectedBranchError",
    "Revision",
    "Strategy",
    "TagRow",
    "TrainingdbError",
    "Version",
    "commit",
    "create",
    "create_branch",
    "create_dataset",
    "create_tag",
    "delete",
    "delete_branch",
    "delete_dataset",
    "delete_tag",
    "diff",
    "diff_summary",
    "gc",
    "get_dataset",
    "history",
    "list_datasets",
    "list_tags",
    "log",
    "merge",
    "merge_base",
    "read",
    "resolve",
    "revert",
    "set_protected",
    "update",
    "update_dataset",
    "visible",
    "visible_rows",
]
