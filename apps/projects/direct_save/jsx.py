"""JSX and TSX files: elements from the tree-sitter TSX grammar, and edits of their byte spans.

Fragments (``<>…</>``) are transparent: their children belong to the element around them.
An element inside an expression (``{cond && <p/>}``, ``{items.map(i => <li/>)}``) is a
child of the nearest element around the expression. Attribute values written as expressions
are never guessed at: matching treats them as unknown and patching them is refused.
"""
from __future__ import annotations

import html
import json
import re
from functools import cache
from typing import Any

import tree_sitter
import tree_sitter_typescript

from apps.projects.direct_save.common import (
    Edit,
    NotParsable,
    PatchRefused,
    check_style_value,
    js_style_key,
    keep_outer_whitespace,
    raise_if_broken,
    text_of,
)
from apps.projects.direct_save.selectors import Element, number_of_type

_ELEMENT_TYPES = frozenset({"jsx_element", "jsx_self_closing_element"})
_TEXT_TYPES = frozenset({"jsx_text", "html_character_reference"})
_ATTRIBUTE_NAME = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$-]*(:[A-Za-z_][A-Za-z0-9_-]*)?$")
_JS_IDENTIFIER = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")
_TEXT_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "{": "&#123;", "}": "&#125;"}


@cache
def _language() -> tree_sitter.Language:
    return tree_sitter.Language(tree_sitter_typescript.language_tsx())


def _parser() -> tree_sitter.Parser:
    # A parser per call: parsers are cheap and not safe to share between request threads.
    return tree_sitter.Parser(_language())


def parse(source: bytes) -> list[Element]:
    """The file's JSX elements in document order (fragments left out).

    Raises:
        NotParsable: syntax errors, or a closing tag that does not match its opening tag.
    """
    tree = _parser().parse(source)
    raise_if_broken(tree.root_node, "JSX/TSX file")
    elements: list[Element] = []
    _collect(tree.root_node, None, source, elements)
    number_of_type(elements)
    return elements


def _opening(node: Any) -> Any:
    return node if node.type == "jsx_self_closing_element" else node.child_by_field_name("open_tag")


def _collect(node: Any, parent: Element | None, source: bytes, out: list[Element]) -> None:
    for child in node.named_children:
        if child.type not in _ELEMENT_TYPES:
            _collect(child, parent, source, out)
            continue
        name = _opening(child).child_by_field_name("name")
        if name is None:  # a fragment
            _collect(child, parent, source, out)
            continue
        if child.type == "jsx_element":
            closing = child.child_by_field_name("close_tag")
            closing_name = closing.child_by_field_name("name") if closing is not None else None
            if closing_name is None or text_of(source, closing_name) != text_of(source, name):
                line = (closing or child).start_point[0] + 1
                raise NotParsable(f"the JSX/TSX file does not parse: <{text_of(source, name)}> is closed by "
                                  f"another tag at line {line}")
        element = Element(tag=text_of(source, name), attributes=_attributes(child, source), parent=parent,
                          node=child)
        out.append(element)
        if parent is not None:
            parent.children.append(element)
        _collect(child, element, source, out)


def _attribute_nodes(node: Any) -> list[Any]:
    return [a for a in _opening(node).children_by_field_name("attribute") if a.type == "jsx_attribute"]


def _attribute_parts(attribute: Any) -> tuple[Any, Any | None]:
    name, *rest = attribute.named_children
    return name, (rest[0] if rest else None)


def _attributes(node: Any, source: bytes) -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for attribute in _attribute_nodes(node):
        name, value = _attribute_parts(attribute)
        if value is None:
            decoded: str | None = ""
        elif value.type == "string":
            decoded = html.unescape(text_of(source, value)[1:-1])
        else:
            decoded = None  # an expression: unknown until run time
        found.setdefault(text_of(source, name), decoded)
    return found


def escape_text(value: str) -> str:
    return "".join(_TEXT_ESCAPES.get(ch, ch) for ch in value)


def escape_string(value: str, quote: str) -> str:
    """A JSX attribute string: no backslash escapes there, only HTML entities."""
    escaped = value.replace("&", "&amp;")
    return escaped.replace('"', "&quot;") if quote == '"' else escaped.replace("'", "&apos;")


def edit(element: Element, prop: str, value: str, source: bytes) -> Edit:
    """The one span to rewrite for ``prop = value`` on ``element``.

    Raises:
        PatchRefused: the element cannot take it (children that are not text, an
            expression-valued attribute, a style that is not an object literal, …).
    """
    if prop == "text":
        return _edit_text(element, value, source)
    if prop.startswith("style."):
        return _edit_style(element, js_style_key(prop[len("style."):]), check_style_value(value), source)
    name = "className" if prop in ("class", "className") else prop
    if not _ATTRIBUTE_NAME.match(name) or name == "style":
        raise PatchRefused(f"{prop!r} is not a JSX attribute that can be set to a string; "
                           "use style.<property> for styles", code="invalid_property")
    return _set_attribute(element, name, value, source)


