"""passerelle launch: an EHR launch id bound to a patient, an encounter and/or a user.

The EHR opens the app at ``<app launch url>?launch=<id>&iss=<FHIR base>``; the id is
valid for an hour (server.auth.launch).
"""

from __future__ import annotations

import sys
from urllib.parse import urlencode

from server.auth.launch import LAUNCH_SECONDS, issue_launch

from .auth_context import add_database_argument, open_context

NAME = "launch"
HELP = "Issue an EHR launch id bound to a patient / encounter / user"


def add_arguments(parser) -> None:
    parser.add_argument("--patient", help="Patient id the app is launched for")
    parser.add_argument("--encounter", help="Encounter id (launch/encounter)")
    parser.add_argument("--user", help="username who must sign in (default: any user)")
    parser.add_argument("--app-url", help="the app's launch URL: print the full URL to open")
    add_database_argument(parser)


def run(args) -> int:
    ctx = open_context(args)
    try:
        value = issue_launch(ctx, patient=args.patient, encounter=args.encounter, user=args.user)
    except ValueError as exc:
        print(f"passerelle launch: {exc}", file=sys.stderr)
        return 2
    print(value)
    if args.app_url:
        sep = "&" if "?" in args.app_url else "?"
        print(f"{args.app_url}{sep}{urlencode({'launch': value, 'iss': ctx.settings.base_url})}")
    print(f"(valid {LAUNCH_SECONDS // 60} minutes)", file=sys.stderr)
    return 0
