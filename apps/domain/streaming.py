"""Incremental parsing of the ``update_domain_model`` tool's streamed arguments.

The model streams the arguments' JSON a few characters at a time. ``DomainArgumentStream``
turns that into ``dsl.update`` preview payloads for the parts that are *complete and
valid*: a field appears only once its whole definition has arrived and validates, a
relationship only once both of its ends exist in the preview. Nothing half-received —
a field name, an enum value, a number — is ever shown.

Cost stays linear in the length of the arguments:

* ``feed`` only appends, unless the fragment holds ``}``, ``]`` or ``,`` — the only
  characters that can complete a part — and only then walks the unread text;
* the walk is a small push-down automaton over the structural levels (top → entities →
  entity → fields) driven by regexes and ``json``'s C scanner, and the smallest parts
  (one field definition, one relationship) are decoded whole with ``raw_decode``; text
  already consumed is dropped, so a walk costs what arrived since the last one;
* previews are snapshots of the whole model, so they are rate-limited: every completed
  part while the model has fewer than 32 parts, then one preview per 1/32 growth. The
  total snapshot work is therefore linear too; the applied version follows at the end.

Previews carry the stored version's ``version``, ``phase`` and ``readiness`` (readiness
is computed when the update is applied), the streamed ``confidence`` once complete, and
``"partial": true``. A ``remove``/``rename`` is previewed where it appears in the stream;
the applied update always runs renames and removals first (see ``apps.domain.merge``).
"""
from __future__ import annotations

import json
import re
from typing import Any, Final

from apps.domain.errors import DomainValidationError
from apps.domain.merge import apply_removals, apply_renames, copy_dsl, validate_update
from apps.domain.schema import (
    NAME_RE,
    check_confidence,
    relationship_key,
    validate_field,
    validate_relationship,
)

_WS: Final = re.compile(r"[ \t\n\r]*")
_KEY: Final = re.compile(r'[ \t\n\r]*"((?:[^"\\]|\\.)*)"[ \t\n\r]*:[ \t\n\r]*')
_SEP: Final = re.compile(r"[ \t\n\r]*([,}\]])")
_THROTTLE_PARTS: Final = 32
_CLOSERS: Final = {"{": "}", "[": "]", '"': '"'}

# Frame roles: what the container at this level holds.
TOP, ENTITIES, ENTITY, FIELDS, RELATIONSHIPS = range(5)
# What a frame expects next.
KEY_OR_END, ITEM_OR_END, VALUE, SEP = range(4)


class _Frame:
    __slots__ = ("entity", "expect", "key", "role")

    def __init__(self, role: int, expect: int, entity: str = "") -> None:
        self.role = role
        self.expect = expect
        self.entity = entity
        self.key = ""


