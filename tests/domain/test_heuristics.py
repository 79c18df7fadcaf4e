"""The offline extractor on twelve domains: the person's nouns as entities, the stated and
implied relationships, valid updates (more phrasings in tests/domain/test_offline_nouns.py)."""
from __future__ import annotations

from typing import Any

import pytest

from apps.domain.heuristics import extract_update
from apps.domain.merge import merge_update, validate_update
from apps.domain.readiness import readiness_score


def model_from(text: str, current: dict[str, Any] | None = None) -> dict[str, Any]:
    extraction = extract_update(text, current)
    return merge_update(current, validate_update(extraction.update))


def rels(model: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(r["from"], r["type"], r["to"]) for r in model["relationships"]}


DOMAINS = [
    ("blog", "I need a blog with posts, authors, and comments",
     {"Post", "Author", "Comment"},
     {("Post", "many-to-one", "Author"), ("Comment", "many-to-one", "Post")}),
    ("task manager", "I need a task management system", {"Task"}, set()),
    ("shop", "An online shop with products, customers, orders and invoices",
     {"Product", "Customer", "Order", "Invoice"},
     {("Order", "many-to-one", "Customer"), ("Invoice", "many-to-one", "Order")}),
    ("hotel", "a hotel booking system", {"Hotel", "Booking"}, {("Booking", "many-to-one", "Hotel")}),
    ("school", "A school with courses and enrolments",
     {"Course", "Enrolment"}, {("Enrolment", "many-to-one", "Course")}),
    ("library", "A library where members borrow books. Each loan belongs to a member.",
     {"Member", "Book", "Loan"},
     {("Member", "many-to-many", "Book"), ("Loan", "many-to-one", "Member"), ("Loan", "many-to-one", "Book")}),
    ("clinic", "A clinic where patients book appointments with doctors",
     {"Appointment", "Patient", "Doctor"},
     {("Appointment", "many-to-one", "Patient"), ("Appointment", "many-to-one", "Doctor")}),
    ("fleet", "Fleet management: we track vehicles, drivers, routes and shipments",
     {"Vehicle", "Driver", "Route", "Shipment"},
     {("Shipment", "many-to-one", "Vehicle"), ("Shipment", "many-to-one", "Driver"),
      ("Shipment", "many-to-one", "Route")}),
    ("ticketing", "An event ticketing platform with events, venues and tickets",
     {"Event", "Venue", "Ticket"},
     {("Event", "many-to-one", "Venue"), ("Ticket", "many-to-one", "Event")}),
    ("recruiting", "A recruiting tool: jobs, candidates, applications and interviews",
     {"Job", "Candidate", "Application", "Interview"},
     {("Application", "many-to-one", "Candidate"), ("Application", "many-to-one", "Job"),
      ("Interview", "many-to-one", "Application")}),
    ("unknown nouns", "A garden planner with plants and beds. Each plant belongs to a bed.",
     {"Plant", "Bed"}, {("Plant", "many-to-one", "Bed")}),
    ("recipes", "Recipes have ingredients and reviews",
     {"Recipe", "Ingredient", "Review"},
     {("Recipe", "many-to-many", "Ingredient"), ("Review", "many-to-one", "Recipe")}),
]


@pytest.mark.parametrize(("text", "entities", "relationships"),
                         [pytest.param(t, e, r, id=name) for name, t, e, r in DOMAINS])
def test_domains(text: str, entities: set[str], relationships: set[tuple[str, str, str]]) -> None:
    model = model_from(text)
    assert set(model["entities"]) == entities
    assert relationships <= rels(model)
    for name, entity in model["entities"].items():
        fields = entity["fields"]
        assert fields["id"] == {"type": "uuid", "required": True, "unique": False}, name
        assert fields["createdAt"]["type"] == "datetime"
    assert readiness_score(model) >= 80  # typed fields, keys, no orphans


def test_typed_fields_follow_their_meaning() -> None:
    model = model_from("An online shop with products, customers, orders and invoices")
    customer, order = model["entities"]["Customer"]["fields"], model["entities"]["Order"]["fields"]
    assert customer["email"] == {"type": "string", "required": True, "unique": True}
    assert order["total"]["type"] == "decimal" and order["placedAt"]["type"] == "datetime"
    assert order["status"]["type"] == "enum" and "paid" in order["status"]["values"]
    assert order["customerId"]["type"] == "uuid"  # the reference behind Order → Customer


def test_attributes_in_sentences_become_fields() -> None:
    model = model_from("A garden planner with plants and beds. Plants have a color, a price and a due date.")
    plant = model["entities"]["Plant"]["fields"]
    assert plant["color"]["type"] == "string"
    assert plant["price"]["type"] == "decimal" and plant["dueDate"]["type"] == "date"
    assert "Color" not in model["entities"]


def test_follow_up_adds_tags_to_posts() -> None:
    blog = model_from("I need a blog with posts, authors, and comments")
    extraction = extract_update("posts can also have tags", blog)
    assert extraction.new_entities == ["Tag"]
    after = merge_update(blog, validate_update(extraction.update))
    assert ("Post", "many-to-many", "Tag") in rels(after)
    assert set(after["entities"]) == {"Post", "Author", "Comment", "Tag"}


def test_follow_ups_rename_remove_and_add_fields() -> None:
    blog = model_from("I need a blog with posts, authors, and comments")
    renamed = model_from("Please rename author to writer", blog)
    assert "Writer" in renamed["entities"] and "Author" not in renamed["entities"]
    assert ("Post", "many-to-one", "Writer") in rels(renamed)
    removed = model_from("Remove comments.", blog)
    assert "Comment" not in removed["entities"]
    field_gone = model_from("remove the slug from posts", blog)
    assert "slug" not in field_gone["entities"]["Post"]["fields"]
    priced = model_from("add a price to posts", blog)
    assert priced["entities"]["Post"]["fields"]["price"]["type"] == "decimal"
    rated = model_from("each comment has a rating", blog)
    assert rated["entities"]["Comment"]["fields"]["rating"]["type"] == "integer"


def test_verbs_are_not_nouns_and_empty_text_gives_nothing() -> None:
    model = model_from("Guests book a room for a few nights")
    assert "Book" not in model["entities"] and {"Guest", "Room"} <= set(model["entities"])
    assert extract_update("hello there, how are you?").empty