def _edit_text(element: Element, value: str, source: bytes) -> Edit:
    node = element.node
    text = escape_text(value.strip())
    if node.type == "jsx_self_closing_element":
        # <p /> becomes <p>text</p>: the only way a self-closing element takes text.
        end = node.end_byte - 2
        start = end
        while start > node.start_byte and source[start - 1:start] in (b" ", b"\t", b"\n", b"\r"):
            start -= 1
        return Edit(start, node.end_byte, f">{text}</{element.tag}>".encode())
    opening = node.child_by_field_name("open_tag")
    closing = node.child_by_field_name("close_tag")
    for child in node.named_children:
        if child in (opening, closing) or child.type in _TEXT_TYPES:
            continue
        if child.type in _ELEMENT_TYPES:
            raise PatchRefused(f"<{element.tag}> has element children; only plain text can be set",
                               code="not_plain_text")
        raise PatchRefused(f"<{element.tag}> contains a JSX expression ({text_of(source, child)[:40]}); "
                           "only plain text can be set", code="not_plain_text")
    old = source[opening.end_byte:closing.start_byte].decode("utf-8")
    return Edit(opening.end_byte, closing.start_byte, keep_outer_whitespace(old, text).encode("utf-8"))


def _find_attribute(element: Element, name: str, source: bytes) -> Any | None:
    for attribute in _attribute_nodes(element.node):
        if text_of(source, _attribute_parts(attribute)[0]) == name:
            return attribute
    return None


def _insert_attribute(element: Element, text: str) -> Edit:
    opening = _opening(element.node)
    attributes = opening.children_by_field_name("attribute")
    anchor = attributes[-1] if attributes else opening.child_by_field_name("type_arguments") \
        or opening.child_by_field_name("name")
    return Edit(anchor.end_byte, anchor.end_byte, f" {text}".encode())


def _set_attribute(element: Element, name: str, value: str, source: bytes) -> Edit:
    attribute = _find_attribute(element, name, source)
    if attribute is None:
        return _insert_attribute(element, f'{name}="{escape_string(value, chr(34))}"')
    attr_name, current = _attribute_parts(attribute)
    if current is None:
        text = f'{text_of(source, attr_name)}="{escape_string(value, chr(34))}"'
        return Edit(attribute.start_byte, attribute.end_byte, text.encode("utf-8"))
    if current.type != "string":
        raise PatchRefused(f"{name} of <{element.tag}> is an expression ({text_of(source, current)[:40]}), "
                           "not a string; edit it in code", code="expression_attribute")
    quote = text_of(source, current)[0]
    return Edit(current.start_byte + 1, current.end_byte - 1, escape_string(value, quote).encode("utf-8"))


def _js_string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _js_key(key: str) -> str:
    return key if _JS_IDENTIFIER.match(key) else _js_string(key)


def _edit_style(element: Element, key: str, value: str, source: bytes) -> Edit:
    attribute = _find_attribute(element, "style", source)
    pair = f"{_js_key(key)}: {_js_string(value)}"
    if attribute is None:
        return _insert_attribute(element, f"style={{{{ {pair} }}}}")
    _, current = _attribute_parts(attribute)
    expression = current.named_children[0] if current is not None and current.type == "jsx_expression" \
        and current.named_children else None
    if expression is None or expression.type != "object":
        shown = text_of(source, current)[:40] if current is not None else "style"
        raise PatchRefused(f"style of <{element.tag}> is {shown}, not an object literal like "
                           "style={{color: \"red\"}}; edit it in code", code="expression_attribute")
    members = [m for m in expression.named_children if m.type != "comment"]
    for member in members:
        if member.type == "shorthand_property_identifier" and text_of(source, member) == key:
            return Edit(member.start_byte, member.end_byte, pair.encode("utf-8"))
        if member.type != "pair":
            continue
        member_key = member.child_by_field_name("key")
        spelled = text_of(source, member_key)
        if member_key.type == "string":
            spelled = spelled[1:-1]
        elif member_key.type not in ("property_identifier", "number"):
            continue  # computed keys are code
        if spelled == key:
            member_value = member.child_by_field_name("value")
            return Edit(member_value.start_byte, member_value.end_byte, _js_string(value).encode("utf-8"))
    if members:
        return Edit(members[-1].end_byte, members[-1].end_byte, f", {pair}".encode())
    inside = expression.start_byte + 1
    if source[inside:expression.end_byte - 1].strip():  # only comments: keep them
        return Edit(inside, inside, f" {pair},".encode())
    return Edit(inside, expression.end_byte - 1, f" {pair} ".encode())
