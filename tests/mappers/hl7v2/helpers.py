"""Shared by the v2 mapping tests: sample files, and reading a Bundle."""

from __future__ import annotations

from pathlib import Path

from mappers.hl7v2 import parse, to_bundle

SAMPLES = Path(__file__).with_name("samples")
SHARED = Path("/work/shared/hl7v2/samples")


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def bundle_of(name: str, config=None) -> dict:
    return to_bundle(parse(sample(name)), config)


def resources(bundle: dict, resource_type: str) -> list[dict]:
    return [e["resource"] for e in bundle["entry"] if e["resource"].get("resourceType") == resource_type
            and e["request"]["method"] != "PATCH"]


def one(bundle: dict, resource_type: str) -> dict:
    found = resources(bundle, resource_type)
    assert len(found) == 1, f"{len(found)} {resource_type} in the Bundle"
    return found[0]


def entry_for(bundle: dict, full_url: str) -> dict:
    return next(e for e in bundle["entry"] if e["fullUrl"] == full_url)
