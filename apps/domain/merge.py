"""Merge semantics: how an ``update_domain_model`` call changes the current model.

An update is ``{entities?, relationships?, remove?, rename?, phase?, confidence?}``,
applied in this order, all or nothing:

1. ``rename.entities`` ``[{from, to}]`` — relationships follow the new name.
2. ``rename.fields`` ``[{entity, from, to}]`` — the definition is kept.
3. ``remove.relationships`` ``[{from, to, name?}]`` — without ``name`` every
   relationship from → to goes.
4. ``remove.fields`` ``[{entity, field}]``.
5. ``remove.entities`` ``[name]`` — their relationships go with them.
6. ``entities`` — upsert: a new name adds the entity; for an existing one each listed
   field is added or *replaced whole*; fields not listed are kept.
7. ``relationships`` — upsert by identity (from, to, name): an existing one gets the
   new type, a new one is added. Both ends must exist after steps 1–6.

Renaming or removing something that does not exist, renaming onto an existing name,
or a relationship to an unknown entity refuses the whole update.
"""
from __future__ import annotations

from typing import Any, Final

from apps.domain.errors import DomainValidationError
from apps.domain.schema import (
    MAX_ENTITIES,
    check_confidence,
    check_name,
    check_phase,
    check_relationships_resolve,
    check_unique_names,
    relationship_key,
    validate_entities,
    validate_relationships,
)

UPDATE_KEYS: Final = frozenset({"entities", "relationships", "remove", "rename", "phase", "confidence",
                                "readiness"})
REMOVE_KEYS: Final = frozenset({"entities", "fields", "relationships"})
RENAME_KEYS: Final = frozenset({"entities", "fields"})

Dsl = dict[str, Any]


def empty_dsl() -> Dsl:
    return {"entities": {}, "relationships": []}


def _object(path: str, raw: object, allowed: frozenset[str]) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise DomainValidationError(path, "must be an object")
    unknown = sorted(set(raw) - allowed)
    if unknown:
        where = f"{path}.{unknown[0]}" if path else unknown[0]
        raise DomainValidationError(where, f"unknown key; allowed: {', '.join(sorted(allowed))}")
    return raw


def _list(path: str, raw: object) -> list[Any]:
    if not isinstance(raw, list):
        raise DomainValidationError(path, "must be a list")
    return raw


