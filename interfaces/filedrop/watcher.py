"""Watch a folder for scanned forms (polling: works the same on local disks and network shares).

A file is taken once it has stopped growing (same size and modification time on two polls),
read through ``server.forms`` and moved to ``done/`` (read, or already read: the intake is
idempotent by file hash) or ``failed/`` with a ``<name>.error.txt`` beside it saying why.
Hidden files and partial uploads (``.part``, ``.tmp``, ``.crdownload``) are left alone.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from server.errors import FhirError
from server.forms import FormIntake, IngestResult

log = logging.getLogger("passerelle.filedrop")

PARTIAL = (".part", ".tmp", ".crdownload")


@dataclass
class Handled:
    name: str
    result: IngestResult | None  # None: failed
    error: str | None = None


class FormDropWatcher:
    def __init__(self, intake: FormIntake, folder: str | Path, *, interval: float = 2.0, base: str | None = None):
        self.intake = intake
        self.folder = Path(folder)
        self.done = self.folder / "done"
        self.failed = self.folder / "failed"
        self.interval = interval
        self.base = base
        self._seen: dict[str, tuple[int, int]] = {}  # name -> (size, mtime_ns) at the last poll
        self._stop = threading.Event()
        for folder in (self.folder, self.done, self.failed):
            folder.mkdir(parents=True, exist_ok=True)

    def _ready(self) -> list[Path]:
        """Files that did not change since the previous poll."""
        ready, now = [], {}
        for path in sorted(self.folder.iterdir()):
            if not path.is_file() or path.name.startswith(".") or path.name.endswith(PARTIAL):
                continue
            stat = path.stat()
            now[path.name] = (stat.st_size, stat.st_mtime_ns)
            if self._seen.get(path.name) == now[path.name]:
                ready.append(path)
        self._seen = now
        return ready

    def poll(self) -> list[Handled]:
        """One pass: handle every file that is ready."""
        return [self._handle(path) for path in self._ready()]

    def _handle(self, path: Path) -> Handled:
        try:
            result = self.intake.ingest(path.read_bytes(), filename=path.name, base=self.base)
        except (FhirError, OSError) as problem:
            reason = problem.diagnostics if isinstance(problem, FhirError) else str(problem)
            target = _free(self.failed / path.name)
            path.replace(target)
            target.with_name(target.name + ".error.txt").write_text(reason + "\n", encoding="utf-8")
            log.warning("file drop: a file failed (moved to failed/): %s", reason)  # file names may name patients
            self._seen.pop(path.name, None)
            return Handled(path.name, None, reason)
        path.replace(_free(self.done / path.name))
        self._seen.pop(path.name, None)
        log.info("file drop: %s %s (%d to review)", result.document, result.outcome, len(result.reviews))
        return Handled(path.name, result)

    def run(self) -> None:
        """Poll until ``stop()``."""
        while not self._stop.is_set():
            self.poll()
            self._stop.wait(self.interval)

    def stop(self) -> None:
        self._stop.set()


def _free(target: Path) -> Path:
    """The target, or target-1, target-2... when a file of that name is already there."""
    n, candidate = 0, target
    while candidate.exists():
        n += 1
        candidate = target.with_name(f"{target.stem}-{n}{target.suffix}")
    return candidate
