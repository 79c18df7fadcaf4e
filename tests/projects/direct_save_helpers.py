"""Shared checks for the direct-save tests: what changed between two versions of a file."""
from __future__ import annotations

from apps.projects.direct_save.apply import Patch, apply_patches


def changed_span(old: str, new: str) -> tuple[bytes, bytes]:
    """The bytes that differ once the common prefix and suffix are taken off: (removed, added)."""
    a, b = old.encode(), new.encode()
    prefix = 0
    while prefix < min(len(a), len(b)) and a[prefix] == b[prefix]:
        prefix += 1
    suffix = 0
    while suffix < min(len(a), len(b)) - prefix and a[len(a) - 1 - suffix] == b[len(b) - 1 - suffix]:
        suffix += 1
    return a[prefix:len(a) - suffix], b[prefix:len(b) - suffix]


def patched(source: str, kind: str, selector: str, prop: str, value: str) -> str:
    return apply_patches(source, kind=kind, patches=[Patch(selector, prop, value)])  # type: ignore[arg-type]


def assert_only(old: str, new: str, before: str, after: str) -> None:
    """``new`` is ``old`` with the one occurrence of ``before`` replaced by ``after``, and the
    bytes that differ lie inside that span."""
    assert old.count(before) == 1, f"{before!r} is not unique in the source"
    assert new == old.replace(before, after, 1), new
    removed, added = changed_span(old, new)
    assert removed in before.encode() and added in after.encode()
