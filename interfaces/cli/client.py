"""passerelle client add|list|remove: OAuth clients of the authorization server."""

from __future__ import annotations

import json
import sys

from server.auth import registry

from .auth_context import add_database_argument, open_context

NAME = "client"
HELP = "Manage OAuth clients (SMART apps, backend services)"


def add_arguments(parser) -> None:
    actions = parser.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="register a client")
    add.add_argument("client_id")
    add.add_argument("--type", dest="client_type", choices=registry.CLIENT_TYPES, required=True,
                     help="public (PKCE, no secret) or confidential (private_key_jwt)")
    add.add_argument("--redirect-uri", action="append", default=[], help="allowed redirect URI (repeatable)")
    add.add_argument("--scope", action="append", default=[],
                     help="allowed scopes, e.g. 'patient/*.rs openid fhirUser' (repeatable)")
    add.add_argument("--jwks", help="file holding the client's public JWKS (private_key_jwt)")
    add.add_argument("--jwks-uri", help="URL of the client's JWKS (fetched and cached; fetched again for a new kid)")
    add.add_argument("--launch", action="append", default=[], choices=registry.LAUNCH_KINDS,
                     help="what the client may do (repeatable)")
    add.add_argument("--name", help="display name shown on the consent page")
    add_database_argument(add)
    listing = actions.add_parser("list", help="list clients")
    add_database_argument(listing)
    remove = actions.add_parser("remove", help="remove a client")
    remove.add_argument("client_id")
    add_database_argument(remove)


def run(args) -> int:
    ctx = open_context(args)
    try:
        if args.action == "add":
            jwks = None
            if args.jwks:
                with open(args.jwks, encoding="utf-8") as f:
                    jwks = json.load(f)
            scopes = [s for value in args.scope for s in value.split()]
            registry.add_client(ctx, args.client_id, client_type=args.client_type, redirect_uris=args.redirect_uri,
                                scopes=scopes, jwks=jwks, jwks_uri=args.jwks_uri, launch=args.launch,
                                name=args.name)
            print(f"client {args.client_id} added")
        elif args.action == "list":
            for c in registry.list_clients(ctx):
                auth = "private_key_jwt" if c.client_type == "confidential" else "none"
                print(f"{c.client_id}\t{c.client_type}\t{auth}\tlaunch={c.launch or '-'}\tscopes={c.scopes or '-'}"
                      f"\tredirect_uris={c.redirect_uris or '-'}")
        elif not registry.remove_client(ctx, args.client_id):
            print(f"no client {args.client_id}", file=sys.stderr)
            return 1
        else:
            print(f"client {args.client_id} removed")
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        ctx.store.engine.dispose()
    return 0
