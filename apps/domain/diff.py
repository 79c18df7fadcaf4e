"""What changed between two domain models.

The diff is computed from the two snapshots alone, so a stored version's diff and the
``/diff?from=&to=`` of any two versions read the same way. A rename shows up as a
removal plus an addition.
"""
from __future__ import annotations

from typing import Any

from apps.domain.schema import relationship_key

Dsl = dict[str, Any]


def dsl_diff(before: Dsl | None, after: Dsl | None) -> dict[str, Any]:
    """``{entities: {added, removed, changed}, fields: {added, removed, changed},
    relationships: {added, removed, changed}}``; entity lists hold names, field entries
    ``{entity, field, …}``, relationship entries the relationship (or before/after)."""
    old = (before or {}).get("entities", {})
    new = (after or {}).get("entities", {})
    fields_added: list[dict[str, Any]] = []
    fields_removed: list[dict[str, Any]] = []
    fields_changed: list[dict[str, Any]] = []
    entities_changed: list[str] = []
    for name in new:
        if name not in old:
            continue
        old_fields, new_fields = old[name].get("fields", {}), new[name].get("fields", {})
        touched = old[name].get("description") != new[name].get("description")
        for field, definition in new_fields.items():
            if field not in old_fields:
                fields_added.append({"entity": name, "field": field, "definition": definition})
                touched = True
            elif old_fields[field] != definition:
                fields_changed.append({"entity": name, "field": field, "before": old_fields[field],
                                       "after": definition})
                touched = True
        for field in old_fields.keys() - new_fields.keys():
            fields_removed.append({"entity": name, "field": field})
            touched = True
        if touched:
            entities_changed.append(name)
    for name in new:
        if name not in old:
            for field, definition in new[name].get("fields", {}).items():
                fields_added.append({"entity": name, "field": field, "definition": definition})
    for name in old:
        if name not in new:
            fields_removed.extend({"entity": name, "field": field} for field in old[name].get("fields", {}))
    old_rels = {relationship_key(r): r for r in (before or {}).get("relationships", [])}
    new_rels = {relationship_key(r): r for r in (after or {}).get("relationships", [])}
    order = list(new)
    return {
        "entities": {
            "added": [n for n in order if n not in old],
            "removed": sorted(old.keys() - new.keys()),
            "changed": sorted(entities_changed, key=order.index),
        },
        "fields": {
            "added": fields_added,
            "removed": sorted(fields_removed, key=lambda f: (f["entity"], f["field"])),
            "changed": sorted(fields_changed, key=lambda f: (f["entity"], f["field"])),
        },
        "relationships": {
            "added": [r for k, r in new_rels.items() if k not in old_rels],
            "removed": [r for k, r in old_rels.items() if k not in new_rels],
            "changed": [{"before": old_rels[k], "after": r} for k, r in new_rels.items()
                        if k in old_rels and old_rels[k] != r],
        },
    }


def diff_is_empty(diff: dict[str, Any]) -> bool:
    return not any(items for section in diff.values() for items in section.values())


def diff_summary(diff: dict[str, Any]) -> dict[str, int]:
    """Counts for lists and admin: ``{added, changed, removed}`` over all sections."""
    return {kind: sum(len(diff[section][kind]) for section in ("entities", "fields", "relationships"))
            for kind in ("added", "changed", "removed")}
