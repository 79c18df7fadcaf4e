"""The relational reading of a domain model, shared by every export.

* Key: the ``id`` field (uuid, integer or string); an entity without one gets a
  generated integer ``id``.
* ``A many-to-one B`` and ``A one-to-one B``: a foreign key on A to B, role = the
  relationship's name or ``b``; its column is A's field ``<role>Id`` when A has one
  (seed 000's ``authorId``), otherwise one is added. One-to-one keys are unique.
* ``A one-to-many B``: a foreign key on B to A, role ``a``. A mirror of an existing
  many-to-one (same holder and column) is the same key and appears once.
* ``A many-to-many B``: a join table ``a_<role>`` with one key to each side.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from apps.domain.schema import snake_case

_PLURAL_ES = re.compile(r"(s|x|z|ch|sh)$")


def lower_first(name: str) -> str:
    return name[:1].lower() + name[1:]


def pascal(name: str) -> str:
    if "_" not in name and name[:1].isupper():
        return name
    return "".join(part[:1].upper() + part[1:] for part in snake_case(name).split("_"))


def plural(word: str) -> str:
    if word.endswith("y") and len(word) > 1 and word[-2] not in "aeiou":
        return word[:-1] + "ies"
    if _PLURAL_ES.search(word):
        return word + "es"
    return word + "s"


def singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 3:
        return word[:-3] + "y"
    if re.search(r"(ss|x|z|ch|sh)es$", word):
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss") and len(word) > 1:
        return word[:-1]
    return word


@dataclass
class ForeignKey:
    holder: str  # the entity whose table has the column
    target: str
    role: str  # e.g. "author"
    field: str  # the DSL field name of the column, e.g. "authorId"
    declared: bool  # the holder declares the field itself
    required: bool
    unique: bool
    kind: str  # many-to-one | one-to-one
    label: str  # the relationship's name, for diagrams


@dataclass
class JoinTable:
    name: str  # snake_case table name
    left: str
    right: str
    role: str  # the accessor on ``left``, e.g. "tags"
    label: str

    @property
    def ids_field(self) -> str:
        """The record property that lists the linked ids, e.g. ``tagIds``."""
        return f"{singular(self.role)}Ids"


@dataclass
class Table:
    entity: str
    key_type: str  # uuid | integer | string
    key_generated: bool  # no ``id`` in the model: the export adds one
    fields: dict[str, dict[str, Any]]  # the entity's fields except the key and FK columns
    foreign_keys: list[ForeignKey] = field(default_factory=list)

    @property
    def name(self) -> str:
        return snake_case(self.entity)


@dataclass
class Relational:
    tables: dict[str, Table]
    joins: list[JoinTable]
    relationships: list[dict[str, Any]]

    def foreign_keys(self) -> list[ForeignKey]:
        return [fk for table in self.tables.values() for fk in table.foreign_keys]


def _find_field(fields: dict[str, Any], role: str) -> str | None:
    wanted = snake_case(role) + "_id"
    for name in fields:
        if snake_case(name) == wanted:
            return name
    return None


def relational_model(dsl: dict[str, Any]) -> Relational:
    entities: dict[str, Any] = dsl.get("entities", {})
    tables: dict[str, Table] = {}
    for name, entity in entities.items():
        fields = dict(entity.get("fields", {}))
        key = fields.pop("id", None)
        tables[name] = Table(name, key["type"] if key else "integer", key is None, fields)
    taken: set[tuple[str, str]] = set()
    joins: list[JoinTable] = []
    table_names = {t.name for t in tables.values()}
    for rel in dsl.get("relationships", []):
        source, target, kind, label = rel["from"], rel["to"], rel["type"], rel.get("name") or ""
        if kind == "many-to-many":
            role = label or plural(lower_first(target))
            join = f"{snake_case(source)}_{snake_case(role)}"
            while join in table_names:
                join += "_link"
            table_names.add(join)
            joins.append(JoinTable(join, source, target, role, label))
            continue
        if kind == "one-to-many":
            holder, referenced, role = target, source, lower_first(source)
        else:
            holder, referenced, role = source, target, label or lower_first(target)
        table = tables[holder]
        column = _find_field(table.fields, role)
        if column is None and (holder, snake_case(role)) in taken:
            # one-to-many mirrors a many-to-one that already made this key
            if any(fk.target == referenced and fk.role == role for fk in table.foreign_keys):
                continue
        while column is None and (holder, snake_case(role)) in taken:
            role += "Ref"
        if (holder, snake_case(role)) in taken:
            continue
        taken.add((holder, snake_case(role)))
        declared = column is not None
        definition = table.fields.pop(column) if column is not None else {}
        table.foreign_keys.append(ForeignKey(
            holder=holder, target=referenced, role=role, field=column or f"{role}Id", declared=declared,
            required=bool(definition.get("required", False)),
            unique=kind == "one-to-one" or bool(definition.get("unique", False)),
            kind="one-to-one" if kind == "one-to-one" else "many-to-one", label=label or role,
        ))
    return Relational(tables, joins, list(dsl.get("relationships", [])))
