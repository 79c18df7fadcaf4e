"""From one sentence to a flat list of phrase elements: noun phrases (the person's own
nouns, singularised, multi-word kept together), attribute phrases, verbs (with their base
form and voice), "have"/"with", "belongs to", prepositions and the small words the
relationship rules need. No grammar beyond what the rules in ``apps.domain.heuristics``
use: word classes come from ``apps.domain.vocabulary``, and a word that is both a noun
and a verb ("order", "book", "place") is decided by its neighbours.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Final, Literal

from apps.domain.exports.relational import pascal
from apps.domain.inflect import is_participle, is_plural, singular_word, verb_lemma
from apps.domain.lexicon import ALIASES, ATTRIBUTES, BUSINESSES, ENTITY_ATTRIBUTES
from apps.domain.schema import NAME_RE
from apps.domain.vocabulary import (
    ADJECTIVES,
    ADVERBS,
    AMBIGUOUS,
    AUXILIARIES,
    BACK_REFERENCES,
    BELONG,
    CONJUNCTIONS,
    DETERMINERS,
    FRAMERS,
    FRAMING,
    GENERIC,
    GENERIC_SINGULAR_ONLY,
    HAVE,
    ING_NOUNS,
    MODALS,
    PREPOSITIONS,
    QUANTIFIERS,
    SUBJECT_PRONOUNS,
)

Kind = Literal["np", "attr", "verb", "have", "belong", "aux", "modal", "prep", "conj", "comma", "ref",
               "subject", "label", "m2m", "other"]

# Sentences end at . ! ? ; : and line breaks; a bullet ("- ", "* ", "• ") starts a new one.
_SENTENCES: Final = re.compile(r"[.!?;:\n]+|(?:^|\s)[-*•]\s")
_WORDS: Final = re.compile(r"many-to-many|[a-z][a-z0-9'&-]*|,")
_OBJECTISH: Final = frozenset({"det", "quant", "ref", "noun", "ambiguous", "adj"})
_PLURAL_MARKERS: Final = frozenset({"many", "multiple", "several", "lots", "numerous", "various"})
_MAX_NOUN_WORDS: Final = 3


@dataclass
class Element:
    kind: Kind
    word: str
    name: str = ""  # np: the entity name; attr: a field spec; verb: the base form
    words: tuple[str, ...] = ()  # np: the singular words; label: the known nouns it mentions
    plural: bool = False  # np: written in the plural or after many/several
    passive: bool = False  # verb: "are paid (by)"
    possessive: bool = False  # np: "owner's"
    many: bool = False  # np: after many/multiple/several


def _static(word: str) -> str:
    """A word's class before its neighbours are looked at."""
    if word == ",":
        return "comma"
    if word == "many-to-many":
        return "m2m"
    if word in BELONG:
        return "belong"  # "is part of" before "part" the generic word
    for kind, words in (("subject", SUBJECT_PRONOUNS), ("det", DETERMINERS), ("quant", QUANTIFIERS),
                        ("conj", CONJUNCTIONS), ("have", HAVE), ("aux", AUXILIARIES), ("modal", MODALS),
                        ("prep", PREPOSITIONS), ("ref", BACK_REFERENCES), ("generic", GENERIC),
                        ("adj", ADJECTIVES), ("adverb", ADVERBS)):
        if word in words:
            return kind
    bare = word[:-2] if word.endswith("'s") else word.rstrip("'")
    if bare != word:
        return _static(bare)  # "owner's", "owners'" (contractions were caught above)
    if word in GENERIC_SINGULAR_ONLY or len(word) < 3 or not word.replace("-", "").isalpha():
        return "generic" if word in GENERIC_SINGULAR_ONLY else "other"
    singular = singular_word(word)
    if word in ING_NOUNS or singular in ALIASES:
        lemma = verb_lemma(word)
        return "ambiguous" if lemma in AMBIGUOUS and not word.endswith("ing") else "noun"
    lemma = verb_lemma(word)
    if lemma is None:
        if word.endswith("ing"):
            return "generic"  # a gerund we don't know: "ticketing", "grooming"
        if word.endswith("ed") and not word.endswith("eed") and len(word) > 4:
            return "adj"  # "archived", "verified"
        return "noun"
    if lemma in AMBIGUOUS and not word.endswith(("ed", "ing")):
        return "ambiguous"
    return "participle" if is_participle(word) else "verb"


