"""``manage.py ingest --project ID PATH…``: load files and folders into a project's knowledge."""
from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core.errors import ApplicationError
from apps.core.selectors import parse_uuid
from apps.knowledge.management.progress import ProgressBar
from apps.knowledge.models import Document
from apps.knowledge.paths import INGESTIBLE_SUFFIXES
from apps.knowledge.services import document_upload, max_document_bytes
from apps.projects.models import Project

SKIPPED_DIRS = frozenset({
    "node_modules", ".venv", "venv", "__pycache__", ".git", ".hg", ".svn", "dist", "build", "var",
    ".mypy_cache", ".ruff_cache", ".pytest_cache", "site-packages",
})


def collect_files(paths: list[str]) -> list[tuple[Path, str]]:
    """``(file, document path)`` for every ingestible file under ``paths``, sorted, no duplicates."""
    cwd = Path.cwd().resolve()
    found: dict[Path, str] = {}
    for raw in paths:
        root = Path(raw).expanduser().resolve()
        if not root.exists():
            raise CommandError(f"{raw}: no such file or folder")
        base = cwd if root.is_relative_to(cwd) else root.parent
        if root.is_file():
            found.setdefault(root, root.relative_to(base).as_posix())
            continue
        for folder, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED_DIRS and not d.startswith("."))
            for name in sorted(filenames):
                file = Path(folder) / name
                if name.startswith(".") or file.suffix.lower() not in INGESTIBLE_SUFFIXES:
                    continue
                found.setdefault(file, file.relative_to(base).as_posix())
    return sorted(found.items(), key=lambda item: item[1])


class Command(BaseCommand):
    help = "Ingest Markdown, text and code files (and folders) into a project's documents."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", metavar="PATH")
        parser.add_argument("--project", required=True, help="the project's id")
        parser.add_argument("--doc-type", default=None, help="doc type for every file (default: from the path)")

    def handle(self, *args: Any, **options: Any) -> None:
        project_id = parse_uuid(options["project"])
        project = Project.objects.filter(pk=project_id).first() if project_id else None
        if project is None:
            raise CommandError(f"Project {options['project']} not found.")
        files = collect_files(options["paths"])
        if not files:
            raise CommandError("No ingestible files found.")
        limit = max_document_bytes()
        counts: Counter[str] = Counter()
        chunks = 0
        bar = ProgressBar(len(files), label="ingest ", stream=self.stderr)
        for file, document_path in files:
            outcome, added = self._ingest_one(project, file, document_path, options["doc_type"], limit)
            counts[outcome] += 1
            chunks += added
            bar.advance(document_path)
        bar.close()
        summary = ", ".join(f"{counts[key]} {key}" for key in
                            ("created", "updated", "unchanged", "failed", "skipped") if counts[key])
        self.stdout.write(f"{len(files)} files: {summary}; {chunks} chunks embedded.")

    def _ingest_one(self, project: Project, file: Path, document_path: str, doc_type: str | None,
                    limit: int) -> tuple[str, int]:
        try:
            if file.stat().st_size > limit:
                self.stderr.write(f"\nskipped {document_path}: larger than {limit} bytes")
                return "skipped", 0
            content = file.read_bytes().decode("utf-8-sig")
        except (OSError, UnicodeDecodeError):
            self.stderr.write(f"\nskipped {document_path}: not readable UTF-8 text")
            return "skipped", 0
        if not content.strip() or "\x00" in content:
            return "skipped", 0
        try:
            # Inline whatever KNOWLEDGE_INGEST_MODE says: the command reports what it embedded.
            result = document_upload(project=project, path=document_path, content=content, doc_type=doc_type,
                                     mode="inline")
        except ApplicationError as exc:
            self.stderr.write(f"\nfailed {document_path}: {exc.message}")
            return "failed", 0
        document = result.document
        if document.status == Document.Status.FAILED:
            self.stderr.write(f"\nfailed {document_path}: {document.error}")
            return "failed", 0
        if not result.changed:
            return "unchanged", 0
        return ("created" if result.created else "updated"), document.chunk_count
