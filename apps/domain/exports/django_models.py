"""A Django ``models.py``: one model per entity, foreign keys and many-to-many fields from
the relationships (see ``relational``), enums as ``choices``. Field names are snake_case;
a name Python or Django reserves gets a ``_field`` suffix; reverse accessors never clash.
"""
from __future__ import annotations

import keyword
import re
from typing import Any

from apps.domain.exports.relational import Relational, pascal, plural, relational_model
from apps.domain.schema import snake_case

_RESERVED = {
    "pk", "objects", "save", "delete", "clean", "check", "full_clean", "refresh_from_db",
    "validate_unique", "serializable_value", "from_db", "DoesNotExist", "MultipleObjectsReturned",
}
_FIELD_CLASSES = {
    "uuid": "UUIDField", "string": "CharField", "text": "TextField", "integer": "IntegerField",
    "decimal": "DecimalField", "boolean": "BooleanField", "datetime": "DateTimeField",
    "date": "DateField", "enum": "CharField", "json": "JSONField",
}


def python_name(name: str) -> str:
    result = snake_case(name)
    if keyword.iskeyword(result) or keyword.issoftkeyword(result) or result in _RESERVED:
        result += "_field"
    return result


def class_name(entity: str) -> str:
    result = pascal(entity)
    return result + "Entity" if keyword.iskeyword(result) else result


def _label(value: str) -> str:
    text = re.sub(r"[_\-]+", " ", value).strip()
    return text[:1].upper() + text[1:]


class _Writer:
    def __init__(self, model: Relational) -> None:
        self.model = model
        self.imports: set[str] = {"from django.db import models"}
        self.helpers: list[str] = []
        # Attribute names of each model's relations, fixed before any class is written so
        # reverse accessors can avoid every attribute of their target.
        self.fk_attrs: dict[int, str] = {}
        self.join_attrs: dict[int, str] = {}
        self.reverse: dict[str, set[str]] = {}
        for name, table in model.tables.items():
            names = {"id"} | {python_name(f) for f in table.fields}
            for fk in table.foreign_keys:
                self.fk_attrs[id(fk)] = self._free(python_name(fk.role), names)
            for join in model.joins:
                if join.left == name:
                    self.join_attrs[id(join)] = self._free(python_name(join.role), names)
            self.reverse[name] = names

    @staticmethod
    def _free(attr: str, names: set[str]) -> str:
        while attr in names:
            attr += "_ref"
        names.add(attr)
        return attr

    def _related_name(self, holder: str, target: str, field: str) -> str:
        used = self.reverse[target]
        for candidate in (snake_case(plural(holder)), f"{snake_case(holder)}_{field}_set"):
            if candidate not in used:
                used.add(candidate)
                return candidate
        return "+"

    def _default(self, owner: str, name: str, definition: dict[str, Any]) -> str:
        value, ftype = definition["default"], definition["type"]
        if ftype == "uuid":
            self.imports.add("import uuid")
            return "uuid.uuid4" if value == "auto" else f"uuid.UUID({value!r})"
        if ftype == "datetime":
            if value == "now":
                self.imports.add("from django.utils import timezone")
                return "timezone.now"
            self.imports.add("import datetime")
            return f"datetime.datetime.fromisoformat({value.replace('Z', '+00:00')!r})"
        if ftype == "date":
            self.imports.add("import datetime")
            return "datetime.date.today" if value == "today" else f"datetime.date.fromisoformat({value!r})"
        if ftype == "decimal":
            self.imports.add("from decimal import Decimal")
            return f"Decimal({str(value)!r})"
        if ftype == "json" and isinstance(value, (dict, list)):
            if not value:
                return "dict" if isinstance(value, dict) else "list"
            helper = f"default_{snake_case(owner)}_{snake_case(name)}"
            self.helpers.append(f"def {helper}():\n    return {value!r}\n")
            return helper
        return repr(value)

    def field(self, owner: str, name: str, definition: dict[str, Any]) -> str:
        ftype = definition["type"]
        args: list[str] = []
        if ftype == "string":
            args.append("max_length=255")
        elif ftype == "enum":
            values = definition.get("values", [])
            width = max([len(v) for v in values] + [20])
            args.append(f"max_length={width}")
            if values:
                args.append("choices=[" + ", ".join(f"({v!r}, {_label(v)!r})" for v in values) + "]")
        elif ftype == "decimal":
            args += ["max_digits=12", "decimal_places=2"]
        if definition["unique"]:
            args.append("unique=True")
        if "default" in definition:
            args.append("default=" + self._default(owner, name, definition))
        if not definition["required"]:
            args += ["null=True", "blank=True"]
        if definition.get("description"):
            args.append(f"help_text={definition['description']!r}")
        return f"    {python_name(name)} = models.{_FIELD_CLASSES[ftype]}({', '.join(args)})"

    def model_class(self, entity: str) -> str:
        table = self.model.tables[entity]
        lines = [f"class {class_name(entity)}(models.Model):"]
        if table.key_generated or table.key_type == "integer":
            lines.append("    id = models.BigAutoField(primary_key=True)")
        elif table.key_type == "uuid":
            self.imports.add("import uuid")
            lines.append("    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)")
        else:
            lines.append("    id = models.CharField(primary_key=True, max_length=255)")
        lines += [self.field(entity, name, d) for name, d in table.fields.items()]
        for fk in table.foreign_keys:
            attr = self.fk_attrs[id(fk)]
            kind = "OneToOneField" if fk.kind == "one-to-one" else "ForeignKey"
            on_delete = "models.CASCADE" if fk.required else "models.SET_NULL"
            extra = "" if fk.required else ", null=True, blank=True"
            related = self._related_name(entity, fk.target, attr)
            lines.append(f"    {attr} = models.{kind}({class_name(fk.target)!r}, on_delete={on_delete}, "
                         f"related_name={related!r}{extra})")
        for join in self.model.joins:
            if join.left != entity:
                continue
            attr = self.join_attrs[id(join)]
            related = self._related_name(entity, join.right, attr)
            lines.append(f"    {attr} = models.ManyToManyField({class_name(join.right)!r}, "
                         f"related_name={related!r}, blank=True)")
        lines += ["", "    def __str__(self):", "        return f\"" + class_name(entity) + " {self.pk}\""]
        return "\n".join(lines)


def export_django(dsl: dict[str, Any], *, title: str = "domain model") -> str:
    model = relational_model(dsl)
    writer = _Writer(model)
    classes = [writer.model_class(entity) for entity in model.tables]
    plain = sorted(i for i in writer.imports if i.startswith("import"))
    imports = plain + ([""] if plain else []) + sorted(i for i in writer.imports if i.startswith("from"))
    helpers = [*writer.helpers, ""] if writer.helpers else []
    safe_title = title.replace("\\", "").replace('"', "'")
    parts = [f'"""{safe_title}: Django models generated by Blueprint."""', *imports, "", "",
             *helpers, "\n\n\n".join(classes), ""]
    return "\n".join(parts)
