"""A small CSS-like selector language over the elements of one HTML or JSX file.

Supported: a tag (``h1``, ``Button``, ``*``), ``#id``, ``.class``, ``[attr]``, ``[attr=value]``
(value bare, ``"double"`` or ``'single'`` quoted), ``:nth-of-type(n)``, compounds of these
(``h1.title#main``), the descendant combinator (a space) and the child combinator (``>``).
A backslash escapes the next character in a name (``.md\\:flex``, ``Motion\\.div``).

Pure: no Django, no parser; the HTML and JSX modules build ``Element`` trees to match against.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
MAX_SELECTOR_CHARS = 500


class SelectorError(ValueError):
    """The selector text is not in the supported language."""


@dataclass(frozen=True)
class AttrTest:
    name: str
    value: str | None  # None: the attribute only has to be present


@dataclass(frozen=True)
class Compound:
    tag: str | None = None
    id: str | None = None
    classes: tuple[str, ...] = ()
    attrs: tuple[AttrTest, ...] = ()
    nth_of_type: int | None = None
    child_of_previous: bool = False  # ``a > b``: b's parent must match a


@dataclass(eq=False)
class Element:
    """One element of a parsed file, as the selector sees it.

    ``attributes`` hold the static value of each attribute (entities decoded); an attribute
    whose value is an expression (``className={x}``) is present with value None, so it can
    never match a value test. ``node`` is whatever the patcher needs to edit the element.
    """

    tag: str
    attributes: dict[str, str | None]
    parent: Element | None
    node: Any = None
    nth_of_type: int = 1
    case_sensitive_tag: bool = True
    children: list[Element] = field(default_factory=list)

    def attribute(self, name: str) -> str | None:
        return self.attributes.get(name)

    def has_attribute(self, name: str) -> bool:
        return name in self.attributes

    @property
    def classes(self) -> list[str]:
        value = self.attributes.get("class", self.attributes.get("className"))
        return value.split() if value else []


def parse_selector(text: object) -> tuple[Compound, ...]:
    """The compounds of a selector, leftmost first.

    Raises:
        SelectorError: empty, too long, or outside the supported language.
    """
    if not isinstance(text, str) or not text.strip():
        raise SelectorError("the selector must be a non-empty string")
    if len(text) > MAX_SELECTOR_CHARS:
        raise SelectorError(f"the selector is longer than {MAX_SELECTOR_CHARS} characters")
    return _Parser(text.strip()).parse()


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def error(self, message: str) -> SelectorError:
        return SelectorError(f"{message} at position {self.pos} of {self.text!r}")

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def parse(self) -> tuple[Compound, ...]:
        compounds: list[Compound] = []
        child = False
        while True:
            compounds.append(self.compound(child))
            spaces = self.skip_spaces()
            if self.pos >= len(self.text):
                return tuple(compounds)
            if self.peek() == ">":
                self.pos += 1
                self.skip_spaces()
                child = True
            elif spaces:
                child = False
            else:
                raise self.error(f"unexpected {self.peek()!r}")
            if self.pos >= len(self.text):
                raise self.error("a combinator needs a selector after it")

    def skip_spaces(self) -> bool:
        start = self.pos
        while self.peek() in (" ", "\t", "\n") and self.peek():
            self.pos += 1
        return self.pos > start

    def name(self, what: str) -> str:
        out: list[str] = []
        while self.pos < len(self.text):
            ch = self.text[self.pos]
            if ch == "\\" and self.pos + 1 < len(self.text):
                out.append(self.text[self.pos + 1])
                self.pos += 2
            elif ch in _NAME_CHARS or ord(ch) > 127:
                out.append(ch)
                self.pos += 1
            else:
                break
        if not out:
            raise self.error(f"expected a {what} name")
        return "".join(out)

    def compound(self, child_of_previous: bool) -> Compound:
        tag: str | None = None
        id_: str | None = None
        classes: list[str] = []
        attrs: list[AttrTest] = []
        nth: int | None = None
        star = self.peek() == "*"
        if star:
            self.pos += 1
        elif self.peek() and (self.peek() in _NAME_CHARS or ord(self.peek()) > 127):
            tag = self.name("tag")
        start = self.pos
        while self.pos < len(self.text):
            ch = self.peek()
            if ch == "#":
                self.pos += 1
                if id_ is not None:
                    raise self.error("two ids in one compound")
                id_ = self.name("id")
            elif ch == ".":
                self.pos += 1
                classes.append(self.name("class"))
            elif ch == "[":
                self.pos += 1
                attrs.append(self.attribute())
            elif ch == ":":
                if nth is not None:
                    raise self.error("two :nth-of-type() in one compound")
                nth = self.nth_of_type()
            else:
                break
        if tag is None and self.pos == start and not star:
            raise self.error("expected a tag, '#id', '.class', '[attr]' or ':nth-of-type(n)'")
        return Compound(tag, id_, tuple(classes), tuple(attrs), nth, child_of_previous)

    def attribute(self) -> AttrTest:
        self.skip_spaces()
        name = self.name("attribute")
        self.skip_spaces()
        value: str | None = None
        if self.peek() == "=":
            self.pos += 1
            self.skip_spaces()
            quote = self.peek()
            if quote in ("'", '"'):
                end = self.text.find(quote, self.pos + 1)
                if end < 0:
                    raise self.error("unterminated quoted value")
                value = self.text[self.pos + 1:end]
                self.pos = end + 1
            else:
                value = self.name("value")
            self.skip_spaces()
        if self.peek() != "]":
            raise self.error("expected ']' (only [attr] and [attr=value] are supported)")
        self.pos += 1
        return AttrTest(name, value)

    def nth_of_type(self) -> int:
        prefix = ":nth-of-type("
        if not self.text.startswith(prefix, self.pos):
            raise self.error("the only pseudo-class supported is :nth-of-type(n)")
        self.pos += len(prefix)
        end = self.text.find(")", self.pos)
        digits = self.text[self.pos:end].strip() if end >= 0 else ""
        if not digits.isdigit() or int(digits) < 1:
            raise self.error(":nth-of-type() takes a whole number from 1")
        self.pos = end + 1
        return int(digits)


def compound_matches(compound: Compound, element: Element) -> bool:
    if compound.tag is not None:
        same = compound.tag == element.tag if element.case_sensitive_tag \
            else compound.tag.lower() == element.tag.lower()
        if not same:
            return False
    if compound.id is not None and element.attribute("id") != compound.id:
        return False
    if compound.classes:
        present = element.classes
        if any(cls not in present for cls in compound.classes):
            return False
    for test in compound.attrs:
        # HTML attribute names are case-insensitive (stored lower-case); JSX props are not.
        name = test.name if element.case_sensitive_tag else test.name.lower()
        names = ("class", "className") if name in ("class", "classname") else (name,)
        if not any(element.has_attribute(n) for n in names):
            return False
        if test.value is not None and all(element.attribute(n) != test.value for n in names):
            return False
    return compound.nth_of_type is None or compound.nth_of_type == element.nth_of_type


def matches(selector: tuple[Compound, ...], element: Element) -> bool:
    """Whether ``element`` is selected: its last compound matches it, the rest its ancestors."""
    return _matches_from(selector, len(selector) - 1, element)


def _matches_from(selector: tuple[Compound, ...], index: int, element: Element) -> bool:
    compound = selector[index]
    if not compound_matches(compound, element):
        return False
    if index == 0:
        return True
    ancestor = element.parent
    if compound.child_of_previous:
        return ancestor is not None and _matches_from(selector, index - 1, ancestor)
    while ancestor is not None:
        if _matches_from(selector, index - 1, ancestor):
            return True
        ancestor = ancestor.parent
    return False


def select(selector: tuple[Compound, ...], elements: list[Element]) -> list[Element]:
    """The elements (in document order) the selector picks."""
    return [element for element in elements if matches(selector, element)]


def number_of_type(elements: list[Element]) -> None:
    """Set ``nth_of_type`` of siblings (elements sharing a parent) in document order."""
    counters: dict[tuple[int, str], int] = {}
    for element in elements:
        key = (id(element.parent), element.tag.lower() if not element.case_sensitive_tag else element.tag)
        counters[key] = counters.get(key, 0) + 1
        element.nth_of_type = counters[key]
