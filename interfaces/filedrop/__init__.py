"""File-drop folder: forms dropped into a folder are read and moved to done/ or failed/."""

from .watcher import FormDropWatcher

__all__ = ["FormDropWatcher"]
