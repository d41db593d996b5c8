"""passerelle ingest-form: read scanned forms (PDF, PNG, JPEG, TIFF) into the store.

    passerelle ingest-form FILE...            each file, with a progress bar; exit 1 if any failed
    passerelle ingest-form --watch DIR        the file-drop folder: read what lands in DIR, move it
                                              to DIR/done or DIR/failed (stop with Ctrl-C)
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from tqdm import tqdm

from mappers.forms import ENGINES, OcrError
from server.app import build_context
from server.config import Settings
from server.errors import FhirError
from server.forms import intake_for

NAME = "ingest-form"
HELP = "Read scanned forms (PDF, PNG, JPEG, TIFF) into FHIR resources; --watch DIR for a file-drop folder"


def add_arguments(parser) -> None:
    parser.add_argument("files", nargs="*", metavar="FILE", help="form files to read")
    parser.add_argument("--watch", metavar="DIR", help="watch this folder instead (done/ and failed/ inside it)")
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between polls of --watch")
    parser.add_argument("--engine", choices=ENGINES, help="OCR engine (PASSERELLE_OCR_ENGINE)")
    parser.add_argument("--template", help="template id for every page (default: found from each page's title)")
    parser.add_argument("--database-url", help="SQLAlchemy URL (PASSERELLE_DATABASE_URL)")


def run(args) -> int:
    if bool(args.files) == bool(args.watch):
        print("passerelle ingest-form: give FILE... or --watch DIR", file=sys.stderr)
        return 2
    settings = Settings().with_overrides(database_url=args.database_url)
    try:
        intake = intake_for(build_context(settings), args.engine)
        intake.template(args.template)
    except (OcrError, FhirError) as problem:
        print(f"passerelle ingest-form: {getattr(problem, 'diagnostics', problem)}", file=sys.stderr)
        return 2
    if args.watch:
        return _watch(intake, args)
    failures = 0
    reviews = 0
    with tqdm(args.files, unit="file", file=sys.stderr) as bar:
        for name in bar:
            bar.set_postfix_str(Path(name).name)
            try:
                result = intake.ingest(Path(name).read_bytes(), filename=Path(name).name, template=args.template)
            except (FhirError, OSError) as problem:
                failures += 1
                reason = problem.diagnostics if isinstance(problem, FhirError) else problem.strerror or str(problem)
                tqdm.write(f"{name}: {reason}", file=sys.stderr)
                continue
            reviews += len(result.reviews)
            if result.outcome == "already-read":
                tqdm.write(f"{name}: already read, {result.document} (nothing changed)")
            else:
                tqdm.write(f"{name}: {result.pages} page(s) read, {result.document}, "
                           f"{len(result.reviews)} field(s) to review")
    print(f"{len(args.files) - failures} of {len(args.files)} file(s) read, {reviews} field(s) to review")
    return 1 if failures else 0


def _watch(intake, args) -> int:
    from interfaces.filedrop import FormDropWatcher

    # One structured line per file handled (document ids and reasons; never file names or content).
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    watcher = FormDropWatcher(intake, args.watch, interval=args.interval)
    print(f"watching {watcher.folder} (done/ and failed/ inside it); Ctrl-C to stop", file=sys.stderr)
    try:
        watcher.run()
    except KeyboardInterrupt:
        watcher.stop()
    return 0
