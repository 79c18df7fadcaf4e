"""The offline extractor reads the person's own nouns and the relations their sentences
state — on the descriptions in tests/domain/domain_descriptions.py, through the same
``extract_update`` the offline provider calls, merged and validated like a tool call."""
from __future__ import annotations

from typing import Any

import pytest

from apps.domain.heuristics import MAX_NEW_ENTITIES, extract_update
from apps.domain.inflect import singular_word
from apps.domain.merge import merge_update, validate_update
from apps.domain.schema import validate_dsl
from tests.domain.domain_descriptions import DESCRIPTIONS, FOLLOW_UPS, Description, FollowUp, Rel

_FIELD_TYPES = {"uuid", "string", "text", "integer", "decimal", "boolean", "datetime", "date", "enum", "json"}


def normalised(rel: Rel) -> Rel:
    source, kind, target = rel
    if kind == "one-to-many":
        return target, "many-to-one", source
    if kind == "many-to-many":
        first, second = sorted((source, target))
        return first, kind, second
    return rel


def relationships(model: dict[str, Any]) -> set[Rel]:
    return {normalised((r["from"], r["type"], r["to"])) for r in model["relationships"]}


def model_from(text: str, current: dict[str, Any] | None = None) -> dict[str, Any]:
    return merge_update(current, validate_update(extract_update(text, current).update))


def test_there_are_enough_varied_descriptions() -> None:
    assert len(DESCRIPTIONS) >= 30
    assert len({d.id for d in DESCRIPTIONS}) == len(DESCRIPTIONS)
    texts = [d.text for d in DESCRIPTIONS]
    assert "owners bring their pets for appointments, and we record vaccinations" in texts
    assert "restaurants have menu items, customers place orders, couriers deliver them" in texts


@pytest.mark.parametrize("case", [pytest.param(d, id=d.id) for d in DESCRIPTIONS])
def test_entities_and_relationships_come_from_the_words(case: Description) -> None:
    model = model_from(case.text)
    names = set(model["entities"])
    if case.exact:
        assert names == case.entities
    else:
        assert case.entities <= names
    assert not names & case.forbidden
    missing = {normalised(r) for r in case.relationships} - relationships(model)
    assert not missing, (missing, sorted(relationships(model)))
    validate_dsl(model)  # the whole model is valid DSL, not only the update
    for name, entity in model["entities"].items():
        assert entity["fields"]["id"]["type"] == "uuid", name
        assert {f["type"] for f in entity["fields"].values()} <= _FIELD_TYPES


def test_the_two_canned_domain_sentences_keep_the_persons_nouns() -> None:
    pets = model_from("owners bring their pets for appointments, and we record vaccinations")
    assert set(pets["entities"]) == {"Owner", "Pet", "Appointment", "Vaccination"}
    assert ("Pet", "many-to-one", "Owner") in relationships(pets)
    assert pets["entities"]["Pet"]["fields"]["ownerId"]["type"] == "uuid"  # the reference behind Pet → Owner
    food = model_from("restaurants have menu items, customers place orders, couriers deliver them")
    assert {"Product", "Driver", "Vehicle", "OrderItem"}.isdisjoint(food["entities"])
    assert ("Order", "many-to-one", "Courier") in relationships(food)  # "them" = the orders


def test_the_lexicon_adds_fields_to_recognised_nouns_and_unknown_nouns_stay_minimal() -> None:
    model = model_from("owners bring their pets for appointments, and we record vaccinations. Owners have "
                       "gizmos.")
    pet = model["entities"]["Pet"]["fields"]
    assert {"species", "name", "birthDate"} <= set(pet)
    assert pet["birthDate"]["type"] == "date"
    assert model["entities"]["Vaccination"]["fields"]["administeredOn"]["type"] == "date"
    assert set(model["entities"]["Gizmo"]["fields"]) == {"id", "name", "ownerId", "createdAt"}


