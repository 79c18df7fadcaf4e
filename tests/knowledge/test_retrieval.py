"""Per-project retrieval, correct under HNSW post-filtering."""
from __future__ import annotations

import random
from typing import Any

import pytest
from django.db import connection

from apps.knowledge.embeddings import get_embedder
from apps.knowledge.models import Chunk, Document
from apps.knowledge.retrieval import RetrievalError, project_has_documents, retrieve, search_vectors
from apps.knowledge.services import document_upload
from apps.projects.models import Project
from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db

QUERY = "How are invoices for berth rental calculated?"
A_TEXTS = [
    "Berth rental is invoiced per started day at the harbour's daily rate.",
    "Invoices include VAT at twenty-one percent and are sent on the first of the month.",
    "Late payments accrue a fee of one percent per day after fourteen days of grace.",
    "The harbour master can grant a discount for long stays over thirty days.",
    "Fuel purchased at the quay is added to the berth invoice as a separate line.",
    "Crew wages are not part of the harbour's invoicing.",
    "Weather alerts are sent by SMS to every registered skipper.",
    "The control room dashboard sorts alerts by severity.",
    "Sensors report tide height every ten seconds.",
    "A berth can be reserved up to one year ahead.",
]


def _document(project: Project, path: str, model_id: str) -> Document:
    return Document.objects.create(project=project, path=path, content="x", checksum=path, status="ready",
                                   embedding_model=model_id)


def _jitter(vector: list[float], rng: random.Random, amount: float) -> list[float]:
    noisy = [v + rng.gauss(0, amount) for v in vector]
    norm = sum(v * v for v in noisy) ** 0.5
    return [v / norm for v in noisy]


@pytest.fixture
def crowded() -> dict[str, Any]:
    """Project A: 10 real chunks. Project B: 500 near-duplicates of the query itself (50×)."""
    embedder = get_embedder()
    rng = random.Random(7)
    project_a, project_b = ProjectFactory(name="A"), ProjectFactory(name="B")
    doc_a = _document(project_a, "a.md", embedder.model_id)
    vectors = embedder.embed(A_TEXTS)
    Chunk.objects.bulk_create([
        Chunk(document=doc_a, project=project_a, ordinal=i, text=text, embedding=vector)
        for i, (text, vector) in enumerate(zip(A_TEXTS, vectors, strict=True))
    ])
    query_vector = embedder.embed([QUERY])[0]
    doc_b = _document(project_b, "b.md", embedder.model_id)
    Chunk.objects.bulk_create([
        Chunk(document=doc_b, project=project_b, ordinal=i, text=f"near duplicate {i}",
              embedding=_jitter(query_vector, rng, 0.002))
        for i in range(50 * len(A_TEXTS))
    ])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE knowledge_chunk")
        # The tables are tiny: make the planner take the HNSW index, as it does at scale.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
    return {"a": project_a, "b": project_b, "query_vector": query_vector}


def _uses_hnsw(project: Project, vector: list[float]) -> bool:
    literal = "[" + ",".join(str(v) for v in vector) + "]"
    with connection.cursor() as cursor:
        cursor.execute(
            "EXPLAIN SELECT id FROM knowledge_chunk c WHERE c.project_id = %s "
            "ORDER BY c.embedding <=> %s::vector LIMIT 5",
            [project.pk, literal],
        )
        return "chunk_embedding_hnsw" in " ".join(row[0] for row in cursor.fetchall())


def test_plain_hnsw_post_filtering_loses_results(crowded: dict[str, Any]) -> None:
    """The control: without iterative scans the filter leaves project A short of k rows."""
    assert _uses_hnsw(crowded["a"], crowded["query_vector"])
    hits = search_vectors(project_id=crowded["a"].pk, vector=crowded["query_vector"], limit=5, ef_search=40,
                          iterative_scan="off", fallback=False)
    assert len(hits) < 5


def test_iterative_scan_returns_k_results_all_from_the_project(crowded: dict[str, Any]) -> None:
    hits = search_vectors(project_id=crowded["a"].pk, vector=crowded["query_vector"], limit=5, ef_search=40,
                          fallback=False)
    assert len(hits) == 5
    ids_a = set(Chunk.objects.filter(project=crowded["a"]).values_list("pk", flat=True))
    assert {hit.chunk_id for hit in hits} <= ids_a
    assert [hit.distance for hit in hits] == sorted(hit.distance for hit in hits)


