"""HTML files: elements from the tree-sitter HTML grammar, and edits of their byte spans."""
from __future__ import annotations

import html
import re
from functools import cache
from typing import Any

import tree_sitter
import tree_sitter_html

from apps.projects.direct_save.common import (
    Edit,
    PatchRefused,
    check_style_value,
    css_property,
    edit_declarations,
    keep_outer_whitespace,
    raise_if_broken,
    text_of,
)
from apps.projects.direct_save.selectors import Element, number_of_type

_ELEMENT_TYPES = frozenset({"element", "script_element", "style_element"})
_TEXT_TYPES = frozenset({"text", "entity"})
_ATTRIBUTE_NAME = re.compile(r"^[A-Za-z_:@][-A-Za-z0-9_:.@]*$")


@cache
def _language() -> tree_sitter.Language:
    return tree_sitter.Language(tree_sitter_html.language())


def _parser() -> tree_sitter.Parser:
    # A parser per call: parsers are cheap and not safe to share between request threads.
    return tree_sitter.Parser(_language())


def parse(source: bytes) -> list[Element]:
    """The file's elements in document order.

    Raises:
        NotParsable: the file has syntax errors.
    """
    tree = _parser().parse(source)
    raise_if_broken(tree.root_node, "HTML file")
    elements: list[Element] = []
    _collect(tree.root_node, None, source, elements)
    number_of_type(elements)
    return elements


def _start_tag(node: Any) -> Any:
    return next((c for c in node.children if c.type in ("start_tag", "self_closing_tag")), None)


def _collect(node: Any, parent: Element | None, source: bytes, out: list[Element]) -> None:
    for child in node.named_children:
        if child.type not in _ELEMENT_TYPES:
            _collect(child, parent, source, out)
            continue
        tag = _start_tag(child)
        name = next((c for c in tag.named_children if c.type == "tag_name"), None) if tag is not None else None
        if name is None:  # not a complete element: nothing a selector could name
            _collect(child, parent, source, out)
            continue
        element = Element(
            tag=text_of(source, name), attributes=_attributes(tag, source), parent=parent, node=child,
            case_sensitive_tag=False,
        )
        out.append(element)
        if parent is not None:
            parent.children.append(element)
        _collect(child, element, source, out)


def _attributes(tag: Any, source: bytes) -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for attribute in (c for c in tag.named_children if c.type == "attribute"):
        name, value = _attribute_parts(attribute)
        found.setdefault(text_of(source, name).lower(), html.unescape(_value_text(value, source)))
    return found


def _attribute_parts(attribute: Any) -> tuple[Any, Any | None]:
    name = next(c for c in attribute.named_children if c.type == "attribute_name")
    value = next((c for c in attribute.named_children if c.type != "attribute_name"), None)
    return name, value


def _value_text(value: Any | None, source: bytes) -> str:
    if value is None:
        return ""
    if value.type == "quoted_attribute_value":
        return text_of(source, value)[1:-1]
    return text_of(source, value)


def escape_attribute(value: str, quote: str = '"') -> str:
    escaped = value.replace("&", "&amp;")
    return escaped.replace('"', "&quot;") if quote == '"' else escaped.replace("'", "&#39;")


def edit(element: Element, prop: str, value: str, source: bytes) -> Edit:
    """The one span to rewrite for ``prop = value`` on ``element``.

    Raises:
        PatchRefused: the element cannot take it (not plain text, bad name, …).
    """
    if prop == "text":
        return _edit_text(element, value, source)
    if prop.startswith("style."):
        return _edit_style(element, css_property(prop[len("style."):]), check_style_value(value), source)
    name = "class" if prop in ("className", "class") else prop
    if not _ATTRIBUTE_NAME.match(name):
        raise PatchRefused(f"{prop!r} is not an HTML attribute name", code="invalid_property")
    return _set_attribute(element, name, value, source)


def _edit_text(element: Element, value: str, source: bytes) -> Edit:
    node = element.node
    if node.type != "element":
        raise PatchRefused(f"the content of <{element.tag}> is code, not text", code="not_plain_text")
    start_tag = _start_tag(node)
    end_tag = next((c for c in node.children if c.type == "end_tag"), None)
    if start_tag.type == "self_closing_tag" or end_tag is None:
        raise PatchRefused(f"<{element.tag}> has no closing tag, so it has no text to set", code="not_plain_text")
    for child in node.named_children:
        if child.type in _ELEMENT_TYPES:
            raise PatchRefused(f"<{element.tag}> has element children; only plain text can be set",
                               code="not_plain_text")
        if child not in (start_tag, end_tag) and child.type not in _TEXT_TYPES:
            raise PatchRefused(f"<{element.tag}> contains a {child.type}; only plain text can be set",
                               code="not_plain_text")
    old = source[start_tag.end_byte:end_tag.start_byte].decode("utf-8")
    new = keep_outer_whitespace(old, html.escape(value.strip(), quote=False))
    return Edit(start_tag.end_byte, end_tag.start_byte, new.encode("utf-8"))


def _find_attribute(element: Element, name: str, source: bytes) -> Any | None:
    tag = _start_tag(element.node)
    for attribute in (c for c in tag.named_children if c.type == "attribute"):
        attr_name, _ = _attribute_parts(attribute)
        if text_of(source, attr_name).lower() == name.lower():
            return attribute
    return None


def _set_attribute(element: Element, name: str, value: str, source: bytes) -> Edit:
    attribute = _find_attribute(element, name, source)
    if attribute is None:
        tag = _start_tag(element.node)
        last = [c for c in tag.named_children if c.type in ("attribute", "tag_name")][-1]
        text = f' {name}="{escape_attribute(value)}"'
        return Edit(last.end_byte, last.end_byte, text.encode("utf-8"))
    attr_name, current = _attribute_parts(attribute)
    if current is not None and current.type == "quoted_attribute_value":
        quote = text_of(source, current)[0]
        return Edit(current.start_byte + 1, current.end_byte - 1, escape_attribute(value, quote).encode("utf-8"))
    # Unquoted or boolean: write it quoted, keeping the name as it was spelled.
    text = f'{text_of(source, attr_name)}="{escape_attribute(value)}"'
    return Edit(attribute.start_byte, attribute.end_byte, text.encode("utf-8"))


def _edit_style(element: Element, prop: str, value: str, source: bytes) -> Edit:
    current = element.attribute("style") if element.has_attribute("style") else ""
    return _set_attribute(element, "style", edit_declarations(current or "", prop, value), source)