class DomainArgumentStream:
    """Feed the tool's argument deltas; get previews; ``finish`` for the full arguments.

    ``current`` is the current ``dsl.update`` payload (``domain_model_current``) or None.
    """

    def __init__(self, current: dict[str, Any] | None) -> None:
        current = current or {}
        self._chunks: list[str] = []
        self._mark = 0
        self._rest = ""
        self._stack: list[_Frame] = []
        self._started = False
        self._broken = False
        self._scan: Any = json.JSONDecoder().scan_once  # type: ignore[attr-defined]
        self._dsl = copy_dsl(current.get("domainModel"))
        self._entities: dict[str, Any] = self._dsl["entities"]
        self._relationships: list[dict[str, Any]] = self._dsl["relationships"]
        self._rel_index = {relationship_key(r): i for i, r in enumerate(self._relationships)}
        self._waiting: dict[str, list[dict[str, Any]]] = {}
        self._base = {"version": current.get("version", 0), "phase": current.get("phase", "clarifying"),
                      "readiness": current.get("readiness", 0), "confidence": current.get("confidence", 0.0)}
        self._parts = len(self._entities) + len(self._relationships) + sum(
            len(e.get("fields", {})) for e in self._entities.values())
        self._unreported = 0
        self.rejected: list[str] = []  # parts that completed but did not validate (for logs)

    # --- public API -----------------------------------------------------------------

    def feed(self, delta: str) -> list[dict[str, Any]]:
        """Take the next fragment; return previews for newly complete parts (often none)."""
        self._chunks.append(delta)
        if self._broken or ("}" not in delta and "]" not in delta and "," not in delta):
            return []
        buf = self._rest + "".join(self._chunks[self._mark:])
        self._mark = len(self._chunks)
        pos = self._walk(buf)
        self._rest = buf[pos:]
        if self._unreported and self._unreported >= max(1, self._parts // _THROTTLE_PARTS):
            return [self.snapshot()]
        return []

    def snapshot(self) -> dict[str, Any]:
        """The preview as it stands (also what a throttled ``feed`` held back)."""
        self._unreported = 0
        return {
            "domainModel": {"entities": dict(self._entities), "relationships": list(self._relationships)},
            **self._base,
            "partial": True,
        }

    def finish(self) -> dict[str, Any]:
        """The complete arguments, parsed.

        Raises:
            DomainValidationError: the arguments are not one JSON object.
        """
        text = "".join(self._chunks)
        if not text.strip():
            raise DomainValidationError("", "the tool was called without arguments")
        try:
            arguments = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DomainValidationError("", f"the arguments are not valid JSON ({exc.msg} at "
                                            f"character {exc.pos})") from None
        if not isinstance(arguments, dict):
            raise DomainValidationError("", "the arguments must be a JSON object")
        return arguments

    # --- the walk -------------------------------------------------------------------

    def _walk(self, buf: str) -> int:
        """Consume as much of ``buf`` as is complete; return where the unread text starts."""
        pos, end, stack = 0, len(buf), self._stack
        if not self._started:
            pos = _WS.match(buf).end()  # type: ignore[union-attr]
            if pos == end:
                return pos
            if buf[pos] != "{":
                self._broken = True
                return end
            stack.append(_Frame(TOP, KEY_OR_END))
            self._started = True
            pos += 1
        while stack:
            frame = stack[-1]
            expect = frame.expect
            if expect == SEP:
                sep = _SEP.match(buf, pos)
                if sep is None:
                    break
                pos = sep.end()
                if sep.group(1) == ",":
                    frame.expect = ITEM_OR_END if frame.role == RELATIONSHIPS else KEY_OR_END
                else:
                    self._close(stack.pop())
                continue
            if expect == KEY_OR_END:
                key = _KEY.match(buf, pos)
                if key is None:
                    pos = _WS.match(buf, pos).end()  # type: ignore[union-attr]
                    if pos < end and buf[pos] == "}":
                        self._close(stack.pop())
                        pos += 1
                        continue
                    if pos < end and buf[pos] != '"':
                        self._broken = True
                    break
                raw_key = key.group(1)
                frame.key = json.loads(f'"{raw_key}"') if "\\" in raw_key else raw_key
                frame.expect = VALUE
                pos = key.end()
            elif expect == ITEM_OR_END:
                pos = _WS.match(buf, pos).end()  # type: ignore[union-attr]
                if pos < end and buf[pos] == "]":
                    self._close(stack.pop())
                    pos += 1
                    continue
                frame.expect = VALUE
            else:
                pos = _WS.match(buf, pos).end()  # type: ignore[union-attr]
            if pos >= end:
                break
            child = self._child_role(frame)
            if child is not None and buf[pos] == ("[" if child == RELATIONSHIPS else "{"):
                frame.expect = SEP
                stack.append(_Frame(child, ITEM_OR_END if child == RELATIONSHIPS else KEY_OR_END,
                                    frame.key if child == ENTITY else frame.entity))
                pos += 1
                continue
            closer = _CLOSERS.get(buf[pos])
            if closer is not None and buf.find(closer, pos + 1) < 0:
                break  # cannot be complete yet: spare the scanner a doomed attempt
            try:
                value, stop = self._scan(buf, pos)
            except (StopIteration, json.JSONDecodeError):
                break  # incomplete (or invalid: finish() will say so)
            if stop == end and isinstance(value, (int, float)):
                break  # a number is only complete once something follows it
            frame.expect = SEP
            pos = stop
            self._leaf(frame, value)
        if not stack and self._started:
            return end
        # Keep the unread text from the start of the incomplete token.
        return pos

    @staticmethod
    def _child_role(frame: _Frame) -> int | None:
        role, key = frame.role, frame.key
        if role == TOP:
            return ENTITIES if key == "entities" else RELATIONSHIPS if key == "relationships" else None
        if role == ENTITIES:
            return ENTITY
        if role == ENTITY and key == "fields":
            return FIELDS
        return None

    # --- completed parts --------------------------------------------------------------

    def _leaf(self, frame: _Frame, value: Any) -> None:
        role = frame.role
        if role == FIELDS:
            self._field(frame.entity, frame.key, value)
        elif role == RELATIONSHIPS:
            self._relationship(value)
        elif role == ENTITY and frame.key == "description" and isinstance(value, str):
            self._touch_entity(frame.entity, description=value)
        elif role == TOP:
            self._top_level(frame.key, value)

    def _close(self, frame: _Frame) -> None:
        if frame.role == ENTITY and NAME_RE.match(frame.entity):
            self._touch_entity(frame.entity)

    def _touch_entity(self, name: str, description: str | None = None,
                      field: tuple[str, dict[str, Any]] | None = None) -> None:
        existing = self._entities.get(name)
        if existing is None:
            if not NAME_RE.match(name):
                self.rejected.append(f"entities.{name}")
                return
            entity: dict[str, Any] = {"fields": {}}
            self._parts += 1
            self._unreported += 1
        elif description is None and field is None:
            return
        else:
            entity = {**existing, "fields": dict(existing["fields"])}  # copy on write
        if description is not None:
            entity["description"] = description
            self._unreported += 1
        if field is not None:
            if field[0] not in entity["fields"]:
                self._parts += 1
            entity["fields"][field[0]] = field[1]
            self._unreported += 1
        self._entities[name] = entity
        if existing is None and name in self._waiting:
            for rel in self._waiting.pop(name):
                self._relationship(rel)

    def _field(self, entity: str, name: str, raw: Any) -> None:
        path = f"entities.{entity}.fields.{name}"
        try:
            if not NAME_RE.match(name) or not NAME_RE.match(entity):
                raise DomainValidationError(path, "bad name")
            definition = validate_field(path, raw)
        except DomainValidationError:
            self.rejected.append(path)
            return
        self._touch_entity(entity, field=(name, definition))

    def _relationship(self, raw: Any) -> None:
        try:
            rel = validate_relationship("relationships[]", raw)
        except DomainValidationError:
            self.rejected.append(f"relationships[{raw!r:.60}]")
            return
        for end in ("from", "to"):
            if rel[end] not in self._entities:
                self._waiting.setdefault(rel[end], []).append(rel)
                return
        key = relationship_key(rel)
        index = self._rel_index.get(key)
        if index is None:
            self._rel_index[key] = len(self._relationships)
            self._relationships.append(rel)
            self._parts += 1
        else:
            self._relationships[index] = rel
        self._unreported += 1

    def _top_level(self, key: str, value: Any) -> None:
        if key == "confidence":
            try:
                self._base["confidence"] = check_confidence("confidence", value)
                self._unreported += 1
            except DomainValidationError:
                self.rejected.append("confidence")
        elif key in ("remove", "rename"):
            try:
                update = validate_update({key: value})
                dsl = copy_dsl(self._dsl)
                apply_renames(dsl, update["rename"])
                apply_removals(dsl, update["remove"])
            except DomainValidationError:
                self.rejected.append(key)
                return
            self._dsl = dsl
            self._entities, self._relationships = dsl["entities"], dsl["relationships"]
            self._rel_index = {relationship_key(r): i for i, r in enumerate(self._relationships)}
            self._unreported += 1
