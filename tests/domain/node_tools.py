"""Finding the tools the export tests run (node, tsc, mermaid, test-only Python packages);
missing ones fail under CI and skip elsewhere."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NODE_BIN = ROOT / "node_modules" / ".bin"


def _missing(what: str) -> None:
    message = f"{what} is missing: run `npm ci` (make test does)"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message)
    pytest.skip(message)


def node() -> str:
    found = shutil.which("node")
    if found is None:
        _missing("node")
    return str(found)


def node_bin(name: str) -> str:
    path = NODE_BIN / name
    if not path.exists():
        _missing(f"node_modules/.bin/{name}")
    return str(path)


def node_package(name: str) -> Path:
    path = ROOT / "node_modules" / name
    if not (path / "package.json").exists():
        _missing(f"node_modules/{name}")
    return path


def python_module(name: str) -> object:
    """A test-only Python package (e.g. openapi-spec-validator); missing fails under CI."""
    import importlib

    try:
        return importlib.import_module(name)
    except ImportError:
        _missing(f"the Python package {name}")
        raise
