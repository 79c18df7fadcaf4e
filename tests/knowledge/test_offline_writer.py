"""The deterministic template filler the offline provider uses."""
from __future__ import annotations

from typing import Any

from apps.knowledge.doc_types import get_doc_type
from apps.knowledge.offline_writer import TO_BE_DECIDED, render_document

DOMAIN: dict[str, Any] = {
    "domainModel": {
        "entities": {
            "Harbour": {"fields": {"id": {"type": "uuid", "required": True, "unique": True},
                                   "name": {"type": "string", "required": True}}},
            "Berth": {"fields": {"number": {"type": "integer", "required": True},
                                 "status": {"type": "enum", "values": ["free", "occupied"]}}},
            "Skipper": {"fields": {"email": {"type": "string", "unique": True},
                                   "licence": {"type": "enum"}}},
        },
        "relationships": [{"from": "Harbour", "to": "Berth", "type": "one-to-many", "name": "berths"}],
    },
    "phase": "refining",
    "readiness": 60,
    "confidence": 0.7,
}
DOCUMENTS = {"TECH_STACK.md": "# Lighthouse stack\n\nDjango.", "ARCHITECTURE_SPEC.md": "# old version"}


def _render(doc_type: str, **overrides: Any) -> str:
    kwargs: dict[str, Any] = {
        "doc_type": doc_type, "template": get_doc_type(doc_type).template, "domain_model": DOMAIN,
        "documents": DOCUMENTS, "request_text": "Describe the harbour system.", "project_name": "Lighthouse",
    }
    kwargs.update(overrides)
    return render_document(**kwargs)


def test_architecture_spec_is_filled_from_the_domain_model() -> None:
    text = _render("ARCHITECTURE_SPEC")
    assert text.startswith("# Lighthouse — Architecture Specification")
    assert "> Describe the harbour system." in text
    assert "3 entities (Harbour, Berth, Skipper) connected by 1 relationship" in text
    assert "| Harbour | 2 | id |" in text
    assert "| Harbour | Berth | one-to-many | berths |" in text
    assert "```mermaid\nerDiagram" in text and "Harbour ||--o{ Berth : berths" in text
    assert "| GET | `/api/berths` | list Berth records |" in text
    assert "* `TECH_STACK.md` — Lighthouse stack" in text
    assert "ARCHITECTURE_SPEC.md" not in text  # the document being written is not its own reference
    assert "<!--" not in text and "{{" not in text
    assert TO_BE_DECIDED in text  # judgement slots stay open, honestly


def test_open_questions_come_from_gaps_in_the_model() -> None:
    text = _render("DOMAIN_LANGUAGE")
    assert "* Which values can Skipper.licence take?" in text
    assert "* How does Skipper relate to the rest of the model?" in text
    assert "| Berth status | One of: free, occupied. |" in text
    assert "* No two Skipper records share the same email." in text


def test_security_review_lists_personal_fields() -> None:
    assert "| Skipper | email | string |" in _render("SECURITY_REVIEW")


def test_rendering_is_deterministic() -> None:
    assert _render("DATA_MODEL") == _render("DATA_MODEL")


def test_every_doc_type_renders_without_a_model_or_documents() -> None:
    for name in ("PROJECT_MANIFESTO", "ARCHITECTURE_SPEC", "DOMAIN_LANGUAGE", "TECH_STACK", "ADR", "API_SPEC",
                 "DATA_MODEL", "SECURITY_REVIEW", "UNSORTED"):
        text = _render(name, domain_model=None, documents={}, request_text="")
        assert "{{" not in text and text.strip()
        assert "No domain model has been captured" in text or name == "TECH_STACK" or TO_BE_DECIDED in text


def test_unsorted_uses_a_generic_outline_and_adr_titles_from_the_request() -> None:
    unsorted = _render("UNSORTED")
    assert unsorted.startswith("# Lighthouse\n\n## Request")
    adr = _render("ADR", request_text="Use Postgres for readings. Because it is boring.")
    assert adr.startswith("# ADR: Use Postgres for readings.")


def test_lenient_about_shapes() -> None:
    listed = {"entities": [{"name": "Harbour", "fields": [{"name": "name", "type": "string"}]}],
              "relationships": "nonsense"}
    text = _render("DATA_MODEL", domain_model=listed)
    assert "### Harbour" in text and "| name | string | no | no |" in text
    pipes = {"domainModel": {"entities": {"Bad|Name\n<x>": {"fields": {}}}}}
    text = _render("DATA_MODEL", domain_model=pipes)
    assert "### Bad Name x" in text and "Bad|Name" not in text and "<x>" not in text
    assert "    Bad_Name_x {" in text  # a Mermaid-safe identifier
