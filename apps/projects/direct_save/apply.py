"""Apply ``{selector, property, value}`` patches to an HTML, JSX or TSX file — no model involved.

Each patch re-parses the current text, selects exactly one element and rewrites one byte span;
every byte outside the edited spans stays as it was (CRLF line ends, comments, formatting).
The result of each patch must still parse, so a patch can never leave a broken file behind.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from apps.projects.direct_save import html as html_patcher
from apps.projects.direct_save import jsx as jsx_patcher
from apps.projects.direct_save.common import Edit, NotParsable, PatchRefused, check_value
from apps.projects.direct_save.selectors import Element, SelectorError, parse_selector, select

FileKind = Literal["html", "jsx"]
_EXTENSIONS: dict[str, FileKind] = {".html": "html", ".htm": "html", ".jsx": "jsx", ".tsx": "jsx"}
MAX_PATCHES = 100


@dataclass(frozen=True)
class Patch:
    selector: str
    property: str
    value: str


class DirectSaveError(ValueError):
    """Why the patches were not applied; the file is unchanged.

    ``index`` and ``selector`` name the patch at fault (None for the file as a whole).
    """

    def __init__(self, message: str, *, code: str, index: int | None = None, selector: str | None = None) -> None:
        prefix = f"patches[{index}] ({selector!r}): " if index is not None else ""
        super().__init__(prefix + message)
        self.message = prefix + message
        self.code = code
        self.index = index
        self.selector = selector


@dataclass(frozen=True)
class _Patcher:
    parse: Callable[[bytes], list[Element]]
    edit: Callable[[Element, str, str, bytes], Edit]


_PATCHERS: dict[FileKind, _Patcher] = {
    "html": _Patcher(html_patcher.parse, html_patcher.edit),
    "jsx": _Patcher(jsx_patcher.parse, jsx_patcher.edit),
}


def file_kind(path: str) -> FileKind:
    """Raises DirectSaveError for a file direct-save cannot edit."""
    dot = path.rfind(".")
    kind = _EXTENSIONS.get(path[dot:].lower()) if dot >= 0 else None
    if kind is None:
        raise DirectSaveError(
            f"{path!r} is not an HTML, JSX or TSX file (.html, .htm, .jsx, .tsx)", code="unsupported_file_type"
        )
    return kind


def _line_of(source: bytes, element: Element) -> int:
    return int(element.node.start_point[0]) + 1


def apply_patches(source: str, *, kind: FileKind, patches: Sequence[Patch]) -> str:
    """The file's text with every patch applied, in order.

    Raises:
        DirectSaveError: the file does not parse, a selector is invalid or matches no element
            or several, the property cannot be set on the element, or an edit would break the file.
    """
    if not patches:
        raise DirectSaveError("patches must not be empty", code="invalid_patch")
    if len(patches) > MAX_PATCHES:
        raise DirectSaveError(f"at most {MAX_PATCHES} patches per request", code="invalid_patch")
    patcher = _PATCHERS[kind]
    data = source.encode("utf-8")
    try:
        elements = patcher.parse(data)
    except NotParsable as exc:
        raise DirectSaveError(str(exc), code="unparsable_file") from exc
    for index, patch in enumerate(patches):
        def fail(message: str, code: str, index: int = index, patch: Patch = patch) -> DirectSaveError:
            return DirectSaveError(message, code=code, index=index, selector=patch.selector)

        try:
            selector = parse_selector(patch.selector)
        except SelectorError as exc:
            raise fail(str(exc), "invalid_selector") from exc
        found = select(selector, elements)
        if not found:
            raise fail("the selector matches no element", "no_match")
        if len(found) > 1:
            lines = ", ".join(str(_line_of(data, e)) for e in found[:10])
            raise fail(
                f"the selector matches {len(found)} elements (lines {lines}); make it match exactly one, "
                "e.g. with #id, a parent, or :nth-of-type(n)", "ambiguous_match",
            )
        try:
            value = check_value(patch.value)
            change = patcher.edit(found[0], patch.property, value, data)
        except PatchRefused as exc:
            raise fail(exc.message, exc.code) from exc
        data = data[:change.start] + change.text + data[change.end:]
        try:
            elements = patcher.parse(data)
        except NotParsable as exc:
            raise fail(f"the edit would leave the file unparsable ({exc})", "edit_breaks_file") from exc
    return data.decode("utf-8")