def _names(path: str, item: object, keys: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict[str, str]:
    obj = _object(path, item, frozenset(keys + optional))
    out = {}
    for key in keys + optional:
        if key in optional and obj.get(key) is None:
            continue
        what = "field name" if key in ("field",) else "name"
        out[key] = check_name(f"{path}.{key}", obj.get(key), what)
    return out


def validate_update(raw: object) -> dict[str, Any]:
    """The tool's arguments → a normalised update (shape only; references are checked on merge).

    Raises:
        DomainValidationError: naming the first bad path.
    """
    args = _object("", raw, UPDATE_KEYS)
    update: dict[str, Any] = {
        "entities": validate_entities("entities", args.get("entities") or {}),
        "relationships": validate_relationships("relationships", args.get("relationships") or []),
        "remove": {"entities": [], "fields": [], "relationships": []},
        "rename": {"entities": [], "fields": []},
    }
    remove = _object("remove", args.get("remove") or {}, REMOVE_KEYS)
    for i, name in enumerate(_list("remove.entities", remove.get("entities") or [])):
        update["remove"]["entities"].append(check_name(f"remove.entities[{i}]", name, "entity name"))
    for i, item in enumerate(_list("remove.fields", remove.get("fields") or [])):
        update["remove"]["fields"].append(_names(f"remove.fields[{i}]", item, ("entity", "field")))
    for i, item in enumerate(_list("remove.relationships", remove.get("relationships") or [])):
        update["remove"]["relationships"].append(
            _names(f"remove.relationships[{i}]", item, ("from", "to"), ("name",)))
    rename = _object("rename", args.get("rename") or {}, RENAME_KEYS)
    for i, item in enumerate(_list("rename.entities", rename.get("entities") or [])):
        update["rename"]["entities"].append(_names(f"rename.entities[{i}]", item, ("from", "to")))
    for i, item in enumerate(_list("rename.fields", rename.get("fields") or [])):
        update["rename"]["fields"].append(_names(f"rename.fields[{i}]", item, ("entity", "from", "to")))
    if args.get("phase") is not None:
        update["phase"] = check_phase("phase", args["phase"])
    if args.get("confidence") is not None:
        update["confidence"] = check_confidence("confidence", args["confidence"])
    return update


def copy_dsl(dsl: Dsl | None) -> Dsl:
    """Copies as deep as a merge writes (entities and their field maps)."""
    if not dsl:
        return empty_dsl()
    entities = {name: {**entity, "fields": dict(entity.get("fields", {}))}
                for name, entity in dsl.get("entities", {}).items()}
    return {"entities": entities, "relationships": [dict(r) for r in dsl.get("relationships", [])]}


def _rename_key(mapping: dict[str, Any], old: str, new: str) -> dict[str, Any]:
    return {(new if key == old else key): value for key, value in mapping.items()}


def _missing(path: str, what: str, name: str, known: Any) -> DomainValidationError:
    listing = ", ".join(sorted(known)) or "none"
    return DomainValidationError(path, f"no {what} named {name!r} (known: {listing})")


def apply_renames(dsl: Dsl, rename: dict[str, list[dict[str, str]]]) -> None:
    for i, op in enumerate(rename["entities"]):
        old, new = op["from"], op["to"]
        if old not in dsl["entities"]:
            raise _missing(f"rename.entities[{i}].from", "entity", old, dsl["entities"])
        if new != old and new in dsl["entities"]:
            raise DomainValidationError(f"rename.entities[{i}].to", f"an entity named {new!r} already exists")
        dsl["entities"] = _rename_key(dsl["entities"], old, new)
        for rel in dsl["relationships"]:
            for end in ("from", "to"):
                if rel[end] == old:
                    rel[end] = new
    for i, op in enumerate(rename["fields"]):
        entity = dsl["entities"].get(op["entity"])
        if entity is None:
            raise _missing(f"rename.fields[{i}].entity", "entity", op["entity"], dsl["entities"])
        if op["from"] not in entity["fields"]:
            raise _missing(f"rename.fields[{i}].from", f"field of {op['entity']}", op["from"], entity["fields"])
        if op["to"] != op["from"] and op["to"] in entity["fields"]:
            raise DomainValidationError(f"rename.fields[{i}].to",
                                        f"{op['entity']} already has a field named {op['to']!r}")
        entity["fields"] = _rename_key(entity["fields"], op["from"], op["to"])


def apply_removals(dsl: Dsl, remove: dict[str, list[Any]]) -> None:
    for i, op in enumerate(remove["relationships"]):
        def matches(rel: dict[str, Any], op: dict[str, str] = op) -> bool:
            if rel["from"] != op["from"] or rel["to"] != op["to"]:
                return False
            return "name" not in op or (rel.get("name") or "") == op["name"]
        kept = [rel for rel in dsl["relationships"] if not matches(rel)]
        if len(kept) == len(dsl["relationships"]):
            raise DomainValidationError(f"remove.relationships[{i}]",
                                        f"no relationship {op['from']} → {op['to']}"
                                        + (f" named {op['name']!r}" if "name" in op else ""))
        dsl["relationships"] = kept
    for i, op in enumerate(remove["fields"]):
        entity = dsl["entities"].get(op["entity"])
        if entity is None:
            raise _missing(f"remove.fields[{i}].entity", "entity", op["entity"], dsl["entities"])
        if op["field"] not in entity["fields"]:
            raise _missing(f"remove.fields[{i}].field", f"field of {op['entity']}", op["field"], entity["fields"])
        del entity["fields"][op["field"]]
    for i, name in enumerate(remove["entities"]):
        if name not in dsl["entities"]:
            raise _missing(f"remove.entities[{i}]", "entity", name, dsl["entities"])
        del dsl["entities"][name]
        dsl["relationships"] = [r for r in dsl["relationships"] if name not in (r["from"], r["to"])]


def merge_update(current: Dsl | None, update: dict[str, Any]) -> Dsl:
    """Apply a validated update to a model; returns a new model and leaves ``current`` alone.

    Raises:
        DomainValidationError: a rename/remove of something missing, a name clash, or a
            relationship to an entity that does not exist after the update.
    """
    dsl = copy_dsl(current)
    apply_renames(dsl, update["rename"])
    apply_removals(dsl, update["remove"])
    for name, entity in update["entities"].items():
        existing = dsl["entities"].get(name)
        if existing is None:
            dsl["entities"][name] = {**entity, "fields": dict(entity["fields"])}
            continue
        existing["fields"].update(entity["fields"])
        if "description" in entity:
            existing["description"] = entity["description"]
        check_unique_names(f"entities.{name}.fields", existing["fields"])
    if len(dsl["entities"]) > MAX_ENTITIES:
        raise DomainValidationError("entities", f"at most {MAX_ENTITIES} entities")
    check_unique_names("entities", dsl["entities"])
    check_relationships_resolve(dsl["entities"], update["relationships"])
    index = {relationship_key(rel): i for i, rel in enumerate(dsl["relationships"])}
    for rel in update["relationships"]:
        position = index.get(relationship_key(rel))
        if position is None:
            index[relationship_key(rel)] = len(dsl["relationships"])
            dsl["relationships"].append(dict(rel))
        else:
            dsl["relationships"][position] = dict(rel)
    return dsl
