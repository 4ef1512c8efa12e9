"""Ingest: validated, atomic, idempotent loading of record files into the store."""

from veil.ingest.service import IngestReport, Rejection, ingest_rows

__all__ = ["IngestReport", "Rejection", "ingest_rows"]
