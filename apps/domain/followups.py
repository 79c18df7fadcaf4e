"""Follow-up requests against the current model: "rename author to writer", "remove
comments", "remove the slug from posts", "add a price to products", "add tags to posts".
Mixed into the extractor of ``apps.domain.heuristics``; each returns True when the
sentence was such a request (and the general sentence rules should not read it again)."""
from __future__ import annotations

import re
from typing import Any, Final

from apps.domain.exports.relational import lower_first, pascal
from apps.domain.inflect import singular_word
from apps.domain.lexicon import ATTRIBUTES
from apps.domain.schema import snake_case
from apps.domain.vocabulary import ADJECTIVES, DETERMINERS, QUANTIFIERS

# Requests, not descriptions: they open the sentence ("please add…", but not "customers add…").
_ASK: Final = r"^(?:(?:please|also|and|then|now|ok|okay|can you|could you|let's|lets|i want to|we want to) )*"
_RENAME: Final = re.compile(_ASK + r"rename (?:the )?([a-z ]+?) (?:to|as|into) ([a-z][a-z ]*)")
_REMOVE: Final = re.compile(_ASK + r"(?:remove|delete|drop|get rid of)(?: the)? ([a-z ]+?)"
                                   r"(?: from (?:the )?([a-z ]+))?$")
_ADD: Final = re.compile(_ASK + r"add (?:a |an |some )?([a-z ]+?) (?:to|for) (?:the |each |every |all |our )?"
                                r"([a-z ]+)$")
_FILLER: Final = DETERMINERS | QUANTIFIERS | ADJECTIVES | {"also", "please", "new"}


def entity_name(words: list[str]) -> str:
    """The entity name for a phrase the person wrote: ``menu items`` → ``MenuItem``."""
    kept = [w for w in words if w not in _FILLER] or words
    return pascal("_".join([*kept[:-1], singular_word(kept[-1])]).replace("-", "_")) if kept else ""


class FollowUps:
    current: dict[str, Any]
    entities: dict[str, dict[str, Any]]
    remove: dict[str, list[Any]]
    rename: dict[str, list[Any]]
    notes: list[str]
    by_snake_name: dict[str, str]  # snake_case name → entity name, current and new

    def present(self, name: str) -> bool:
        raise NotImplementedError

    def add_entity(self, name: str) -> str | None:
        raise NotImplementedError

    def add_field(self, entity: str, spec: str) -> None:
        raise NotImplementedError

    def relate(self, source: str, target: str, kind: str, name: str | None = None) -> None:
        raise NotImplementedError

    def known_entity(self, words: list[str]) -> str | None:
        """The current or new entity a phrase names (``posts`` → ``Post``), if there is one."""
        if not words:
            return None
        name = entity_name(words)
        if self.present(name):
            return name
        known = self.by_snake_name.get(snake_case(name))
        return known if known and self.present(known) else None

    def follow_up(self, sentence: str) -> bool:
        text = " ".join(re.findall(r"[a-z][a-z-]*", sentence))  # "please, add tags" → "please add tags"
        return self._rename(text) or self._remove(text) or self._add(text)

    def _rename(self, text: str) -> bool:
        match = _RENAME.search(text)
        if not match:
            return False
        old, new = match.group(1).split(), match.group(2).split()[:2]
        entity = self.known_entity(old)
        if entity:
            target = entity_name(new)
            self.rename["entities"].append({"from": entity, "to": target})
            self.notes.append(f"renamed {entity} to {target}")
            return True
        for name, definition in self.current["entities"].items():
            for field in definition.get("fields", {}):
                if snake_case(field).replace("_", " ") == " ".join(old):
                    to = lower_first(pascal("_".join(new)))
                    self.rename["fields"].append({"entity": name, "from": field, "to": to})
                    self.notes.append(f"renamed {name}.{field} to {to}")
                    return True
        return False

    def _remove(self, text: str) -> bool:
        match = _REMOVE.search(text)
        if not match:
            return False
        what, owner = match.group(1).split(), (match.group(2) or "").split()
        holder = self.known_entity(owner)
        if holder:
            key = lower_first(pascal("_".join(what)))
            if key in self.current["entities"].get(holder, {}).get("fields", {}):
                self.remove["fields"].append({"entity": holder, "field": key})
                self.notes.append(f"removed {holder}.{key}")
                return True
        entity = self.known_entity(what)
        if entity and entity in self.current["entities"]:
            self.remove["entities"].append(entity)
            self.notes.append(f"removed {entity}")
            return True
        return False

    def _add(self, text: str) -> bool:
        match = _ADD.search(text)
        if not match:
            return False
        owner = self.known_entity(match.group(2).split())
        if owner is None:
            return False
        what = match.group(1).strip()
        attribute = ATTRIBUTES.get(what) or ATTRIBUTES.get(singular_word(what))
        if attribute:
            self.add_field(owner, attribute)
            return True
        name = entity_name(what.split())
        if not name or name == owner:
            return False
        if self.add_entity(name) is None:
            return False
        # "add tags to posts": many tags for a post (many-to-many when the lexicon says so)
        self.relate(name, owner, "many-to-one")
        return True
