"""The documents, search and doc-types REST endpoints, including workspace isolation."""
from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.knowledge.models import Chunk, Document
from tests.conftest import Tenant

pytestmark = pytest.mark.django_db

MANIFESTO = "# Harbour manifesto\n\nLighthouse keeps harbour masters ahead of the tide.\n"


def _url(tenant: Tenant, suffix: str = "") -> str:
    return f"/api/projects/{tenant.project.pk}/documents{suffix}"


def _post(tenant: Tenant, body: dict[str, Any]) -> Any:
    return tenant.client.post(_url(tenant), body, format="json")


def test_json_upload_is_ingested_and_listed_with_its_status(tenant: Tenant) -> None:
    response = _post(tenant, {"path": "./docs//manifesto.md", "content": MANIFESTO})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["path"] == "docs/manifesto.md"
    assert body["status"] == "ready"  # inline ingestion in tests
    assert body["source"] == "uploaded"
    assert body["docType"] == "UNSORTED"
    assert body["chunkCount"] == 1
    assert body["embeddingModel"] == "local:all-MiniLM-L6-v2"
    listed = tenant.client.get(_url(tenant)).json()
    assert [(d["path"], d["status"]) for d in listed] == [("docs/manifesto.md", "ready")]
    assert "content" not in listed[0]
    detail = tenant.client.get(_url(tenant, f"/{body['id']}")).json()
    assert detail["content"] == MANIFESTO


def test_doc_type_is_validated_or_inferred(tenant: Tenant) -> None:
    typed = _post(tenant, {"path": "spec.md", "content": "# Spec\n\nText.", "docType": "architecture_spec"})
    assert typed.json()["docType"] == "ARCHITECTURE_SPEC"
    inferred = _post(tenant, {"path": "TECH_STACK.md", "content": "# Stack\n\nDjango."})
    assert inferred.json()["docType"] == "TECH_STACK"
    bad = _post(tenant, {"path": "x.md", "content": "text", "docType": "NOVEL"})
    assert bad.status_code == 400
    assert bad.json()["error"]["field"] == "docType"
    assert "ARCHITECTURE_SPEC" in bad.json()["error"]["message"]


def test_multipart_upload(tenant: Tenant) -> None:
    upload = SimpleUploadedFile("notes.md", "\ufeff# Notes\n\nTide tables.".encode(), content_type="text/markdown")
    response = tenant.client.post(_url(tenant), {"file": upload, "path": "docs/notes.md"}, format="multipart")
    assert response.status_code == 201, response.json()
    document = Document.objects.get(pk=response.json()["id"])
    assert document.path == "docs/notes.md"
    assert document.content == "# Notes\n\nTide tables."  # BOM stripped
    named = tenant.client.post(_url(tenant), {"file": SimpleUploadedFile("b.txt", b"plain text")},
                               format="multipart")
    assert named.json()["path"] == "b.txt"


def test_binary_and_oversized_uploads_are_refused(tenant: Tenant, settings: Any) -> None:
    binary = tenant.client.post(_url(tenant), {"file": SimpleUploadedFile("a.bin", b"\xff\xfe\x00\x01")},
                                format="multipart")
    assert binary.status_code == 400
    assert binary.json()["error"]["field"] == "file"
    settings.KNOWLEDGE_MAX_DOCUMENT_BYTES = 100
    big = tenant.client.post(_url(tenant), {"file": SimpleUploadedFile("big.md", b"x" * 101)}, format="multipart")
    assert big.status_code == 400
    big_json = _post(tenant, {"path": "big.md", "content": "é" * 51})  # 102 bytes in UTF-8
    assert big_json.status_code == 400
    assert big_json.json()["error"]["field"] == "content"
    assert Document.objects.count() == 0


@pytest.mark.parametrize("path", ["/etc/passwd", "../../outside.md", "docs/../../x.md", "C:\\x.md"])
def test_paths_outside_the_project_are_refused(tenant: Tenant, path: str) -> None:
    response = _post(tenant, {"path": path, "content": "x"})
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "path"


def test_empty_or_missing_content_is_400(tenant: Tenant) -> None:
    assert _post(tenant, {"path": "a.md", "content": "   "}).status_code == 400
    missing = _post(tenant, {"path": "a.md"})
    assert missing.status_code == 400
    assert missing.json()["error"]["field"] == "content"


def test_reupload_same_path_replaces_and_unchanged_is_200(tenant: Tenant) -> None:
    first = _post(tenant, {"path": "a.md", "content": "# A\n\nOne."}).json()
    same = _post(tenant, {"path": "a.md", "content": "# A\n\nOne."})
    assert same.status_code == 200
    assert same.json()["id"] == first["id"]
    changed = _post(tenant, {"path": "a.md", "content": "# A\n\nTwo."}).json()
    assert changed["id"] == first["id"] and changed["checksum"] != first["checksum"]
    assert Chunk.objects.get(document_id=first["id"]).text == "# A\n\nTwo."


