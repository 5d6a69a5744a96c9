"""Exports: any slice of any version, streamed to the formats training code reads."""

from .writers import FORMATS, ExportResult, export

__all__ = ["FORMATS", "ExportResult", "export"]
