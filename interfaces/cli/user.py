"""passerelle user add|list|remove: users who log in at /auth/authorize.

The password is read from a prompt (or one line of stdin when it is not a terminal),
never from argv: argv shows in ps and in shell history.
"""

from __future__ import annotations

import getpass
import sys

from server.auth import registry

from .auth_context import add_database_argument, open_context

NAME = "user"
HELP = "Manage users of the login page (passwords hashed with Argon2id)"


def add_arguments(parser) -> None:
    actions = parser.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="add a user (password prompted, or read from stdin)")
    add.add_argument("username")
    add.add_argument("--fhir-user", help="the user's FHIR resource, e.g. Practitioner/123 (fhirUser claim)")
    add_database_argument(add)
    listing = actions.add_parser("list", help="list users")
    add_database_argument(listing)
    remove = actions.add_parser("remove", help="remove a user")
    remove.add_argument("username")
    add_database_argument(remove)


def read_password() -> str:
    if sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Again: "):
            raise ValueError("the passwords differ")
        return password
    return sys.stdin.readline().rstrip("\r\n")


def run(args) -> int:
    ctx = open_context(args)
    try:
        if args.action == "add":
            registry.add_user(ctx, args.username, read_password(), fhir_user=args.fhir_user)
            print(f"user {args.username} added")
        elif args.action == "list":
            for u in registry.list_users(ctx):
                print(f"{u.username}\tfhirUser={u.fhir_user or '-'}")
        elif not registry.remove_user(ctx, args.username):
            print(f"no user {args.username}", file=sys.stderr)
            return 1
        else:
            print(f"user {args.username} removed")
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        ctx.store.engine.dispose()
    return 0
