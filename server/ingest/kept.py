"""What an import keeps beside its instances, gathered before `sources.py` writes it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from trainingdb.versioning.inputs import problem


class SizedFacts(Protocol):
    """What keeping source fields needs of a file on the branch (annotations_job.FileFacts)."""

    @property
    def id(self) -> str: ...
    @property
    def width(self) -> int | None: ...
    @property
    def height(self) -> int | None: ...
    @property
    def frame_count(self) -> int | None: ...


@dataclass
class Kept:
    """Metadata entries by label name, file name and (file name, frame), documents by digest,
    and the records that named nothing on the branch."""

    labels: dict[str, dict[str, Any]] = field(default_factory=dict)
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    frames: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)
    documents: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)

    def error(self, record: str, message: str) -> None:
        self.errors.append({"record": record, "message": f"{record}: {message}"})

    def storable(self, record: str, value: Any) -> bool:
        """Whether PostgreSQL can hold `value` (versioning/inputs.py); an error if not."""
        found = problem(value)
        if found is not None:
            self.error(record, f"{found[0] or 'the value'} {found[1]}".lstrip("."))
        return found is None
