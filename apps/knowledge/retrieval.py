"""Per-project vector search over document chunks (pgvector HNSW, cosine).

HNSW applies a ``WHERE`` filter *after* it walks the graph: with the default settings a
search in a small project whose neighbourhood is crowded by another project's chunks can
return fewer than k rows. Every search therefore runs in its own transaction with
``hnsw.iterative_scan`` (pgvector ≥ 0.8) so the index keeps scanning until enough rows pass
the project filter; ``relaxed_order`` results are re-sorted by a materialised CTE. Should the
scan still stop short (``hnsw.max_scan_tuples``), an exact search over the project's chunks
(via the project index) fills the answer.

Settings (read with defaults): ``KNOWLEDGE_HNSW_EF_SEARCH`` (100),
``KNOWLEDGE_HNSW_ITERATIVE_SCAN`` (``relaxed_order``), ``KNOWLEDGE_HNSW_MAX_SCAN_TUPLES``
(20000), ``KNOWLEDGE_DOC_TYPE_BOOST`` (0.05).
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, transaction

from apps.core.errors import ApplicationError
from apps.knowledge.models import Chunk, Document
from apps.projects.models import Project

logger = logging.getLogger(__name__)

MAX_K = 50
DEFAULT_EF_SEARCH = 100
SNIPPET_CHARS = 240
_ITERATIVE_MODES = ("off", "relaxed_order", "strict_order")


class RetrievalError(ApplicationError):
    status = 503
    code = "RAG_RETRIEVAL_ERROR"
    retry = False


@dataclass(frozen=True)
class RetrievedChunk:
    document_id: str
    path: str
    doc_type: str
    score: float
    text: str
    snippet: str
    heading_path: str


@dataclass(frozen=True)
class VectorHit:
    chunk_id: int
    distance: float


def snippet_of(text: str, limit: int = SNIPPET_CHARS) -> str:
    flat = re.sub(r"\s+", " ", text).strip()
    if len(flat) <= limit:
        return flat
    cut = flat[:limit].rsplit(" ", 1)[0] or flat[:limit]
    return cut + "…"


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def _configure_scan(cursor: Any, *, ef_search: int | None, iterative_scan: str | None) -> None:
    """Transaction-local HNSW settings (``set_config(..., true)`` is ``SET LOCAL``)."""
    mode = iterative_scan or str(_setting("KNOWLEDGE_HNSW_ITERATIVE_SCAN", "relaxed_order"))
    if mode not in _ITERATIVE_MODES:
        mode = "relaxed_order"
    ef = int(ef_search or _setting("KNOWLEDGE_HNSW_EF_SEARCH", DEFAULT_EF_SEARCH))
    cursor.execute(
        "SELECT set_config('hnsw.ef_search', %s, true), set_config('hnsw.iterative_scan', %s, true), "
        "set_config('hnsw.max_scan_tuples', %s, true)",
        [str(max(1, min(ef, 1000))), mode, str(int(_setting("KNOWLEDGE_HNSW_MAX_SCAN_TUPLES", 20000)))],
    )


def _filters(project_id: Any, model_id: str | None, doc_types: list[str] | None) -> tuple[str, list[Any]]:
    sql = "c.project_id = %s"
    params: list[Any] = [project_id]
    if model_id is not None or doc_types:
        # A hashed sub-plan over the project's documents: the HNSW scan stays on one table.
        sub = "SELECT d.id FROM knowledge_document d WHERE d.project_id = %s"
        params.append(project_id)
        if model_id is not None:
            sub += " AND d.embedding_model = %s"
            params.append(model_id)
        if doc_types:
            sub += " AND d.doc_type = ANY(%s)"
            params.append(list(doc_types))
        sql += f" AND c.document_id IN ({sub})"
    return sql, params


def search_vectors(
    *,
    project_id: Any,
    vector: list[float] | str,
    limit: int,
    model_id: str | None = None,
    doc_types: list[str] | None = None,
    ef_search: int | None = None,
    iterative_scan: str | None = None,
    exact: bool = False,
    fallback: bool = True,
) -> list[VectorHit]:
    """The ``limit`` nearest chunks of one project, by cosine distance, nearest first.

    Args:
        model_id: only chunks of documents embedded with this model.
        doc_types: only chunks of documents of these types.
        exact: skip the HNSW index (an exact scan of the project's chunks).
        fallback: when the index scan returns fewer than ``limit`` rows although the
            project has more, answer with the exact scan.
    """
    literal = vector if isinstance(vector, str) else "[" + ",".join(f"{x:.7g}" for x in vector) + "]"
    where, params = _filters(project_id, model_id, doc_types)
    # "+ 0" hides the ORDER BY from the HNSW index, forcing the exact plan.
    order = "(c.embedding <=> %s::vector) + 0" if exact else "c.embedding <=> %s::vector"
    sql = (
        "WITH nearest AS MATERIALIZED ("
        f" SELECT c.id, c.embedding <=> %s::vector AS distance FROM knowledge_chunk c WHERE {where}"
        f" ORDER BY {order} LIMIT %s"
        ") SELECT id, distance FROM nearest ORDER BY distance, id"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        _configure_scan(cursor, ef_search=ef_search, iterative_scan=iterative_scan)
        cursor.execute(sql, [literal, *params, literal, limit])
        hits = [VectorHit(int(row[0]), float(row[1])) for row in cursor.fetchall()]
        if len(hits) < limit and fallback and not exact:
            cursor.execute(
                f"SELECT count(*) FROM (SELECT 1 FROM knowledge_chunk c WHERE {where} LIMIT %s) s",
                [*params, limit],
            )
            available = int(cursor.fetchone()[0])
            if available > len(hits):
                logger.info("HNSW scan returned %d of %d rows; using the exact scan", len(hits), available)
                return search_vectors(project_id=project_id, vector=literal, limit=limit, model_id=model_id,
                                      doc_types=doc_types, exact=True)
    return hits


def stale_embedding_models(*, project: Project, model_id: str) -> list[str]:
    """Embedding models other than ``model_id`` that some of the project's chunks were made with."""
    return sorted(
        set(
            Document.objects.filter(project=project)
            .exclude(embedding_model="")
            .exclude(embedding_model=model_id)
            .values_list("embedding_model", flat=True)
        )
    )


def retrieve(
    *,
    project: Project,
    query: str,
    k: int = 5,
    doc_types: list[str] | None = None,
    only_doc_types: list[str] | None = None,
) -> list[RetrievedChunk]:
    """The project's ``k`` chunks nearest to ``query``.

    Args:
        doc_types: preferred doc types: their chunks get ``KNOWLEDGE_DOC_TYPE_BOOST`` added
            to their similarity when ranking (the reported score stays the similarity).
        only_doc_types: restrict the search to these doc types.

    Returns:
        Up to ``k`` chunks (1 ≤ k ≤ 50), best first; ``score`` is the cosine similarity.

    Raises:
        RetrievalError: the embedding model changed since the project was embedded (run
            ``manage.py reindex``), the model could not embed the query, or the search failed.
    """
    from apps.knowledge.embeddings import current_model_id, get_embedder

    query = (query or "").strip()
    k = max(1, min(int(k), MAX_K))
    if not query or not project_has_documents(project=project):
        return []  # nothing to search: do not load the embedding model for it
    preferred = {name for name in doc_types or [] if name}
    fetch = min(k * 4, 200) if preferred else k
    try:
        model_id = current_model_id()
        stale = stale_embedding_models(project=project, model_id=model_id)
        if stale:
            raise RetrievalError(
                f"This project's documents were embedded with {', '.join(stale)}, but the configured "
                f"embedding model is {model_id}; vectors of different models cannot be compared. "
                f"Run `python manage.py reindex --project {project.pk}`.",
                code="RAG_RETRIEVAL_ERROR",
                extra={"reason": "embedding_model_mismatch"},
            )
        vector = get_embedder().embed([query])[0]
        hits = search_vectors(project_id=project.pk, vector=vector, limit=fetch, model_id=model_id,
                              doc_types=only_doc_types)
        chunks = {
            chunk.pk: chunk
            for chunk in Chunk.objects.filter(pk__in=[hit.chunk_id for hit in hits]).select_related("document")
        }
    except RetrievalError:
        raise
    except (ApplicationError, DatabaseError, ValueError) as exc:
        logger.warning("retrieval failed for project %s: %s", project.pk, exc)
        raise RetrievalError(f"Knowledge base search failed: {exc}") from exc
    boost = float(_setting("KNOWLEDGE_DOC_TYPE_BOOST", 0.05))
    ranked: list[tuple[float, RetrievedChunk]] = []
    for hit in hits:
        chunk = chunks.get(hit.chunk_id)
        if chunk is None:  # deleted between the two queries
            continue
        similarity = round(1.0 - hit.distance, 4)
        doc_type = chunk.document.doc_type
        ranked.append((
            similarity + (boost if doc_type in preferred else 0.0),
            RetrievedChunk(
                document_id=str(chunk.document_id),
                path=chunk.document.path,
                doc_type=doc_type,
                score=similarity,
                text=chunk.text,
                snippet=snippet_of(chunk.text),
                heading_path=chunk.heading_path,
            ),
        ))
    ranked.sort(key=lambda pair: -pair[0])
    return [item for _, item in ranked[:k]]


def project_has_documents(*, project: Project) -> bool:
    """True when the project has embedded chunks a search could return."""
    return Chunk.objects.filter(project=project).exists()