def test_retrieve_in_the_small_project_returns_its_own_best_chunks(crowded: dict[str, Any]) -> None:
    results = retrieve(project=crowded["a"], query=QUERY, k=5)
    assert len(results) == 5
    assert {r.path for r in results} == {"a.md"}
    assert all(r.text in A_TEXTS for r in results)
    assert results[0].text.startswith(("Berth rental is invoiced", "Invoices include VAT"))
    assert [r.score for r in results] == sorted((r.score for r in results), reverse=True)
    b_results = retrieve(project=crowded["b"], query=QUERY, k=5)
    assert all(r.text.startswith("near duplicate") for r in b_results)


def test_the_exact_fallback_fills_what_the_index_cannot(crowded: dict[str, Any], settings: Any) -> None:
    settings.KNOWLEDGE_HNSW_MAX_SCAN_TUPLES = 50  # the scan gives up long before reaching project A
    short = search_vectors(project_id=crowded["a"].pk, vector=crowded["query_vector"], limit=5, ef_search=10,
                           fallback=False)
    assert len(short) < 5
    full = search_vectors(project_id=crowded["a"].pk, vector=crowded["query_vector"], limit=5, ef_search=10)
    assert len(full) == 5


def test_doc_type_preference_and_filter(tenant: Any) -> None:
    project = tenant.project
    document_upload(project=project, path="tides.md", content="# Tides\n\nThe tide floods berth four.")
    document_upload(project=project, path="ARCHITECTURE_SPEC.md",
                    content="# Architecture\n\nThe tide sensor feeds the rule engine.")
    plain = retrieve(project=project, query="tide flooding berth four", k=2)
    assert plain[0].path == "tides.md"
    preferred = retrieve(project=project, query="tide flooding berth four", k=2, doc_types=["ARCHITECTURE_SPEC"])
    assert {r.path for r in preferred} == {"tides.md", "ARCHITECTURE_SPEC.md"}
    only = retrieve(project=project, query="tide flooding berth four", k=5, only_doc_types=["ARCHITECTURE_SPEC"])
    assert [r.doc_type for r in only] == ["ARCHITECTURE_SPEC"]


def test_doc_type_boost_reorders_close_results(tenant: Any, settings: Any) -> None:
    document_upload(project=tenant.project, path="tides.md", content="# Tides\n\nThe tide floods berth four.")
    document_upload(project=tenant.project, path="ADR.md", content="# Decision\n\nWe store tide readings daily.")
    settings.KNOWLEDGE_DOC_TYPE_BOOST = 2.0  # larger than any similarity gap
    boosted = retrieve(project=tenant.project, query="tide flooding berth four", k=2, doc_types=["ADR"])
    assert boosted[0].path == "ADR.md"
    assert boosted[0].score < boosted[1].score  # the reported score stays the similarity


def test_project_has_documents(tenant: Any) -> None:
    assert project_has_documents(project=tenant.project) is False
    document_upload(project=tenant.project, path="a.md", content="# A\n\ntext")
    assert project_has_documents(project=tenant.project) is True


def test_blank_query_returns_nothing(tenant: Any) -> None:
    document_upload(project=tenant.project, path="a.md", content="# A\n\ntext")
    assert retrieve(project=tenant.project, query="   ") == []


def test_a_changed_embedding_model_is_a_clear_error(tenant: Any) -> None:
    document_upload(project=tenant.project, path="a.md", content="# A\n\ntext")
    Document.objects.filter(project=tenant.project).update(embedding_model="openai:text-embedding-3-small@384")
    with pytest.raises(RetrievalError) as error:
        retrieve(project=tenant.project, query="text")
    assert error.value.code == "RAG_RETRIEVAL_ERROR"
    assert error.value.retry is False
    assert "manage.py reindex" in error.value.message
    assert "openai:text-embedding-3-small@384" in error.value.message


def test_an_embedding_failure_becomes_a_retrieval_error(tenant: Any, settings: Any) -> None:
    document_upload(project=tenant.project, path="a.md", content="# A\n\ntext")
    settings.EMBEDDINGS_MODEL = "/nonexistent/model-folder"
    Document.objects.update(embedding_model="local:/nonexistent/model-folder")
    with pytest.raises(RetrievalError) as error:
        retrieve(project=tenant.project, query="text")
    assert error.value.code == "RAG_RETRIEVAL_ERROR"
    assert "Knowledge base search failed" in error.value.message
