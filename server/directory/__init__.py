"""Directory imports: apply an extract's differences to the store (see ``sync``)."""

from .sync import DirectoryImport, ImportSummary

__all__ = ["DirectoryImport", "ImportSummary"]
