"""Rule-based extraction for the offline provider: from a person's own words to an
``update_domain_model`` call. No model, no network. The rules (documented for users in
docs/dsl.md, "How the offline provider reads a description"):

* **entities are the person's nouns** (``apps.domain.phrases``), singularised, multi-word
  nouns kept together ("menu items" → ``MenuItem``); the lexicon only lends fields to a
  noun it recognises and never renames one or adds one the person did not write;
* the thing being built ("I need *a blog* with…", "a task management *system*") is not an
  entity; a noun the lexicon knows inside it is ("a *hotel booking* system");
* **relationships come from the sentence**: ``S verb O`` → O many-to-one S ("customers
  place orders"), passive ``O are verbed by S`` likewise, "them"/"it" stand for the last
  object; ``X has many Y`` / ``X with Y`` → Y many-to-one X (a singular ``has a Y`` → X
  many-to-one Y); ``each Y belongs to an X``; ``Y for X`` → Y many-to-one X (an
  appointment or booking *for* something belongs to it); verbs of taking part ("enroll
  in", "attend", "follow", "buy") and "many-to-many" give many-to-many, as do ``X has
  many Y`` and ``Y has many X`` together;
* **implied**, and only between entities the person named: a noun's usual owner
  (comments → post, pets → owner) and natural many-to-many pairs (posts ↔ tags);
* follow-ups against the current model (``apps.domain.followups``).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Final

from apps.domain.exports.relational import lower_first, pascal
from apps.domain.followups import FollowUps
from apps.domain.inflect import singular_word
from apps.domain.lexicon import ENTITIES, MANY_TO_MANY, OCCASIONS, PARENTS, concept_of, entity_fields, parse_field
from apps.domain.phrases import Element, read_sentence, sentences
from apps.domain.schema import relationship_key, snake_case
from apps.domain.vocabulary import (
    BOOKING_VERBS,
    LOCATION_PREPOSITIONS,
    MANY_TO_MANY_BY_PREPOSITION,
    MANY_TO_MANY_VERBS,
    PREPOSITION_VERBS,
)

__all__ = ["Extraction", "extract_update", "singular_word"]

# "Customers: name, email, phone" on a line of its own (optionally a bullet)
_FIELD_LIST: Final = re.compile(r"^[ \t]*(?:[-*•][ \t]+)?[A-Za-z][A-Za-z '-]*?[ \t]*:[ \t]*[^.!?;:\n]+[.!?]*[ \t]*$",
                                re.MULTILINE)
_VERB_PREPOSITIONS: Final = frozenset({"in", "on", "to", "for", "into", "at"})
_CLAUSE_BREAKERS: Final = frozenset({"verb", "have", "belong", "modal", "aux"})
# One message proposes at most this many new entities (a pasted essay is not a domain model).
MAX_NEW_ENTITIES: Final = 60


@dataclass
class Extraction:
    update: dict[str, Any]  # the tool's arguments (merge update)
    new_entities: list[str] = field(default_factory=list)
    new_relationships: list[dict[str, Any]] = field(default_factory=list)
    new_fields: list[str] = field(default_factory=list)  # "Entity.field"
    notes: list[str] = field(default_factory=list)  # renames and removals, in words
    recognised: int = 0  # new entities whose noun the lexicon knows

    @property
    def empty(self) -> bool:
        return not (self.new_entities or self.new_relationships or self.new_fields or self.notes)


class _Extractor(FollowUps):
    def __init__(self, current: dict[str, Any] | None) -> None:
        self.current = current or {"entities": {}, "relationships": []}
        self.entities: dict[str, dict[str, Any]] = {}  # new this turn → fields
        self.fields: dict[str, dict[str, Any]] = {}  # existing entity → new fields
        self.relationships: list[dict[str, Any]] = []
        self.remove: dict[str, list[Any]] = {"entities": [], "fields": []}
        self.rename: dict[str, list[Any]] = {"entities": [], "fields": []}
        self.notes: list[str] = []
        self.last_subject: str | None = None
        self.last_object: str | None = None
        self.labelled: list[str] = []  # known nouns inside the name of the thing being built
        self.by_snake_name = {snake_case(name): name for name in self.current["entities"]}

    # --- the model being built ------------------------------------------------------

    @staticmethod
    def concept(name: str) -> str | None:
        return concept_of(tuple(snake_case(name).split("_")))

    def present(self, name: str) -> bool:
        return (name in self.entities or name in self.current["entities"]) and name not in self.remove["entities"]

    def add_entity(self, name: str) -> str | None:
        if not self.present(name):
            if len(self.entities) >= MAX_NEW_ENTITIES:
                return None
            self.entities[name] = entity_fields(self.concept(name))
            self.by_snake_name.setdefault(snake_case(name), name)
        return name

    def add_field(self, entity: str, spec: str) -> None:
        name, definition = parse_field(spec)
        concept = self.concept(entity)
        if name == "status" and concept in ENTITIES:
            for known in ENTITIES[concept][1]:
                if known.startswith("status:"):
                    name, definition = parse_field(known)
        target = self.entities.get(entity)
        if target is not None:
            target.setdefault(name, definition)
        elif name not in self.current["entities"].get(entity, {}).get("fields", {}):
            self.fields.setdefault(entity, {})[name] = definition

    def _drop_field(self, entity: str, name: str) -> None:
        for holder in (self.entities.get(entity), self.fields.get(entity)):
            if holder is not None:
                holder.pop(name, None)

    def related(self, a: str, b: str) -> dict[str, Any] | None:
        for rel in [*self.relationships, *self.current["relationships"]]:
            if {rel["from"], rel["to"]} == {a, b}:
                return rel
        return None

    def relate(self, source: str, target: str, kind: str, name: str | None = None) -> None:
        if source == target:
            return
        pair = (self.concept(source), self.concept(target))
        if pair[::-1] in MANY_TO_MANY:
            source, target, kind = target, source, "many-to-many"
        elif pair in MANY_TO_MANY:
            kind = "many-to-many"
        existing = self.related(source, target)
        if existing is not None:
            # "X has many Y" then "Y has many X", or an explicit many-to-many: upgrade what this turn stated
            upgrade = kind == "many-to-many" or (existing["from"] == target and kind == "many-to-one")
            if upgrade and existing in self.relationships and existing["type"] == "many-to-one":
                self._drop_field(existing["from"], f"{existing.get('name') or lower_first(existing['to'])}Id")
                existing["type"] = "many-to-many"
            return
        rel: dict[str, Any] = {"from": source, "to": target, "type": kind}
        if name:
            rel["name"] = name
        self.relationships.append(rel)
        if kind == "many-to-one":
            self.add_field(source, f"{name or lower_first(target)}Id:uuid!")

    # --- one sentence -----------------------------------------------------------------

    def entity(self, element: Element) -> str | None:
        """The entity an element names: a noun phrase, or the noun "them"/"it" stands for."""
        if element.kind == "np":
            known = self.known_entity(list(element.words))
            return known or self.add_entity(element.name)
        if element.kind == "ref":
            return self.last_subject if element.word == "they" else self.last_object
        return None

    def subject_before(self, elements: list[Element], i: int) -> str | None:
        j = i - 1
        while j >= 0 and elements[j].kind in ("modal", "aux"):
            j -= 1
        if j < 0:
            return None
        before = elements[j]
        if before.kind == "ref":
            return self.last_subject
        if before.kind == "conj":
            return self.last_subject  # "customers place orders and pay invoices"
        return self.entity(before) if before.kind == "np" else None

    def objects_after(self, elements: list[Element], j: int) -> list[Element]:
        found: list[Element] = []
        while j < len(elements):
            element = elements[j]
            if element.kind in ("np", "ref", "attr"):
                after = elements[j + 1] if j + 1 < len(elements) else None
                if (element.kind != "attr" and after is not None and after.kind in _CLAUSE_BREAKERS
                        and after.word != "with"):
                    break  # the subject of the next clause: "…, customers place orders"
                found.append(element)
            elif element.kind not in ("comma", "conj"):
                break
            j += 1
        return found

    def sentence(self, elements: list[Element]) -> None:
        for element in elements:
            if element.kind == "np":
                self.entity(element)
            elif element.kind == "label":
                self.labelled += [pascal(word.replace("-", "_")) for word in element.words]
        for i, element in enumerate(elements):
            if element.kind == "verb":
                self.verb(elements, i)
            elif element.kind == "have":
                self.have(elements, i)
            elif element.kind == "belong":
                self.belong(elements, i)
            elif element.kind == "prep" and element.word == "for" and 0 < i < len(elements) - 1:
                self.purpose(elements[i - 1], elements[i + 1])
            elif element.kind == "np" and element.possessive and i + 1 < len(elements):
                owner, owned = self.entity(element), self.entity(elements[i + 1])
                if owner and owned and elements[i + 1].kind == "np":
                    self.relate(owned, owner, "many-to-one")  # "the library's branches"
        if any(e.kind == "m2m" for e in elements):
            named = list(dict.fromkeys(n for e in elements if e.kind == "np" and (n := self.entity(e))))
            if len(named) >= 2:
                self.relate(named[0], named[1], "many-to-many")

    def verb(self, elements: list[Element], i: int) -> None:
        verb = elements[i]
        kind = "many-to-many" if verb.name in MANY_TO_MANY_VERBS else "many-to-one"
        subject = self.subject_before(elements, i)
        after = elements[i + 1] if i + 1 < len(elements) else None
        if verb.passive or verb.name in ("happen", "occur"):
            if subject and after is not None and after.word in ("by", *LOCATION_PREPOSITIONS):
                # "invoices are paid by customers"; "matches are played at stadiums"
                for agent in self.objects_after(elements, i + 2)[:1 if after.word != "by" else None]:
                    target = self.entity(agent)
                    if target:
                        self.relate(subject, target, kind if after.word == "by" else "many-to-one")
                self.last_subject = subject
            return
        j = i + 1
        if after is not None and after.kind == "other" and after.word == "up":
            j += 1  # "sign up for"
        if (j < len(elements) and elements[j].kind == "prep" and elements[j].word in _VERB_PREPOSITIONS
                and verb.name in PREPOSITION_VERBS | MANY_TO_MANY_VERBS):
            j += 1  # "enroll in courses", "apply for jobs"
            if verb.name in MANY_TO_MANY_BY_PREPOSITION:
                kind = "many-to-many"
        objects = [name for o in self.objects_after(elements, j) if (name := self.entity(o))]
        for obj in objects:
            # "guests book rooms" is many-to-many, "patients book appointments" is not
            occasion = verb.name in BOOKING_VERBS and self.concept(obj) in OCCASIONS
            if subject and kind == "many-to-many" and not occasion:
                self.relate(subject, obj, kind)
            elif subject:
                self.relate(obj, subject, "many-to-one")
        self.last_subject = subject or self.last_subject
        if objects:
            self.last_object = objects[-1]

    def have(self, elements: list[Element], i: int) -> None:
        if elements[i].word == "with":  # "X with Y" binds only the noun right before "with",
            # and not a verb's object: "share photos with friends"
            bound = i and elements[i - 1].kind == "np" and (i < 2 or elements[i - 2].kind != "verb")
            subject = self.entity(elements[i - 1]) if bound else None
        else:
            subject = self.subject_before(elements, i)
        last = None
        for item in self.objects_after(elements, i + 1):
            if item.kind == "attr":
                if subject:
                    self.add_field(subject, item.name)
                continue
            target = self.entity(item)
            if target is None or subject is None or target == subject:
                continue
            if elements[i].word == "with" and self.concept(subject) in OCCASIONS:
                self.relate(subject, target, "many-to-one")  # "appointments with doctors"
            elif item.plural or item.kind == "ref":
                self.relate(target, subject, "many-to-one")
            else:
                self.relate(subject, target, "many-to-one")
            last = target
        if subject:
            self.last_subject = subject
        if last:
            self.last_object = last

    def belong(self, elements: list[Element], i: int) -> None:
        subject = self.subject_before(elements, i)
        targets = self.objects_after(elements, i + 1)
        target = self.entity(targets[0]) if targets else None
        if subject and target:
            self.relate(subject, target, "many-to-many" if targets[0].many else "many-to-one")

    def purpose(self, before: Element, after: Element) -> None:
        """``invoices for orders`` → Invoice many-to-one Order; ``pets for appointments`` →
        Appointment many-to-one Pet (an occasion made for something belongs to it)."""
        if before.kind != "np" or after.kind != "np":
            return
        thing, target = self.entity(before), self.entity(after)
        if thing and target:
            if self.concept(target) in OCCASIONS:
                thing, target = target, thing
            self.relate(thing, target, "many-to-one")

    def field_list(self, match: re.Match[str]) -> str:
        """``Customers: name, email, loyalty points`` on a line of its own: the fields of one
        entity. Attribute words are typed as usual; an entity already named or a noun the
        lexicon knows is a reference (``Orders: total, customer``); any other noun is a
        string field. Returns what is left to read as sentences (nothing, when consumed)."""
        folded = unicodedata.normalize("NFKD", match.group(0)).encode("ascii", "ignore").decode().lower()
        head_text, _, items_text = folded.partition(":")
        head = read_sentence(head_text.strip(" \t-*"))
        listed = [e for e in read_sentence(items_text) if e.kind not in ("comma", "conj")]
        if not (len(head) == 1 and head[0].kind == "np" and any(e.kind == "attr" for e in listed)
                and all(e.kind in ("np", "attr") for e in listed)):
            return match.group(0)
        entity = self.entity(head[0])
        if entity is None:
            return match.group(0)
        for item in listed:
            if item.kind == "attr":
                self.add_field(entity, item.name)
            elif self.known_entity(list(item.words)) or self.concept(item.name):
                target = self.entity(item)
                if target and item.plural:
                    self.relate(target, entity, "many-to-one")
                elif target:
                    self.relate(entity, target, "many-to-one")
            else:  # written as it stands: "loyalty points" → loyaltyPoints
                self.add_field(entity, f"{lower_first(pascal(item.word.replace('-', ' ').replace(' ', '_')))}:string")
        return ""

    # --- what the lexicon implies -----------------------------------------------------------

    def defaults(self) -> None:
        # a known noun inside the name of the thing being built ("a hotel booking system") is an
        # entity, unless the person also named one of its kind ("a todo app with tasks")
        concepts = {self.concept(n) for n in [*self.current["entities"], *self.entities]}
        for name in dict.fromkeys(self.labelled):
            if self.concept(name) not in concepts:
                self.add_entity(name)
                concepts.add(self.concept(name))
        everyone = [n for n in [*self.current["entities"], *self.entities] if self.present(n)]
        by_concept: dict[str, str] = {}
        for name in everyone:
            by_concept.setdefault(self.concept(name) or "", name)
        for child in everyone:
            for group in PARENTS.get(self.concept(child) or "", ()):
                options = [(o.split(":")[0], o.split(":")[1] if ":" in o else None) for o in group]
                present = [(by_concept[c], role) for c, role in options if c in by_concept and by_concept[c] != child]
                if not present or any(self.related(child, parent) for parent, _ in present):
                    continue
                parent, role = present[0]
                if child in self.entities or parent in self.entities:
                    self.relate(child, parent, "many-to-one", role)
        for left, right in sorted(MANY_TO_MANY):
            a, b = by_concept.get(left), by_concept.get(right)
            if a and b and a != b and (a in self.entities or b in self.entities):
                self.relate(a, b, "many-to-many")

    def result(self) -> Extraction:
        self.defaults()
        update: dict[str, Any] = {}
        entities = {name: {"fields": fields} for name, fields in self.entities.items()}
        for name, fields in self.fields.items():
            if self.present(name) and fields:
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
            recognised=sum(1 for name in self.entities if self.concept(name)),
        )


def extract_update(text: str, current: dict[str, Any] | None = None) -> Extraction:
    """Read ``text`` for the person's nouns and the relations their sentences state.

    Args:
        text: what the person wrote.
        current: the current model (``{"entities", "relationships"}``) the update will be
            merged into; follow-ups refer to it.

    Returns:
        The tool arguments and what they add, for the provider to narrate.
    """
    extractor = _Extractor(current)
    text = _FIELD_LIST.sub(extractor.field_list, text)
    for sentence in sentences(text):
        if not extractor.follow_up(sentence):
            extractor.sentence(read_sentence(sentence))
    return extractor.result()