def test_delete_removes_document_and_chunks(tenant: Tenant) -> None:
    document_id = _post(tenant, {"path": "a.md", "content": MANIFESTO}).json()["id"]
    assert tenant.client.delete(_url(tenant, f"/{document_id}")).status_code == 204
    assert not Document.objects.filter(pk=document_id).exists()
    assert not Chunk.objects.filter(document_id=document_id).exists()
    assert tenant.client.get(_url(tenant, f"/{document_id}")).status_code == 404


def test_list_filters_by_status(tenant: Tenant) -> None:
    _post(tenant, {"path": "a.md", "content": MANIFESTO})
    assert len(tenant.client.get(_url(tenant) + "?status=ready").json()) == 1
    assert tenant.client.get(_url(tenant) + "?status=failed").json() == []
    assert tenant.client.get(_url(tenant) + "?status=nope").status_code == 400


def test_search_returns_scored_chunks(tenant: Tenant) -> None:
    _post(tenant, {"path": "docs/tides.md", "content": "# Tides\n\nHigh tide floods berth four twice a month."})
    _post(tenant, {"path": "docs/billing.md", "content": "# Billing\n\nInvoices are sent monthly with VAT.",
                   "docType": "DATA_MODEL"})
    url = f"/api/projects/{tenant.project.pk}/search"
    body = tenant.client.get(url, {"q": "when does the berth flood?", "k": 2}).json()
    assert body["k"] == 2
    top = body["results"][0]
    assert top["path"] == "docs/tides.md"
    assert set(top) == {"documentId", "path", "docType", "score", "headingPath", "snippet", "text"}
    assert 0 < top["score"] <= 1
    assert top["score"] >= body["results"][1]["score"]
    filtered = tenant.client.get(url, {"q": "when does the berth flood?", "docType": "DATA_MODEL"}).json()
    assert [r["path"] for r in filtered["results"]] == ["docs/billing.md"]


@pytest.mark.parametrize("params", [{"q": "x", "k": 0}, {"q": "x", "k": 51}, {"q": "x", "k": "many"}, {"k": 3},
                                    {"q": "x", "docType": "NOVEL"}, {"q": "x" * 2001}])
def test_bad_search_parameters_are_400(tenant: Tenant, params: dict[str, Any]) -> None:
    response = tenant.client.get(f"/api/projects/{tenant.project.pk}/search", params)
    assert response.status_code == 400
    assert response.json()["error"]["field"] in {"k", "q", "docType"}


def test_other_workspaces_documents_and_search_are_404(tenant: Tenant, other_tenant: Tenant) -> None:
    document_id = _post(tenant, {"path": "secret.md", "content": "# Secret\n\nThe vault code is 1234."}).json()["id"]
    intruder = other_tenant.client
    base = f"/api/projects/{tenant.project.pk}"
    responses = [
        intruder.get(f"{base}/documents"),
        intruder.post(f"{base}/documents", {"path": "x.md", "content": "planted"}, format="json"),
        intruder.get(f"{base}/documents/{document_id}"),
        intruder.delete(f"{base}/documents/{document_id}"),
        intruder.get(f"{base}/search", {"q": "vault code"}),
        # The intruder's own project with the victim's document id: still not found.
        intruder.get(f"/api/projects/{other_tenant.project.pk}/documents/{document_id}"),
        intruder.delete(f"/api/projects/{other_tenant.project.pk}/documents/{document_id}"),
    ]
    assert [r.status_code for r in responses] == [404] * len(responses)
    missing = intruder.get(f"/api/projects/{uuid.uuid4()}/documents")
    assert responses[0].json() == missing.json()  # indistinguishable from a missing project
    assert Document.objects.filter(pk=document_id).exists()
    assert not Document.objects.filter(path="x.md").exists()
    own = intruder.get(f"/api/projects/{other_tenant.project.pk}/search", {"q": "vault code"}).json()
    assert own["results"] == []


def test_unauthenticated_is_401(tenant: Tenant) -> None:
    from rest_framework.test import APIClient

    assert APIClient().get(_url(tenant)).status_code == 401


def test_doc_types_are_listed(tenant: Tenant) -> None:
    listed = tenant.client.get("/api/doc-types").json()
    names = [item["name"] for item in listed]
    for name in ("PROJECT_MANIFESTO", "ARCHITECTURE_SPEC", "DOMAIN_LANGUAGE", "TECH_STACK", "ADR", "API_SPEC",
                 "DATA_MODEL", "SECURITY_REVIEW", "UNSORTED"):
        assert name in names
    assert all(item["title"] and item["description"] for item in listed)
    detail = tenant.client.get("/api/doc-types/ADR").json()
    assert detail["template"].startswith("# ADR") and "Blueprint" in detail["example"]
    assert tenant.client.get("/api/doc-types/NOVEL").status_code == 400
