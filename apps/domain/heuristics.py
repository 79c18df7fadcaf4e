"""Rule-based extraction for the offline provider: from a person's words to an
``update_domain_model`` call. No model, no network — a lexicon and a few sentence shapes:

* nouns the lexicon knows (``apps.domain.lexicon``), singular or plural, one or two words,
  plus the current model's entities; a known verb use ("book a room") is skipped;
* ``X with A, B and C`` / ``X(s) have A…`` / ``track A, B…``: A, B, C become entities
  (or fields of X when they are attribute words such as price, due date, status);
* ``each A belongs to a B``, ``A is assigned to B`` → A many-to-one B;
  ``posts have comments`` → Comment many-to-one Post; ``a task has an assignee`` style
  singular objects → the subject points at them; known pairs (posts ↔ tags) are many-to-many;
* follow-ups: ``rename X to Y``, ``remove X`` / ``remove X from Y``, ``add a price to products``;
* every entity found gets its usual parent when that parent is present (comments → post),
  and link entities bring their companions (a booking brings Guest and Room).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Final

from apps.domain.exports.relational import lower_first, pascal, singular
from apps.domain.lexicon import (
    ATTRIBUTES,
    BRIDGES,
    COMPANIONS,
    ENTITIES,
    MANY_TO_MANY,
    PARENTS,
    entity_fields,
    parse_field,
)
from apps.domain.schema import NAME_RE, relationship_key, snake_case

_SENTENCES: Final = re.compile(r"[.!?;\n]+")
_TOKENS: Final = re.compile(r"[a-z][a-z0-9'-]*|,")
_FILLERS: Final = frozenset(
    "a an the many multiple several some one zero more or also their its his her my our your own each every "
    "optional different various other lots lot of any can could should must may might will would just "
    "and then".split())
_STOP: Final = frozenset(
    "system app application platform website site tool service thing things way data info information kind "
    "type feature support ability option stuff something everything anything management tracking it them "
    "they we i you people time place part list lists need needs want like simple basic new who what which "
    "where when how that this these those there here all".split())
_HAVE: Final = frozenset("have has contain contains include includes hold holds own owns with".split())
_BELONG: Final = (("belongs", "to"), ("belong", "to"), ("assigned", "to"), ("part", "of"), ("linked", "to"),
                  ("attached", "to"), ("tied", "to"))
_LIST_VERBS: Final = frozenset("track manage store organize organise handle record list keep".split())
_VERBISH: Final = frozenset("book order post comment review ticket message tag label copy file schedule "
                            "reserve rent plan".split())
_DETERMINERS: Final = frozenset("a an the their his her my our your it them this that".split())
_MODALS: Final = frozenset("to can will should must may could".split())


def singular_word(word: str) -> str:
    irregular = {"people": "person", "children": "child", "men": "man", "women": "woman", "data": "data"}
    if word in irregular:
        return irregular[word]
    if word.endswith(("us", "ss", "is")) and not word.endswith("uses"):
        return word
    return singular(word)


@dataclass
class Extraction:
    update: dict[str, Any]  # the tool's arguments (merge update)
    new_entities: list[str] = field(default_factory=list)
    new_relationships: list[dict[str, Any]] = field(default_factory=list)
    new_fields: list[str] = field(default_factory=list)  # "Entity.field"
    notes: list[str] = field(default_factory=list)  # renames and removals, in words

    @property
    def empty(self) -> bool:
        return not (self.new_entities or self.new_relationships or self.new_fields or self.notes)


class _Extractor:
    def __init__(self, current: dict[str, Any] | None) -> None:
        self.current = current or {"entities": {}, "relationships": []}
        self.aliases: dict[tuple[str, ...], str] = {}
        for name, (aliases, _) in ENTITIES.items():
            for alias in aliases:
                self.aliases[tuple(alias.split())] = name
        for name in self.current["entities"]:
            self.aliases[tuple(snake_case(name).split("_"))] = name
        self.entities: dict[str, dict[str, Any]] = {}  # new this turn → fields
        self.fields: dict[str, dict[str, Any]] = {}  # existing entity → new fields
        self.relationships: list[dict[str, Any]] = []
        self.remove: dict[str, list[Any]] = {"entities": [], "fields": []}
        self.rename: dict[str, list[Any]] = {"entities": [], "fields": []}
        self.notes: list[str] = []

    # --- lookups -----------------------------------------------------------------

    def present(self, name: str) -> bool:
        return (name in self.entities or name in self.current["entities"]) and name not in self.remove["entities"]

    def mention(self, words: list[str], i: int) -> tuple[str, int] | None:
        """The entity named at ``words[i]`` (one or two words) and where it ends."""
        for size in (2, 1):
            chunk = words[i:i + size]
            if len(chunk) < size or "," in chunk:
                continue
            key = (*chunk[:-1], singular_word(chunk[-1]))
            name = self.aliases.get(key)
            if name is None:
                continue
            after = words[i + size] if i + size < len(words) else ""
            before = words[i - 1] if i > 0 else ""
            if size == 1 and chunk[0] in _VERBISH | {s + "s" for s in _VERBISH} and (
                    after in _DETERMINERS or before in _MODALS):
                return None  # "book a room", "can comment": a verb, not a noun
            return name, i + size
        return None

    def add_entity(self, name: str) -> str:
        if not self.present(name):
            self.entities[name] = entity_fields(name)
        return name

    def add_field(self, entity: str, spec: str) -> None:
        name, definition = parse_field(spec)
        if name == "status" and entity in ENTITIES:
            for known in ENTITIES[entity][1]:
                if known.startswith("status:"):
                    name, definition = parse_field(known)
        target = self.entities.get(entity)
        if target is not None:
            target.setdefault(name, definition)
        elif name not in self.current["entities"].get(entity, {}).get("fields", {}):
            self.fields.setdefault(entity, {})[name] = definition

    def related(self, a: str, b: str) -> bool:
        for rel in [*self.current["relationships"], *self.relationships]:
            if {rel["from"], rel["to"]} == {a, b} and (a != b or rel["from"] == rel["to"]):
                return True
        return False

    def relate(self, source: str, target: str, kind: str, name: str | None = None) -> None:
        if (target, source) in MANY_TO_MANY:
            source, target, kind = target, source, "many-to-many"
        elif (source, target) in MANY_TO_MANY:
            kind = "many-to-many"
        if self.related(source, target):
            return
        rel: dict[str, Any] = {"from": source, "to": target, "type": kind}
        if name:
            rel["name"] = name
        self.relationships.append(rel)
        if kind in ("many-to-one", "one-to-one"):
            self.add_field(source, f"{name or lower_first(target)}Id:uuid!")

    # --- sentence shapes ---------------------------------------------------------------

    def item(self, words: list[str]) -> tuple[str, str, bool] | None:
        """One list item → ("entity" | "attribute", name or spec, plural?)."""
        plural_hint = any(w in ("many", "multiple", "several", "lots") for w in words)
        words = [w for w in words if w not in _FILLERS]
        if not words:
            return None
        for start in range(len(words)):
            found = self.mention(words, start)
            if found and found[1] == len(words):
                return "entity", found[0], plural_hint or words[-1] != singular_word(words[-1])
        phrase = " ".join(words[-2:])
        for key in (phrase, words[-1]):
            if key in ATTRIBUTES:
                return "attribute", ATTRIBUTES[key], False
        words = words[-2:]
        if any(w in _STOP or not w.isalpha() or len(w) < 3 for w in words):
            return None
        name = pascal("_".join([*words[:-1], singular_word(words[-1])]))
        if not NAME_RE.match(name):
            return None
        self.aliases[(*words[:-1], singular_word(words[-1]))] = name
        return "entity", name, words[-1] != singular_word(words[-1])

    def items_after(self, words: list[str], i: int) -> list[tuple[str, str, bool]]:
        found: list[tuple[str, str, bool]] = []
        current: list[str] = []
        for word in [*words[i:], ","]:
            if word in (",", "and", "or", "plus") or word in _HAVE or word in _LIST_VERBS:
                item = self.item(current)
                if item:
                    found.append(item)
                current = []
                if word in _HAVE or word in _LIST_VERBS:
                    break
            elif word in ("for", "that", "who", "which", "where", "to", "in", "on", "by", "from", "per"):
                item = self.item(current)
                if item:
                    found.append(item)
                break
            else:
                current.append(word)
        return found

    def subject_before(self, words: list[str], i: int, *, adjacent: bool = False) -> str | None:
        """The entity named just before ``words[i]``; ``adjacent`` when it must end right there."""
        for start in range(i - 1, max(-1, i - 5), -1):
            found = self.mention(words, start)
            if found and (found[1] == i or not adjacent):
                return found[0]
        return None

    def sentence(self, words: list[str]) -> None:
        if self.follow_up(words):
            return
        for i in range(len(words)):
            found = self.mention(words, i)
            if found:
                self.add_entity(found[0])
        for i, word in enumerate(words):
            if word in _HAVE:
                # "X with Y" binds only the noun right before "with"; "posts can also have" may skip a few
                subject = self.subject_before(words, i, adjacent=word == "with")
                for kind, value, plural in self.items_after(words, i + 1):
                    if kind == "attribute":
                        if subject:
                            self.add_field(subject, value)
                        continue
                    self.add_entity(value)
                    if subject is None or subject == value:
                        continue
                    if plural:
                        self.relate(value, subject, "many-to-one")
                    else:
                        self.relate(subject, value, "many-to-one")
            elif word in _LIST_VERBS:
                for kind, value, _ in self.items_after(words, i + 1):
                    if kind == "entity":
                        self.add_entity(value)
            elif i + 1 < len(words) and (word, words[i + 1]) in _BELONG:
                subject = self.subject_before(words, i)
                targets = [v for k, v, _ in self.items_after(words, i + 2) if k == "entity"]
                if subject and targets:
                    self.relate(subject, self.add_entity(targets[0]), "many-to-one")
        if "many-to-many" in words or " ".join(words).count("many to many"):
            named = [m[0] for i in range(len(words)) if (m := self.mention(words, i))]
            if len(named) >= 2 and named[0] != named[1]:
                self.relate(named[0], named[1], "many-to-many")

    def follow_up(self, words: list[str]) -> bool:
        text = " ".join(words)
        match = re.search(r"\brename (?:the )?([a-z ]+?) (?:to|as|into) ([a-z][a-z ]*)", text)
        if match:
            old, new = match.group(1).split(), match.group(2).split()[:2]
            entity = self.mention(old, 0) if old else None
            if entity and self.present(entity[0]):
                target = pascal("_".join([*new[:-1], singular_word(new[-1])]))
                self.rename["entities"].append({"from": entity[0], "to": target})
                self.notes.append(f"renamed {entity[0]} to {target}")
                return True
            for name, entity_def in self.current["entities"].items():
                for fname in entity_def.get("fields", {}):
                    if snake_case(fname).replace("_", " ") == " ".join(old):
                        to = lower_first(pascal("_".join(new)))
                        self.rename["fields"].append({"entity": name, "from": fname, "to": to})
                        self.notes.append(f"renamed {name}.{fname} to {to}")
                        return True
        match = re.search(r"\b(?:remove|delete|drop|get rid of)(?: the)? ([a-z ]+?)(?: from (?:the )?([a-z ]+))?$",
                          text)
        if match:
            what, owner = match.group(1).split(), (match.group(2) or "").split()
            holder = self.mention(owner, 0) if owner else None
            if holder:
                key = lower_first(pascal("_".join(what)))
                fields = self.current["entities"].get(holder[0], {}).get("fields", {})
                if key in fields:
                    self.remove["fields"].append({"entity": holder[0], "field": key})
                    self.notes.append(f"removed {holder[0]}.{key}")
                    return True
            entity = self.mention([w for w in what if w not in _FILLERS], 0)
            if entity and entity[0] in self.current["entities"]:
                self.remove["entities"].append(entity[0])
                self.notes.append(f"removed {entity[0]}")
                return True
        match = re.search(r"\badd (?:a |an )?([a-z ]+?) to (?:the |each |every |all )?([a-z ]+)$", text)
        if match:
            owner = self.mention(match.group(2).split(), 0)
            attribute = ATTRIBUTES.get(match.group(1))
            if owner and attribute:
                self.add_field(owner[0], attribute)
                return True
        return False

    # --- defaults ----------------------------------------------------------------

    def defaults(self) -> None:
        for (left, right), bridge in BRIDGES.items():
            if self.present(left) and self.present(right) and not self.present(bridge) and (
                    left in self.entities or right in self.entities):
                self.add_entity(bridge)
        for name in list(self.entities):
            for companion in COMPANIONS.get(name, ()):
                group = next((g for g in PARENTS.get(name, ()) if any(o.split(":")[0] == companion for o in g)),
                             (companion,))
                if not any(self.present(o.split(":")[0]) for o in group):
                    self.add_entity(companion)
        everyone = [*self.current["entities"], *self.entities]
        for child in everyone:
            if not self.present(child):
                continue
            for group in PARENTS.get(child, ()):
                options = [o.split(":") for o in group]
                if any(self.related(child, o[0]) for o in options):
                    continue
                choice = next((o for o in options if self.present(o[0]) and o[0] != child), None)
                if choice and (child in self.entities or choice[0] in self.entities):
                    self.relate(child, choice[0], "many-to-one", choice[1] if len(choice) > 1 else None)
        for left, right in sorted(MANY_TO_MANY):
            if self.present(left) and self.present(right) and (left in self.entities or right in self.entities):
                self.relate(left, right, "many-to-many")

    def result(self) -> Extraction:
        self.defaults()
        update: dict[str, Any] = {}
        entities = {name: {"fields": fields} for name, fields in self.entities.items()}
        for name, fields in self.fields.items():
            if self.present(name):
                entities[name] = {"fields": fields}
        if entities:
            update["entities"] = entities
        if self.relationships:
            update["relationships"] = self.relationships
        if any(self.remove.values()):
            update["remove"] = {k: v for k, v in self.remove.items() if v}
        if any(self.rename.values()):
            update["rename"] = {k: v for k, v in self.rename.items() if v}
        known = {relationship_key(r) for r in self.current["relationships"]}
        return Extraction(
            update=update,
            new_entities=list(self.entities),
            new_relationships=[r for r in self.relationships if relationship_key(r) not in known],
            new_fields=[f"{e}.{f}" for e, fs in self.fields.items() for f in fs],
            notes=self.notes,
        )


def extract_update(text: str, current: dict[str, Any] | None = None) -> Extraction:
    """Read ``text`` for domain nouns and relations; ``current`` is the current model
    (``{"entities", "relationships"}``) that the update will be merged into."""
    extractor = _Extractor(current)
    cleaned = re.sub(r"\bin order to\b", "so as to", text.lower())
    for sentence in _SENTENCES.split(cleaned):
        words = _TOKENS.findall(sentence.replace("many-to-many", " many-to-many "))
        if words:
            extractor.sentence(words)
    return extractor.result()
