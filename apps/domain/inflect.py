"""English inflection for the offline extractor: plural nouns to singular, verb forms to
their base. Small and rule-based; the irregular tables cover what people write about
software domains (people, children, analyses, statuses, addresses, boxes…)."""
from __future__ import annotations

from typing import Final

from apps.domain.vocabulary import VERBS

_IRREGULAR_NOUNS: Final[dict[str, str]] = {
    "people": "person", "persons": "person", "children": "child", "men": "man", "women": "woman",
    "staff": "staff", "mice": "mouse", "geese": "goose", "feet": "foot", "teeth": "tooth", "oxen": "ox",
    "data": "data", "media": "media", "criteria": "criterion", "phenomena": "phenomenon",
    "indices": "index", "matrices": "matrix", "vertices": "vertex", "appendices": "appendix",
    "quizzes": "quiz", "leaves": "leaf", "shelves": "shelf", "wolves": "wolf", "halves": "half",
    "knives": "knife", "wives": "wife", "lives": "life", "calves": "calf", "loaves": "loaf",
    "movies": "movie", "cookies": "cookie", "series": "series", "species": "species", "news": "news",
    "sheep": "sheep", "fish": "fish", "deer": "deer", "aircraft": "aircraft", "equipment": "equipment",
    "menus": "menu", "buses": "bus", "gases": "gas", "lenses": "lens", "canvases": "canvas",
    "heroes": "hero", "potatoes": "potato", "tomatoes": "tomato", "echoes": "echo",
    "invoices": "invoice", "prices": "price", "services": "service", "devices": "device",
    "courses": "course", "houses": "house", "horses": "horse", "nurses": "nurse", "purchases": "purchase",
    "licenses": "license", "licences": "licence", "responses": "response", "expenses": "expense",
    "warehouses": "warehouse", "cases": "case", "databases": "database", "releases": "release",
    "phases": "phase", "clauses": "clause", "causes": "cause", "uses": "use", "bases": "base",
}
# Singular words that end like a plural: never strip their final "s".
_SINGULAR_S: Final = ("ss", "us", "is", "ics", "ous", "sis")
_IRREGULAR_VERBS: Final[dict[str, str]] = {
    "brought": "bring", "bought": "buy", "sold": "sell", "paid": "pay", "made": "make", "wrote": "write",
    "written": "write", "took": "take", "taken": "take", "gave": "give", "given": "give", "held": "hold",
    "kept": "keep", "sent": "send", "taught": "teach", "led": "lead", "met": "meet", "built": "build",
    "found": "find", "got": "get", "gotten": "get", "ran": "run", "left": "leave", "told": "tell",
    "saw": "see", "seen": "see", "drove": "drive", "driven": "drive", "ate": "eat", "eaten": "eat",
    "chose": "choose", "chosen": "choose", "won": "win", "lent": "lend", "spent": "spend",
    "owned": "own", "grew": "grow", "grown": "grow", "flew": "fly", "flown": "fly", "did": "do", "done": "do",
}


def singular_word(word: str) -> str:
    """``categories`` → ``category``, ``addresses`` → ``address``, ``people`` → ``person``."""
    if word in _IRREGULAR_NOUNS:
        return _IRREGULAR_NOUNS[word]
    if len(word) <= 3 or not word.endswith("s"):
        return word
    if word.endswith(("yses", "ases", "oses")) and len(word) > 6:
        return word[:-2] + "is"  # analyses → analysis, diagnoses → diagnosis
    if word.endswith("ses") and (word.endswith(("sses", "uses")) or word[:-2].endswith(_SINGULAR_S)):
        return word[:-2]  # addresses, statuses, businesses
    if word.endswith(_SINGULAR_S):
        return word  # status, analysis, business, class
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("xes", "zes", "ches", "shes")):
        return word[:-2]
    if word.endswith("oes"):
        return word[:-2]
    return word[:-1]


def is_plural(word: str) -> bool:
    return singular_word(word) != word or word in ("people", "children", "staff", "data", "media")


def verb_lemma(word: str) -> str | None:
    """The base form of ``word`` when it is a form of a verb the extractor knows."""
    if word in _IRREGULAR_VERBS:
        return _IRREGULAR_VERBS[word]
    if word in VERBS:
        return word
    candidates: list[str] = []
    if word.endswith("ies"):
        candidates.append(word[:-3] + "y")
    if word.endswith("es"):
        candidates.append(word[:-2])
    if word.endswith("s"):
        candidates.append(word[:-1])
    if word.endswith("ied"):
        candidates.append(word[:-3] + "y")
    if word.endswith("ed") and not word.endswith("eed"):  # "seed", "breed" are nouns
        candidates += [word[:-2], word[:-1], word[:-3]]
    elif word.endswith("eed") and len(word) > 5:
        candidates.append(word[:-1])  # "agreed"
    if word.endswith("ing"):
        candidates += [word[:-3], word[:-3] + "e", word[:-4]]
    return next((c for c in candidates if c in VERBS), None)


def is_participle(word: str) -> bool:
    """``placed``, ``paid``, ``written``: a verb form that can follow is/are or precede by."""
    return word in _IRREGULAR_VERBS or (word.endswith("ed") and verb_lemma(word) is not None)
