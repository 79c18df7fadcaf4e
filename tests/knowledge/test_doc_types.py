from __future__ import annotations

import re

import pytest

from apps.core.errors import ValidationFailed
from apps.knowledge.doc_types import UNSORTED, doc_type_for_path, get_doc_type, list_doc_types
from apps.knowledge.offline_writer import _SLOTS

REQUIRED = ["PROJECT_MANIFESTO", "ARCHITECTURE_SPEC", "DOMAIN_LANGUAGE", "TECH_STACK", "ADR", "API_SPEC",
            "DATA_MODEL", "SECURITY_REVIEW"]


def test_every_required_type_has_a_template_and_a_worked_example_about_blueprint() -> None:
    types = {doc_type.name: doc_type for doc_type in list_doc_types()}
    for name in REQUIRED:
        doc_type = types[name]
        assert doc_type.title and doc_type.description
        assert doc_type.template.startswith("# ") and len(doc_type.template) > 200
        assert "Blueprint" in doc_type.example and len(doc_type.example) > 800
        assert "{{" not in doc_type.example  # an example is finished text
        assert "{{project_name}}" in doc_type.template or "{{title}}" in doc_type.template
        assert not re.search(r"https?://", doc_type.template + doc_type.example)


def test_templates_use_mostly_slots_the_offline_writer_fills() -> None:
    for doc_type in list_doc_types():
        slots = set(re.findall(r"\{\{\s*(\w+)\s*\}\}", doc_type.template))
        if slots:
            assert len(slots & set(_SLOTS)) >= 4, doc_type.name


def test_unsorted_is_valid_and_has_no_template() -> None:
    unsorted = get_doc_type("UNSORTED")
    assert unsorted.name == UNSORTED and unsorted.template == "" and unsorted.example == ""
    assert list_doc_types()[-1].name == UNSORTED


def test_lookup_is_forgiving_about_case_and_separators() -> None:
    assert get_doc_type("architecture-spec").name == "ARCHITECTURE_SPEC"
    assert get_doc_type(" adr ").name == "ADR"


@pytest.mark.parametrize("name", ["NOVEL", "", "ARCHITECTURE", "../ADR"])
def test_unknown_doc_type_names_the_valid_ones(name: str) -> None:
    with pytest.raises(ValidationFailed) as error:
        get_doc_type(name)
    assert error.value.extra["field"] == "docType"
    assert error.value.extra["validDocTypes"] == [*REQUIRED, UNSORTED]
    assert "PROJECT_MANIFESTO" in error.value.message


def test_doc_type_for_path() -> None:
    assert doc_type_for_path("ARCHITECTURE_SPEC.md") == "ARCHITECTURE_SPEC"
    assert doc_type_for_path("docs/tech-stack.md") == "TECH_STACK"
    assert doc_type_for_path("docs/adr/0001-use-postgres.md") == "ADR"
    assert doc_type_for_path("README.md") == UNSORTED
