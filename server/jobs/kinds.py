"""Which handler runs each kind of job."""

from __future__ import annotations

from collections.abc import Mapping

from trainingdb.server.exports.job import export_job
from trainingdb.server.ingest.annotations_job import import_annotations
from trainingdb.server.ingest.media_job import import_media
from trainingdb.versioning.models import JobKind

from .worker import Handler

HANDLERS: Mapping[JobKind, Handler] = {
    JobKind.IMPORT_MEDIA: import_media,
    JobKind.IMPORT_ANNOTATIONS: import_annotations,
    JobKind.EXPORT: export_job,
}
