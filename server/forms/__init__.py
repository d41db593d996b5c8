"""Intake of scanned forms, shared by the CLI, the file-drop watcher and ``$ingest-form``."""

from .intake import FormIntake, IngestResult, intake_for

__all__ = ["FormIntake", "IngestResult", "intake_for"]
