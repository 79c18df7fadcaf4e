"""The admin: every registered model's pages render for a superuser, without N+1 queries."""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.contrib import admin
from django.contrib.messages import get_messages
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.chats.models import Chat, Message
from apps.core.auth import hash_api_key
from apps.core.models import ApiKey
from tests.factories import (
    ChatFactory,
    CustomModeFactory,
    MessageFactory,
    RunEventFactory,
    RunFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

REGISTERED = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


@pytest.fixture
def staff(client):
    user = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(user)
    return client


@pytest.fixture
def data(tenant):
    from apps.projects.models import ProjectFile

    chat = Chat.objects.get(project=tenant.project, is_default=True)
    run = RunFactory(chat=chat)
    RunEventFactory(run=run, seq=1, type="run.started", payload={"model": "offline"})
    RunEventFactory(run=run, seq=2)
    CustomModeFactory(project=tenant.project, name="review")
    ProjectFile.objects.create(project=tenant.project, path="src/app.py", content="print('hi')")
    return {"tenant": tenant, "chat": chat, "run": run}


def _url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def test_every_model_of_the_foundation_apps_is_registered():
    from django.apps import apps

    for label in ("core", "projects", "chats"):
        for model in apps.get_app_config(label).get_models():
            assert admin.site.is_registered(model), model


@pytest.mark.parametrize(
    ("model", "model_admin"), [pytest.param(m, a, id=m._meta.label) for m, a in REGISTERED]
)
def test_changelist_add_and_change_render(staff, data, model, model_admin):
    response = staff.get(_url(model, "changelist"))
    assert response.status_code == 200
    if model_admin.search_fields:
        assert staff.get(_url(model, "changelist"), {"q": "hello"}).status_code == 200

    response = staff.get(_url(model, "add"))
    assert response.status_code == (200 if model_admin.has_add_permission(response.wsgi_request) else 403)

    instance = model._default_manager.first() or _make_instance(model)
    if instance is None:
        pytest.skip(f"could not make a {model._meta.label} row to open a change page for")
    assert staff.get(_url(model, "change", instance.pk)).status_code == 200


def _placeholder(field, depth: int):
    """A value for a required field of a model this test knows nothing about."""
    if field.is_relation:
        related = field.related_model
        return related._default_manager.first() or (_make_instance(related, depth + 1) if depth < 3 else None)
    if field.choices:
        return field.choices[0][0]
    internal = field.get_internal_type()
    if internal in {"CharField", "TextField", "SlugField", "EmailField", "URLField"}:
        return "x" if internal != "EmailField" else "x@example.test"
    if "Integer" in internal or internal in {"FloatField", "DecimalField"}:
        return 1
    if internal == "BooleanField":
        return False
    if internal == "DateTimeField":
        return timezone.now()
    if internal == "DateField":
        return timezone.now().date()
    if internal == "JSONField":
        return {}
    if internal == "BinaryField":
        return b"x"
    if internal == "UUIDField":
        return uuid.uuid4()
    if getattr(field, "dimensions", None):  # pgvector's VectorField
        return [0.0] * field.dimensions
    return None


def _make_instance(model, depth: int = 0):
    values = {}
    for field in model._meta.concrete_fields:
        if field.primary_key or field.null or field.has_default() or getattr(field, "auto_now", False) \
                or getattr(field, "auto_now_add", False):
            continue
        value = _placeholder(field, depth)
        if value is None:
            return None
        values[field.name] = value
    try:
        with transaction.atomic():
            return model._default_manager.create(**values)
    except Exception:  # noqa: BLE001 - an unknown model's rules; the test then skips
        return None


def test_chat_page_shows_latest_messages_read_only_with_bounded_queries(staff, data):
    chat = data["chat"]
    start = timezone.now() + timedelta(seconds=1)  # newer than the fixture's messages
    Message.objects.bulk_create(
        Message(chat=chat, role="assistant", content=f"body-{i:04d}", input_tokens=7, output_tokens=11,
                created_at=start + timedelta(seconds=i))
        for i in range(400)
    )
    with CaptureQueriesContext(connection) as queries:
        response = staff.get(_url(Chat, "change", chat.pk))
    assert response.status_code == 200
    html = response.content.decode()
    assert "body-0399" in html and "body-0350" in html and "body-0349" not in html
    assert html.index("body-0350") < html.index("body-0399")  # chronological
    assert 'name="messages-0-content"' not in html  # read-only, no inputs
    assert f"?chat__exact={chat.pk}" in html
    assert len(queries) < 30

    filtered = staff.get(_url(Message, "changelist"), {"chat__exact": str(chat.pk)})
    assert filtered.status_code == 200 and "body-0399" in filtered.content.decode()


def test_run_page_shows_the_event_timeline_in_order(staff, data):
    run = data["run"]
    for seq in range(3, 8):
        RunEventFactory(run=run, seq=seq, type=f"type-{seq}")
    html = staff.get(_url(type(run), "change", run.pk)).content.decode()
    positions = [html.index(f"type-{seq}") for seq in range(3, 8)]
    assert positions == sorted(positions)
    assert html.index("run.started") < positions[0]


def _changelist_queries(staff, model) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert staff.get(_url(model, "changelist")).status_code == 200
    return len(queries)


def test_changelists_have_no_n_plus_one(staff, data):
    from apps.chats.models import Run, RunEvent
    from apps.projects.models import Project

    models = [Message, Chat, Run, RunEvent, ApiKey, Project]
    few = {model: _changelist_queries(staff, model) for model in models}
    for _ in range(15):
        run = RunFactory(chat=ChatFactory(project__workspace=data["tenant"].workspace))
        RunEventFactory(run=run, seq=1)
        MessageFactory(chat=run.chat)
    many = {model: _changelist_queries(staff, model) for model in models}
    assert many == few


def test_api_key_add_shows_the_raw_key_once_and_stores_only_its_hash(staff, data):
    tenant = data["tenant"]
    response = staff.post(
        _url(ApiKey, "add"), {"workspace": str(tenant.workspace.pk), "user": "", "name": "from admin"}
    )
    assert response.status_code == 302
    key = ApiKey.objects.get(name="from admin")
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    raw = next(word for text in texts for word in text.split() if word.startswith("bp_"))
    assert hash_api_key(raw) == key.key_hash and raw.startswith(key.prefix)

    # The redirect target shows it once; no page shows it again, nor the hash.
    shown_once = staff.get(response["Location"]).content.decode()
    assert raw in shown_once and key.key_hash not in shown_once
    change_page = staff.get(_url(ApiKey, "change", key.pk)).content.decode()
    listing = staff.get(_url(ApiKey, "changelist")).content.decode()
    for html in (change_page, listing):
        assert raw not in html and key.key_hash not in html
    assert key.prefix in listing


def test_api_key_revoke_action(staff, data):
    tenant = data["tenant"]
    staff.post(_url(ApiKey, "changelist"),
               {"action": "revoke", "_selected_action": [str(tenant.api_key.pk)]})
    tenant.api_key.refresh_from_db()
    assert tenant.api_key.revoked_at is not None
    assert tenant.client.get("/api/projects").status_code == 401


def test_non_staff_cannot_open_the_admin(client, tenant):
    client.force_login(tenant.user)
    response = client.get(_url(Chat, "changelist"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
