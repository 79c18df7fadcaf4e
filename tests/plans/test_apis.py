"""REST for plans: list (with status), read, replace steps (only before a run), delete; admin; schema."""
from __future__ import annotations

from typing import Any

import pytest

from apps.chats.models import Chat
from apps.plans.models import Plan, PlanStep
from apps.plans.services import plan_save, plan_settle, plan_start

pytestmark = pytest.mark.django_db

STEPS = [
    {"title": "Models", "description": "d1", "files": ["app/models.py"], "risk": "medium"},
    {"title": "API", "description": "", "files": [], "risk": "low"},
]
PLAN_KEYS = {"id", "chatId", "projectId", "status", "steps", "rawText", "runId", "createdAt", "updatedAt"}


def make_plan(tenant: Any, steps: list[dict[str, Any]] | None = None) -> Plan:
    chat = Chat.objects.get(project=tenant.project, is_default=True)
    return plan_save(chat=chat, steps=steps or STEPS, raw_text="raw")


def test_read_a_plan_in_the_ui_shape(tenant):
    plan = make_plan(tenant)
    response = tenant.client.get(f"/api/plans/{plan.pk}")
    body = response.json()
    assert response.status_code == 200 and set(body) == PLAN_KEYS
    assert body["status"] == "draft" and body["rawText"] == "raw" and body["runId"] is None
    assert body["chatId"] == str(plan.chat_id) and body["projectId"] == str(tenant.project.pk)
    assert body["steps"] == [
        {"index": 1, "title": "Models", "description": "d1", "files": ["app/models.py"], "risk": "medium",
         "status": "pending"},
        {"index": 2, "title": "API", "description": "", "files": [], "risk": "low", "status": "pending"},
    ]


def test_list_with_status_filter(tenant):
    first, second = make_plan(tenant), make_plan(tenant)
    plan_start(plan=second)
    plans = tenant.client.get(f"/api/projects/{tenant.project.pk}/plans").json()["plans"]
    assert [p["id"] for p in plans] == [str(second.pk), str(first.pk)]
    running = tenant.client.get(f"/api/projects/{tenant.project.pk}/plans?status=running").json()["plans"]
    assert [p["id"] for p in running] == [str(second.pk)]
    bad = tenant.client.get(f"/api/projects/{tenant.project.pk}/plans?status=nope")
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "status"


def test_patch_replaces_reorders_removes_and_adds_steps(tenant):
    plan = make_plan(tenant)
    body = {"steps": [
        {"title": "API", "risk": "high", "files": ["./app/api.py"]},
        {"title": "New step", "description": "added"},
    ]}
    response = tenant.client.patch(f"/api/plans/{plan.pk}", body, format="json")
    assert response.status_code == 200, response.json()
    steps = response.json()["steps"]
    assert [(s["index"], s["title"], s["risk"], s["files"], s["status"]) for s in steps] == [
        (1, "API", "high", ["app/api.py"], "pending"), (2, "New step", "low", [], "pending")]
    assert PlanStep.objects.filter(plan=plan).count() == 2


@pytest.mark.parametrize(("steps", "field"), [
    (None, "steps"),
    ([], "steps"),
    ([{"description": "no title"}], "steps[0].title"),
    ([{"title": "x" * 201}], "steps[0].title"),
    ([{"title": "ok"}, {"title": "bad risk", "risk": "extreme"}], "steps[1].risk"),
    ([{"title": "ok", "files": ["fine.py", "../etc/passwd"]}], "steps[0].files[1]"),
    ([{"title": "ok", "files": ["/abs/path"]}], "steps[0].files[0]"),
    ([{"title": "ok", "files": "a.py"}], "steps[0].files"),
    (["just a string"], "steps[0]"),
])
def test_patch_validation_names_the_field_and_changes_nothing(tenant, steps, field):
    plan = make_plan(tenant)
    response = tenant.client.patch(f"/api/plans/{plan.pk}", {} if steps is None else {"steps": steps}, format="json")
    assert response.status_code == 400 and response.json()["error"]["field"] == field
    assert list(PlanStep.objects.filter(plan=plan).values_list("title", flat=True)) == ["Models", "API"]


