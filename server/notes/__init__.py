"""Clinical notes stored in the server: allergies and medications extracted after commit."""

from .listener import NOTE_TYPES, NoteExtraction, note_texts, warm_note_pipelines

__all__ = ["NOTE_TYPES", "NoteExtraction", "note_texts", "warm_note_pipelines"]
