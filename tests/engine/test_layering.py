"""The engine is transport-agnostic, and SDKs live only in apps/providers (SPEC §1)."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

APPS = Path(__file__).resolve().parents[2] / "apps"


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", sorted((APPS / "engine").glob("*.py")), ids=lambda p: p.name)
def test_engine_imports_no_transport_or_sdk(path: Path) -> None:
    forbidden = ("channels", "rest_framework", "openai", "anthropic", "apps.streaming", "apps.core.auth")
    bad = {m for m in imported_modules(path) if m.split(".")[0] in forbidden or m.startswith(forbidden)}
    assert not bad, f"{path.name} imports {sorted(bad)}"


def test_sdks_are_imported_only_in_providers() -> None:
    offenders = []
    for path in APPS.rglob("*.py"):
        if path.is_relative_to(APPS / "providers"):
            continue
        bad = {m for m in imported_modules(path) if m.split(".")[0] in ("openai", "anthropic")}
        if bad:
            offenders.append(f"{path.relative_to(APPS)}: {sorted(bad)}")
    assert not offenders
