"""passerelle import-directory: apply a professional directory extract (RPPS, NPPES)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

from tqdm import tqdm

from mappers.directory import READERS, RowError
from server.app import build_context
from server.config import Settings
from server.directory import DirectoryImport

NAME = "import-directory"
HELP = "Import a directory extract (RPPS Annuaire Santé or NPPES); a re-import applies only the differences"


def add_arguments(parser) -> None:
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
    parser.add_argument("--format", required=True, choices=sorted(READERS),
                        help="rpps: PS_LibreAcces_Personne_activite (pipe-separated); nppes: NPPES npidata CSV")
    parser.add_argument("--database-url", help="SQLAlchemy URL (PASSERELLE_DATABASE_URL, default sqlite file)")
    parser.add_argument("--chunk", type=int, default=500, help="rows per transaction (default 500)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args) -> int:
    missing = [str(f) for f in args.files if not f.is_file()]
    if missing:
        print(f"passerelle import-directory: no such file: {', '.join(missing)}", file=sys.stderr)
        return 2
    ctx = build_context(Settings().with_overrides(database_url=args.database_url))
    status = 0
    for path in args.files:
        summary = import_file(ctx.store, path, args.format, chunk=args.chunk, progress=not args.quiet)
        print("\n".join(summary.lines()))
        status = status or (1 if summary.error_count else 0)
    return status


def import_file(store, path: Path, fmt: str, *, chunk: int = 500, progress: bool = True):
    job = DirectoryImport(store, fmt, chunk_rows=chunk, extract_name=path.name)
    with open(path, "rb") as raw, tqdm(total=path.stat().st_size, unit="B", unit_scale=True, desc=path.name,
                                        disable=not progress, file=sys.stderr) as bar:
        def report(error: RowError) -> None:
            tqdm.write(f"{path.name}: {error} (skipped)", file=sys.stderr)

        return job.run(READERS[fmt](_lines(raw, bar, report)), on_error=report)


def _lines(raw, bar, report) -> Iterator[str]:
    """The file's lines as text, advancing the progress bar by bytes read."""
    for number, line in enumerate(raw, start=1):
        bar.update(len(line))
        try:
            yield line.decode("utf-8")
        except UnicodeDecodeError as exc:
            # Keep the row (its identifiers are ASCII) but say which byte was not UTF-8.
            report(RowError(number, f"not UTF-8 at byte {exc.start}; read as Latin-1"))
            yield line.decode("latin-1")
