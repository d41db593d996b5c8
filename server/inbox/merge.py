"""Several messages' transaction Bundles as one: a claimed batch stored in one transaction.

Storing a message costs a database transaction: its commit, the locks of its
conditional criteria, the store's per-transaction checks. Messages of different patients
claimed together are stored together instead, in the order they were received, with the
result they would have had one after the other:

- a conditional create (``POST`` + ``ifNoneExist``) that several of them make with the
  same criteria (the ward, the ordering practitioner) is made once, and the others'
  references point at it, as they would have found it;
- Bundles that would act on the same target (the same conditional update criteria, the
  same ``Type/id``, or an update of what another one creates conditionally) are not put
  in one transaction: a group ends before the second one;
- Bundles with anything else than creates and updates (operations such as ``$merge``,
  reads) are stored alone.

If the group's transaction fails, each message is stored alone (the worker's job): only
the faulty one becomes a dead letter.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..api.interactions import conditional_key

_GROUPABLE = ("POST", "PUT", "PATCH", "DELETE")


@dataclass
class Footprint:
    """What a Bundle touches: targets it alone may act on, criteria it may share, its
    own fullUrls (the same message ingested from two files has the same ones)."""

    exclusive: set[str] = field(default_factory=set)
    shared: set[str] = field(default_factory=set)
    full_urls: set[str] = field(default_factory=set)
    alone: bool = False

    def clashes(self, other: Footprint) -> bool:
        return bool(self.exclusive & (other.exclusive | other.shared) or self.shared & other.exclusive
                    or self.full_urls & other.full_urls)

    def add(self, other: Footprint) -> None:
        self.exclusive |= other.exclusive
        self.shared |= other.shared
        self.full_urls |= other.full_urls


def footprint(bundle: dict) -> Footprint:
    out = Footprint()
    if bundle.get("type") != "transaction":
        out.alone = True
        return out
    for entry in bundle.get("entry") or []:
        request = entry.get("request") or {}
        method, url = request.get("method"), request.get("url") or ""
        path, _, query = url.partition("?")
        if entry.get("fullUrl"):
            out.full_urls.add(entry["fullUrl"])
        if method not in _GROUPABLE or "$" in path or "/_history" in path:
            out.alone = True
        elif method == "POST" and request.get("ifNoneExist"):
            out.shared.add(conditional_key(path, request["ifNoneExist"].split("?", 1)[-1]))
        elif method == "POST":
            continue  # a plain create touches nothing anyone else names
        elif query:
            out.exclusive.add(conditional_key(path, query))
        else:
            out.exclusive.add(path.strip("/"))
    return out


def groups(bundles: list[dict], max_entries: int) -> list[list[int]]:
    """Indexes of ``bundles`` cut into consecutive groups that can share a transaction."""
    out: list[list[int]] = []
    touched = Footprint()
    entries = 0
    for i, bundle in enumerate(bundles):
        fp = footprint(bundle)
        size = len(bundle.get("entry") or [])
        if not out or fp.alone or touched.alone or fp.clashes(touched) or entries + size > max_entries:
            out.append([])
            touched, entries = Footprint(alone=fp.alone), 0
        out[-1].append(i)
        touched.add(fp)
        entries += size
    return out


def merge(bundles: list[dict]) -> dict:
    """One transaction Bundle with every entry of ``bundles`` (a group from ``groups``)."""
    entries: list[dict] = []
    first: dict[str, str] = {}  # conditional-create criteria -> fullUrl of the entry kept
    same: dict[str, str] = {}  # fullUrl of a dropped duplicate -> fullUrl of the entry kept
    for bundle in bundles:
        for entry in bundle.get("entry") or []:
            request = entry["request"]
            if request["method"] == "POST" and request.get("ifNoneExist"):
                key = conditional_key(request["url"].partition("?")[0], request["ifNoneExist"].split("?", 1)[-1])
                if key in first:
                    if entry.get("fullUrl"):
                        same[entry["fullUrl"]] = first[key]
                    continue
                first[key] = entry.get("fullUrl") or ""
            entries.append(entry)
    if same:
        entries = [_repoint(e, same) for e in entries]
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def _repoint(node, same: dict[str, str]):
    """A copy of ``node`` whose references to dropped entries name the entries kept."""
    if isinstance(node, dict):
        return {k: (same.get(v, v) if k == "reference" and isinstance(v, str) else _repoint(v, same))
                for k, v in node.items()}
    if isinstance(node, list):
        return [_repoint(v, same) for v in node]
    return node
