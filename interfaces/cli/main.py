"""The ``passerelle`` command: one module per subcommand, wired here."""

from __future__ import annotations

import argparse
import sys

from . import client, demo, directory, inbox, ingest, mllp, send, serve, user
from . import ingest_form
from . import assertion, launch
from . import mdm


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="passerelle", description="Passerelle FHIR R4 gateway")
    commands = root.add_subparsers(dest="command", required=True)
    for module in (serve, demo, client, user, directory, mllp, send, ingest, inbox, ingest_form, launch, assertion,
                   mdm):
        sub = commands.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.add_arguments(sub)
        sub.set_defaults(run=module.run)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return args.run(args) or 0


if __name__ == "__main__":
    sys.exit(main())
