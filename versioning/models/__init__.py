"""SQLAlchemy models of the whole data model (DESIGN.md section 2); `Base.metadata` is the schema.

Alembic revisions are generated from, and tested against, this metadata.
"""

from .access import ApiKey, AuditEvent, DatasetGrant, Member, Team
from .base import Base
from .catalog import Blob, Dataset
from .entities import REVISION_ROW_ID, File, Frame, Instance, Kill, Label, VersionedRow
from .jobs import Job
from .refs import Branch, Commit, CommitParent, Tag
from .vocabulary import (
    EntityType,
    InstanceKind,
    JobKind,
    JobStatus,
    MediaType,
    Role,
    Source,
)

__all__ = [
    "REVISION_ROW_ID",
    "ApiKey",
    "AuditEvent",
    "Base",
    "Blob",
    "Branch",
    "Commit",
    "CommitParent",
    "Dataset",
    "DatasetGrant",
    "EntityType",
    "File",
    "Frame",
    "Instance",
    "InstanceKind",
    "Job",
    "JobKind",
    "JobStatus",
    "Kill",
    "Label",
    "MediaType",
    "Member",
    "Role",
    "Source",
    "Tag",
    "Team",
    "VersionedRow",
]