def _resolve(words: list[str], tags: list[str]) -> list[str]:
    """Decide noun-or-verb words from their neighbours, left to right."""
    out: list[str] = []
    for i, (word, tag) in enumerate(zip(words, tags, strict=True)):
        prev = out[i - 1] if i else "start"
        prev_word = words[i - 1] if i else ""
        nxt = tags[i + 1] if i + 1 < len(tags) else "end"
        next_word = words[i + 1] if i + 1 < len(words) else ""
        base = verb_lemma(word) == word
        after_to = prev_word == "to" and i >= 2 and words[i - 2] in MODALS | {"able", "like", "how"}
        if tag in ("noun", "ambiguous") and after_to and nxt in _OBJECTISH:
            tag = "verb"  # "want to save recipes"
        elif tag == "ambiguous":
            if prev_word == "to":
                tag = "verb" if base else "noun"
            elif prev in ("det", "quant", "adj", "prep", "have", "possessive"):
                tag = "noun"
            elif prev in ("modal", "subject", "ref") and prev_word not in ("that", "which", "whose"):
                tag = "verb"
            elif prev == "noun":
                plural_subject = is_plural(prev_word)
                tag = "verb" if nxt in _OBJECTISH or (plural_subject and nxt == "prep") else "noun"
            elif prev in ("start", "comma", "conj"):
                tag = "verb" if base and nxt in _OBJECTISH else "noun"
            else:
                tag = "noun"
        elif tag == "noun":
            if (prev in ("subject", "modal") and prev_word not in ("that", "which", "whose", "where", "who")
                    and nxt in _OBJECTISH and nxt != "adj") or (prev == "noun" and nxt in ("det", "ref")):
                tag = "verb"  # "we groom dogs", "owners walk their dogs"
            elif prev == "noun" and is_plural(prev_word) and nxt in _OBJECTISH and nxt != "adj":
                tag = "verb"  # a plural noun is rarely a modifier: "agents resolve tickets"
        elif tag == "adj" and word == "own" and prev not in ("det", "possessive"):
            tag = "verb"  # "landlords own buildings", not "their own"
        elif tag == "participle":
            passive = prev == "aux" or next_word == "by"
            tag = "verb" if passive or prev in ("subject", "modal", "noun", "ref") else "adj"
        if word.endswith(("'s", "s'")) and tag in ("noun", "ambiguous"):
            tag = "possessive"  # "owner's", "owners'" — not "it's", "let's"
        out.append(tag)
    return out


def _noun_phrase(words: list[str], possessive: bool, plural_hint: bool) -> Element | None:
    words = words[-_MAX_NOUN_WORDS:]
    last = words[-1]
    singular = (*words[:-1], singular_word(last))
    plural = is_plural(last) or plural_hint
    for size in (len(singular), 2, 1):
        phrase = " ".join(singular[-size:])
        if size <= len(singular) and phrase in ATTRIBUTES:
            if not (is_plural(last) and phrase in ENTITY_ATTRIBUTES and size == len(singular)):
                return Element("attr", " ".join(words), ATTRIBUTES[phrase])
    name = pascal("_".join(singular).replace("-", "_").replace("'", ""))  # "to-dos" → ToDo
    if not NAME_RE.match(name):
        return None
    return Element("np", " ".join(words), name, singular, plural, possessive=possessive, many=plural_hint)


