"""passerelle mdm train: estimate the identity-matching weights from the stored records."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from server.app import build_context
from server.config import Settings
from server.mdm.model import load_rules, models_from
from server.mdm.training import rules_document, train_store

NAME = "mdm"
HELP = "Identity matching: 'train' re-estimates the m/u weights and prior from the stored records"


def add_arguments(parser) -> None:
    actions = parser.add_subparsers(dest="action", required=True)
    train = actions.add_parser("train", help="EM on the stored Patients/Practitioners; writes a rules file to review",
                               description="Estimate m/u (EM, no labels) and the prior from the stored records and "
                                           "write a rules file of the same shape as the one in use. Nothing in the "
                                           "store changes; load the file with PASSERELLE_MDM_RULES once reviewed.")
    train.add_argument("--out", required=True, type=Path, help="the rules file to write (JSON)")
    train.add_argument("--rules", help="rules to start from (default: PASSERELLE_MDM_RULES, else the shipped ones)")
    train.add_argument("--type", dest="types", action="append", choices=("Patient", "Practitioner"),
                       help="resource type to train (repeatable; default: every type with enough records)")
    train.add_argument("--max-records", type=int, default=200_000,
                       help="records read per type, spread over the store (default 200000)")
    train.add_argument("--database-url", help="SQLAlchemy URL (PASSERELLE_DATABASE_URL, default sqlite file)")


def run(args) -> int:
    settings = Settings().with_overrides(database_url=args.database_url)
    rules_path = args.rules or settings.mdm_rules or None
    try:
        rules = load_rules(rules_path)
        models = models_from(rules)
    except (OSError, ValueError, KeyError) as exc:
        print(f"passerelle mdm train: cannot read the rules {rules_path or '(shipped)'}: {exc}", file=sys.stderr)
        return 2
    if args.max_records < 1:
        print("passerelle mdm train: --max-records must be positive", file=sys.stderr)
        return 2
    ctx = build_context(settings.with_overrides(mdm="off"))  # reading only: no hook needed
    trainings, skipped = [], []
    for rtype in args.types or list(models):
        try:
            trainings.append(train_store(ctx.store, models[rtype], max_records=args.max_records))
        except ValueError as exc:
            skipped.append(str(exc))
    ctx.store.engine.dispose()
    for reason in skipped:
        print(f"skipped {reason}", file=sys.stderr)
    if not trainings:
        print("passerelle mdm train: nothing trained; no file written", file=sys.stderr)
        return 1
    args.out.write_text(json.dumps(rules_document(rules, trainings), indent=2, ensure_ascii=False) + "\n",
                        encoding="utf-8")
    for training in trainings:
        print(_summary(training))
    print(f"wrote {args.out}: review it, then PASSERELLE_MDM_RULES={args.out}")
    return 0


def _summary(training) -> str:
    lines = [f"{training.resource_type}: {training.records:,} records (of {training.stored:,} stored), "
             f"{training.pairs:,} candidate pairs; prior {training.before.prior:.3g} -> {training.after.prior:.3g}",
             "  field            level              weight before -> after"]
    for old, new in zip(training.before.comparisons, training.after.comparisons):
        for level, name in enumerate(new.levels):
            lines.append(f"  {new.field:<16} {name:<18} {old.weight(level):+7.2f} -> {new.weight(level):+7.2f}")
    return "\n".join(lines)
