#!/usr/bin/env python3
"""Copy the browser builds of the UI's npm libraries into static/vendor/ (generated, git-ignored).

The versions are the ones package-lock.json pins (installed by `npm ci`); nothing is fetched
from a CDN. Source maps are left out. Run by `make static-vendor`, which `make run` and
`make test` depend on.
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODULES = ROOT / "node_modules"
VENDOR = ROOT / "static" / "vendor"

# (package, path inside the package, destination under static/vendor/)
FILES = [
    ("marked", "lib/marked.esm.js", "marked/marked.esm.js"),
    ("marked", "LICENSE", "marked/LICENSE"),
    ("dompurify", "dist/purify.es.mjs", "dompurify/purify.es.mjs"),
    ("dompurify", "LICENSE", "dompurify/LICENSE"),
    ("mermaid", "dist/mermaid.esm.min.mjs", "mermaid/mermaid.esm.min.mjs"),
]
# Mermaid's ESM build loads its diagram types lazily from this folder, relative to itself.
TREES = [("mermaid", "dist/chunks/mermaid.esm.min", "mermaid/chunks/mermaid.esm.min")]


def main() -> int:
    missing = [pkg for pkg, _, _ in FILES if not (MODULES / pkg / "package.json").exists()]
    if missing:
        print(f"vendor_static: missing npm packages {sorted(set(missing))}; run `npm ci` first", file=sys.stderr)
        return 1
    if VENDOR.exists():
        shutil.rmtree(VENDOR)
    for package, source, target in FILES:
        src = MODULES / package / source
        if not src.exists():
            if source.startswith("LICENSE"):
                continue
            print(f"vendor_static: {src} not found", file=sys.stderr)
            return 1
        dest = VENDOR / target
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
    for package, source, target in TREES:
        shutil.copytree(MODULES / package / source, VENDOR / target, ignore=shutil.ignore_patterns("*.map"))
    print(f"vendor_static: {sum(1 for p in VENDOR.rglob('*') if p.is_file())} files in {VENDOR.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