def test_synonyms_keep_the_persons_word() -> None:
    model = model_from("Clients book sessions with therapists")
    assert set(model["entities"]) == {"Client", "Session", "Therapist"}
    # the lexicon lends Client a customer's fields and Therapist a doctor's, under the person's names
    assert "email" in model["entities"]["Client"]["fields"]
    assert "specialty" in model["entities"]["Therapist"]["fields"]


@pytest.mark.parametrize(("plural", "singular"), [
    ("people", "person"), ("categories", "category"), ("addresses", "address"), ("statuses", "status"),
    ("children", "child"), ("boxes", "box"), ("analyses", "analysis"), ("classes", "class"),
    ("businesses", "business"), ("buses", "bus"), ("matches", "match"), ("wolves", "wolf"),
    ("invoices", "invoice"), ("companies", "company"), ("heroes", "hero"), ("series", "series"),
    ("status", "status"), ("campus", "campus"), ("menus", "menu"), ("diagnoses", "diagnosis"),
])
def test_singular_forms(plural: str, singular: str) -> None:
    assert singular_word(plural) == singular


@pytest.mark.parametrize("case", [pytest.param(f, id=f.id) for f in FOLLOW_UPS])
def test_follow_ups_add_to_the_current_model(case: FollowUp) -> None:
    first = model_from(case.first)
    extraction = extract_update(case.then, first)
    assert set(extraction.new_entities) == case.added
    after = merge_update(first, validate_update(extraction.update))
    assert set(first["entities"]) <= set(after["entities"])  # nothing lost
    assert set(after["entities"]) == set(first["entities"]) | case.added
    missing = {normalised(r) for r in case.relationships} - relationships(after)
    assert not missing, (missing, sorted(relationships(after)))
    validate_dsl(after)


@pytest.mark.parametrize("text", ["", "   ", "hello there, how are you?", "it them they", "a, , and ,", "'''",
                                  "1234 5678", "Can you help me?", "thanks!"])
def test_words_without_domain_nouns_give_nothing(text: str) -> None:
    assert extract_update(text).empty


def test_a_pasted_essay_is_capped_and_still_valid() -> None:
    text = " ".join(f"Widget{chr(97 + i % 26)}{chr(97 + i // 26 % 26)}s have gadget{chr(97 + i % 26)}s." for i in
                    range(400))
    extraction = extract_update(text)
    assert len(extraction.new_entities) == MAX_NEW_ENTITIES
    validate_dsl(merge_update(None, validate_update(extraction.update)))


def test_rename_remove_and_field_follow_ups_still_work_on_the_persons_nouns() -> None:
    food = model_from("restaurants have menu items, customers place orders, couriers deliver them")
    renamed = model_from("rename couriers to riders", food)
    assert "Rider" in renamed["entities"] and ("Order", "many-to-one", "Rider") in relationships(renamed)
    removed = model_from("remove menu items", food)
    assert "MenuItem" not in removed["entities"] and "Restaurant" in removed["entities"]
    priced = model_from("add a price to orders", food)
    assert priced["entities"]["Order"]["fields"]["price"]["type"] == "decimal"


def test_requests_may_open_politely() -> None:
    blog = model_from("I need a blog with posts, authors, and comments")
    tagged = model_from("Please, also add tags to posts!", blog)
    assert ("Post", "many-to-many", "Tag") in relationships(tagged)
    assert "Comment" not in model_from("OK, remove comments.", blog)["entities"]


def test_a_field_list_line_gives_one_entity_its_fields() -> None:
    model = model_from("Orders: date, total, customer.\n- Customers: name, email, loyalty points, birthday\n"
                       "Fleet management: we track vehicles")
    assert set(model["entities"]) == {"Order", "Customer", "Vehicle"}
    customer, order = model["entities"]["Customer"]["fields"], model["entities"]["Order"]["fields"]
    assert customer["loyaltyPoints"]["type"] == "string" and customer["dateOfBirth"]["type"] == "date"
    assert order["date"]["type"] == "date" and ("Order", "many-to-one", "Customer") in relationships(model)
