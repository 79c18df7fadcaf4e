from __future__ import annotations

import pytest

from apps.core.errors import ValidationFailed
from apps.knowledge.paths import language_of, normalize_document_path


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("docs/intro.md", "docs/intro.md"),
        ("./docs//intro.md", "docs/intro.md"),
        ("docs\\adr\\0001.md", "docs/adr/0001.md"),
        ("  README.md  ", "README.md"),
        ("a/./b.txt", "a/b.txt"),
    ],
)
def test_paths_are_normalised(raw: str, expected: str) -> None:
    assert normalize_document_path(raw) == expected


@pytest.mark.parametrize(
    "raw", ["/etc/passwd", "../secret.md", "docs/../../x.md", "C:\\Windows\\x.md", "~/notes.md", "", "  ", ".",
            "a\x00b.md", "docs/\nx.md", "x" * 501],
)
def test_paths_escaping_the_project_are_refused(raw: str) -> None:
    with pytest.raises(ValidationFailed) as error:
        normalize_document_path(raw)
    assert error.value.extra["field"] == "path"


def test_language_of() -> None:
    assert language_of("docs/A.MD") == "markdown"
    assert language_of("app/main.py") == "code"
    assert language_of("web/app.tsx") == "code"
    assert language_of("notes.txt") == "text"
    assert language_of("Makefile") == "text"
