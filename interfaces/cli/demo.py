"""passerelle demo: load the synthetic demo data (idempotent)."""

from __future__ import annotations

from importlib.resources import files

from server import jsonio
from server.app import build_context
from server.bundles.processor import process_bundle
from server.config import Settings

NAME = "demo"
HELP = "Load synthetic demo data (conditional creates: loading twice changes nothing)"


def add_arguments(parser) -> None:
    parser.add_argument("--database-url", help="SQLAlchemy URL (PASSERELLE_DATABASE_URL)")


def run(args) -> int:
    settings = Settings().with_overrides(database_url=args.database_url)
    ctx = build_context(settings)
    bundle = jsonio.loads(files("interfaces.cli").joinpath("demo_data/demo-bundle.json").read_bytes())
    answer = process_bundle(ctx, bundle, {"return": "minimal"}, settings.base_url)
    statuses = [e["response"]["status"] for e in answer.body["entry"]]
    print(f"demo data: {statuses.count('201')} created, {statuses.count('200')} already present")
    return 0
