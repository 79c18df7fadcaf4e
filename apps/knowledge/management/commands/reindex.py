"""``manage.py reindex``: re-embed documents after the embedding model changed."""
from __future__ import annotations

from collections import Counter
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q

from apps.core.selectors import parse_uuid
from apps.knowledge.embeddings import current_model_id
from apps.knowledge.ingestion import document_process
from apps.knowledge.management.progress import ProgressBar
from apps.knowledge.models import Document


class Command(BaseCommand):
    help = ("Re-embed documents not embedded with the configured model (and any left pending, "
            "processing or failed); --all re-embeds everything.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--project", default=None, help="only this project's documents")
        parser.add_argument("--all", action="store_true", help="re-embed every document")

    def handle(self, *args: Any, **options: Any) -> None:
        model_id = current_model_id()
        documents = Document.objects.order_by("project_id", "path")
        if options["project"]:
            project_id = parse_uuid(options["project"])
            if project_id is None:
                raise CommandError(f"{options['project']} is not a project id.")
            documents = documents.filter(project_id=project_id)
        if not options["all"]:
            documents = documents.filter(~Q(embedding_model=model_id) | ~Q(status=Document.Status.READY))
        ids = list(documents.values_list("pk", "path"))
        if not ids:
            self.stdout.write(f"Nothing to reindex: every document is embedded with {model_id}.")
            return
        counts: Counter[str] = Counter()
        bar = ProgressBar(len(ids), label="reindex ", stream=self.stderr)
        for document_id, path in ids:
            document = document_process(document_id=document_id, force=True)
            counts[document.status if document else "deleted"] += 1
            bar.advance(path)
        bar.close()
        summary = ", ".join(f"{count} {status}" for status, count in sorted(counts.items()))
        self.stdout.write(f"Reindexed {len(ids)} documents with {model_id}: {summary}.")