def _is_label(words: list[str], tags: list[str], start: int, end: int) -> bool:
    """Is the noun phrase ``words[start:end]`` the thing being built ("I need a blog with…")?"""
    following = tags[end] if end < len(tags) else "end"
    if following == "generic" and not is_plural(words[end - 1]):
        return True  # "a task management system", "Fleet management"
    if following in ("verb", "have", "modal", "aux", "belong", "participle", "ambiguous"):
        return False
    det = start - 1
    while det >= 0 and tags[det] == "adj":
        det -= 1
    if det < 0 or words[det] not in ("a", "an", "our", "my", "the"):
        return False
    if det == 0 and words[det] in ("a", "an"):
        # "A library where…", "A clinic with…" — but "A customer with many orders" is an entity
        concept = ALIASES.get(singular_word(words[end - 1]))
        return following in ("end", "prep", "subject") and (concept is None or concept in BUSINESSES)
    if det == 0:
        return following in ("end", "subject") and not is_plural(words[end - 1])  # "Our school:"
    if words[det] not in ("a", "an"):
        return False
    before = words[det - 1]
    if before in FRAMING:
        return det - 1 == 0 or words[det - 2] in FRAMERS
    return before == "for" and det >= 2 and tags[det - 2] == "generic"  # "an app for a bakery"


def read_sentence(sentence: str) -> list[Element]:
    """The phrase elements of one sentence (already lower case)."""
    raw = _WORDS.findall(sentence)
    words = [w[:-2] if w.endswith("'s") else w.rstrip("'") for w in raw]
    tags = _resolve(raw, [_static(w) for w in raw])
    elements: list[Element] = []
    i, plural_hint = 0, False
    while i < len(words):
        word, tag = words[i], tags[i]
        if tag in ("noun", "possessive"):
            end = i
            while end < len(words) and tags[end] == "noun":
                end += 1
            possessive = end < len(words) and tags[end] == "possessive"
            if possessive:
                end += 1
            phrase = _noun_phrase(words[i:end], possessive, plural_hint)
            if _is_label(raw, tags, i, end):
                head = len(words[i:end]) - (0 if end < len(tags) and tags[end] == "generic" else 1)
                known = tuple(singular_word(w) for w in words[i:i + head] if singular_word(w) in ALIASES)
                elements.append(Element("label", " ".join(words[i:end]), words=known))
            elif phrase is not None:
                elements.append(phrase)
            i, plural_hint = end, False
            continue
        if tag == "quant":
            plural_hint = plural_hint or word in _PLURAL_MARKERS
        elif tag == "belong" and i + 1 < len(words) and words[i + 1] in ("to", "of", "with"):
            elements.append(Element("belong", word))
            i += 2
            continue
        elif tag in ("verb", "participle", "ambiguous"):
            next_word = words[i + 1] if i + 1 < len(words) else ""
            passive = is_participle(word) and ((i > 0 and tags[i - 1] == "aux") or next_word == "by")
            elements.append(Element("verb", word, verb_lemma(word) or word, passive=passive))
        elif tag == "have" or word == "with":
            elements.append(Element("have", word))
        elif tag in ("aux", "modal", "prep", "conj", "comma", "ref", "subject", "m2m"):
            elements.append(Element(tag, word))  # type: ignore[arg-type]
        elif tag in ("generic", "other", "belong"):
            elements.append(Element("other", word))
        i += 1
    return elements


def sentences(text: str) -> list[str]:
    """The sentences of ``text``, lower case, "many to many" spelled as one word."""
    # "café" → "cafe": entity names are ASCII identifiers
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    cleaned = re.sub(r"\bin order to\b", "so as to", folded.lower())
    cleaned = re.sub(r"\b(?:takes|take|took|taking) place\b", "happens", cleaned)
    cleaned = re.sub(r"\bmany[\s-]+to[\s-]+many\b", " many-to-many ", cleaned)
    return [s.strip() for s in _SENTENCES.split(cleaned) if s and s.strip()]
