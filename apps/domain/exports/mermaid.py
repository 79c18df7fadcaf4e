"""A Mermaid ``erDiagram``: one block per entity (keys marked PK/FK/UK, enum values as the
comment) and one line per relationship, with crow's-foot cardinalities."""
from __future__ import annotations

from typing import Any

from apps.domain.exports.relational import relational_model

_CARDINALITY = {
    "many-to-one": "}o--||",
    "one-to-many": "||--o{",
    "one-to-one": "|o--||",
    "many-to-many": "}o--o{",
}
_VERB = {"many-to-one": "belongs to", "one-to-many": "has", "one-to-one": "has one",
         "many-to-many": "relates to"}


def _attribute(name: str) -> str:
    # Mermaid lexes a bare PK / FK / UK as a key marker, never as a name.
    return name + "_" if name.upper() in ("PK", "FK", "UK") else name


def _comment(text: str) -> str:
    return '"' + text.replace('"', "'").replace("\n", " ")[:120] + '"'


def export_mermaid(dsl: dict[str, Any], *, title: str = "domain model") -> str:
    model = relational_model(dsl)
    lines = ["erDiagram"]
    for name, table in model.tables.items():
        lines.append(f"    {name} {{")
        lines.append(f"        {table.key_type} id PK")
        for field, definition in table.fields.items():
            marks = " UK" if definition["unique"] else ""
            comment = ""
            if definition["type"] == "enum" and definition.get("values"):
                comment = " " + _comment(" | ".join(definition["values"]))
            elif definition["required"]:
                comment = ' "required"'
            lines.append(f"        {definition['type']} {_attribute(field)}{marks}{comment}")
        for fk in table.foreign_keys:
            key_type = model.tables[fk.target].key_type
            lines.append(f"        {key_type} {_attribute(fk.field)} FK{', UK' if fk.unique else ''}")
        lines.append("    }")
    for rel in model.relationships:
        label = rel.get("name") or _VERB[rel["type"]]
        lines.append(f"    {rel['from']} {_CARDINALITY[rel['type']]} {rel['to']} : {_comment(label)}")
    return "\n".join(lines) + "\n"