def test_a_plan_that_ran_or_runs_cannot_be_edited_and_a_running_one_not_deleted(tenant):
    plan = make_plan(tenant)
    plan_start(plan=plan)
    edit = tenant.client.patch(f"/api/plans/{plan.pk}", {"steps": [{"title": "x"}]}, format="json")
    assert edit.status_code == 409 and edit.json()["error"]["code"] == "plan_not_draft"
    delete = tenant.client.delete(f"/api/plans/{plan.pk}")
    assert delete.status_code == 409 and delete.json()["error"]["code"] == "plan_running"
    plan_settle(plan_id=plan.pk, run_status="completed")
    assert tenant.client.patch(f"/api/plans/{plan.pk}", {"steps": [{"title": "x"}]}, format="json").status_code == 409
    assert tenant.client.delete(f"/api/plans/{plan.pk}").status_code == 204
    assert not Plan.objects.filter(pk=plan.pk).exists() and not PlanStep.objects.filter(plan_id=plan.pk).exists()


def test_other_workspaces_get_404_on_every_route(tenant, other_tenant):
    plan = make_plan(tenant)
    chat_id = plan.chat_id
    client = other_tenant.client
    for response in (
        client.get(f"/api/plans/{plan.pk}"),
        client.patch(f"/api/plans/{plan.pk}", {"steps": [{"title": "x"}]}, format="json"),
        client.delete(f"/api/plans/{plan.pk}"),
        client.get(f"/api/projects/{tenant.project.pk}/plans"),
        client.get(f"/api/plan/{tenant.project.pk}/{chat_id}"),
        client.get(f"/api/plan/{other_tenant.project.pk}/{chat_id}"),
        client.get("/api/plans/not-a-uuid"),
    ):
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert client.get(f"/api/projects/{other_tenant.project.pk}/plans").json()["plans"] == []
    assert Plan.objects.get(pk=plan.pk).steps.count() == 2


def test_seed_get_returns_the_chats_latest_plan(tenant):
    make_plan(tenant)
    latest = make_plan(tenant, [{"title": "Latest", "risk": "low"}])
    response = tenant.client.get(f"/api/plan/{tenant.project.pk}/{latest.chat_id}")
    assert response.status_code == 200 and response.json()["id"] == str(latest.pk)
    assert [s["title"] for s in response.json()["steps"]] == ["Latest"]


def test_a_running_plan_whose_run_died_is_settled_when_read(tenant):
    from apps.chats.models import Message, Run

    plan = make_plan(tenant)
    plan_start(plan=plan)
    message = Message.objects.create(chat_id=plan.chat_id, role="assistant", status="interrupted")
    run = Run.objects.create(chat_id=plan.chat_id, assistant_message=message, status="interrupted")
    Plan.objects.filter(pk=plan.pk).update(run=run)
    body = tenant.client.get(f"/api/plans/{plan.pk}").json()
    assert body["status"] == "failed" and [s["status"] for s in body["steps"]] == ["skipped", "skipped"]


def test_schema_documents_the_plan_routes(tenant):
    schema = tenant.client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    paths = schema["paths"]
    assert {"get", "patch", "delete"} <= set(paths["/api/plans/{planId}"])
    assert "get" in paths["/api/projects/{projectId}/plans"] and "get" in paths["/api/plan/{projectId}/{chatId}"]
    assert {"get", "post"} <= set(paths["/api/projects/{projectId}/modes"])


def test_admin_shows_a_plan_with_its_steps(tenant, admin_client):
    plan = make_plan(tenant)
    listing = admin_client.get("/admin/plans/plan/")
    page = admin_client.get(f"/admin/plans/plan/{plan.pk}/change/")
    assert listing.status_code == 200 and page.status_code == 200
    assert b"app/models.py" in page.content and b"Models" in page.content
