"""REST: POST /api/direct-save/{projectId} — versions, errors, and the event in a chat's live run."""
from __future__ import annotations

import asyncio
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from rest_framework.test import APIClient

from apps.chats.models import Chat, RunEvent
from apps.engine import api as engine
from apps.projects.file_services import project_file_write
from apps.projects.models import ProjectFile, ProjectFileVersion
from tests.engine.conftest import FAKE_MODEL, default_chat, make_request, text_script
from tests.projects.direct_save_helpers import assert_only

COMPONENT = """export default function Card({ title }: { title: string }) {\r
  return (\r
    <article className="card">\r
      <h2 className="card__title">Hello</h2>\r
      {title && <p className="sub">{title}</p>}\r
    </article>\r
  );\r
}\r
"""


def url(tenant) -> str:
    return f"/api/direct-save/{tenant.project.pk}"


def patch(selector: str, prop: str, value: str) -> dict[str, str]:
    return {"selector": selector, "property": prop, "value": value}


@pytest.fixture
def card(tenant) -> ProjectFile:
    return project_file_write(project=tenant.project, path="src/Card.tsx", content=COMPONENT, source="api")


@pytest.mark.django_db
def test_patches_make_a_direct_save_version_touching_only_the_patched_text(tenant, card):
    response = tenant.client.post(url(tenant), {
        "filePath": "src/Card.tsx", "expectedVersion": 1,
        "patches": [patch("h2.card__title", "text", "Welcome"), patch("article", "style.padding", "1rem")],
    }, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["version"] == 2 and body["path"] == "src/Card.tsx" and response["ETag"] == '"2"'
    assert body["notifiedRunId"] is None  # no live run in the default chat
    card.refresh_from_db()
    assert card.version == 2
    assert card.content == COMPONENT.replace(">Hello<", ">Welcome<").replace(
        '<article className="card">', '<article className="card" style={{ padding: "1rem" }}>'
    )
    latest = ProjectFileVersion.objects.get(file=card, version=2)
    assert latest.source == "direct_save" and latest.author == tenant.user and latest.content == card.content
    assert ProjectFileVersion.objects.get(file=card, version=1).content == COMPONENT


@pytest.mark.django_db
def test_if_match_header_works_and_a_stale_version_is_409(tenant, card):
    project_file_write(project=tenant.project, path="src/Card.tsx", content=COMPONENT + "\r\n", source="api")
    stale = tenant.client.post(url(tenant), {"filePath": "src/Card.tsx", "expectedVersion": 1,
                                             "patches": [patch("h2", "text", "x")]}, format="json")
    assert stale.status_code == 409
    assert stale.json()["error"]["code"] == "version_conflict" and stale.json()["error"]["currentVersion"] == 2
    by_header = tenant.client.post(url(tenant), {"filePath": "src/Card.tsx", "patches": [patch("h2", "text", "x")]},
                                   format="json", HTTP_IF_MATCH='"1"')
    assert by_header.status_code == 409
    assert ProjectFile.objects.get(path="src/Card.tsx").version == 2
    fresh = tenant.client.post(url(tenant), {"filePath": "src/Card.tsx", "patches": [patch("h2", "text", "x")]},
                               format="json", HTTP_IF_MATCH='"2"')
    assert fresh.status_code == 200 and fresh.json()["version"] == 3


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("patches", "code", "field", "says"),
    [
        ([patch("h2", "text", "ok"), patch("nav", "className", "x")], "no_match", "patches[1].selector", None),
        ([patch("*", "text", "x")], "ambiguous_match", "patches[0].selector", "matches 3 elements"),
        ([patch("p.sub", "text", "x")], "not_plain_text", "patches[0].property", "JSX expression"),
        ([patch("article", "text", "x")], "not_plain_text", "patches[0].property", "element children"),
        ([patch("h2", "style.color", "red;x:y")], "invalid_value", "patches[0].value", None),
        ([patch("h2::after", "text", "x")], "invalid_selector", "patches[0].selector", None),
    ],
)
def test_a_patch_that_cannot_apply_is_422_naming_it_and_nothing_is_written(tenant, card, patches, code, field, says):
    response = tenant.client.post(url(tenant), {"filePath": "src/Card.tsx", "patches": patches}, format="json")
    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert error["code"] == code and error["field"] == field
    index = int(field.split("[")[1].split("]")[0])
    assert error["index"] == index and error["selector"] == patches[index]["selector"]
    assert error["message"].startswith(f"patches[{index}] ({patches[index]['selector']!r}): ")
    if says:
        assert says in error["message"]
    card.refresh_from_db()
    assert card.version == 1 and card.content == COMPONENT
    assert ProjectFileVersion.objects.filter(file=card).count() == 1


@pytest.mark.django_db
def test_expression_class_name_and_unparsable_file_are_422(tenant):
    project_file_write(project=tenant.project, path="a.jsx", content="const A = () => <p className={x}>a</p>;\n",
                       source="api")
    project_file_write(project=tenant.project, path="b.jsx", content="const B = () => <p>a</div>;\n", source="api")
    project_file_write(project=tenant.project, path="c.css", content="p { color: red }\n", source="api")
    expr = tenant.client.post(url(tenant), {"filePath": "a.jsx", "patches": [patch("p", "className", "y")]},
                              format="json")
    assert expr.status_code == 422 and expr.json()["error"]["code"] == "expression_attribute"
    broken = tenant.client.post(url(tenant), {"filePath": "b.jsx", "patches": [patch("p", "text", "y")]},
                                format="json")
    assert broken.status_code == 422
    assert broken.json()["error"]["code"] == "unparsable_file" and broken.json()["error"]["field"] == "filePath"
    css = tenant.client.post(url(tenant), {"filePath": "c.css", "patches": [patch("p", "text", "y")]}, format="json")
    assert css.status_code == 422 and css.json()["error"]["code"] == "unsupported_file_type"
    assert set(ProjectFile.objects.values_list("version", flat=True)) == {1}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"patches": [patch("h2", "text", "x")]}, "filePath"),
        ({"filePath": "", "patches": [patch("h2", "text", "x")]}, "filePath"),
        ({"filePath": "../src/Card.tsx", "patches": [patch("h2", "text", "x")]}, "filePath"),
        ({"filePath": "src/Card.tsx"}, "patches"),
        ({"filePath": "src/Card.tsx", "patches": []}, "patches"),
        ({"filePath": "src/Card.tsx", "patches": "h2"}, "patches"),
        ({"filePath": "src/Card.tsx", "patches": ["h2"]}, "patches[0]"),
        ({"filePath": "src/Card.tsx", "patches": [{"property": "text", "value": "x"}]}, "patches[0].selector"),
        ({"filePath": "src/Card.tsx", "patches": [{"selector": "h2", "value": "x"}]}, "patches[0].property"),
        ({"filePath": "src/Card.tsx", "patches": [patch("h2", "text", "x"), {"selector": "h2", "property": "text",
                                                                            "value": 3}]}, "patches[1].value"),
        ({"filePath": "src/Card.tsx", "patches": [patch("h2", "text", "x")], "expectedVersion": "v1"},
         "expectedVersion"),
        ({"filePath": "src/Card.tsx", "patches": [patch("h2", "text", "x")], "expectedVersion": 0},
         "expectedVersion"),
        ({"filePath": "src/Card.tsx", "patches": [patch("h2", "text", "x")], "chatId": 7}, "chatId"),
    ],
)
def test_bad_input_is_400_naming_the_field(tenant, card, body, field):
    response = tenant.client.post(url(tenant), body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["error"]["field"] == field
    card.refresh_from_db()
    assert card.version == 1


@pytest.mark.django_db
def test_missing_file_and_foreign_chat_are_404(tenant, other_tenant, card):
    missing = tenant.client.post(url(tenant), {"filePath": "src/Nope.tsx", "patches": [patch("h2", "text", "x")]},
                                 format="json")
    assert missing.status_code == 404
    foreign_chat = Chat.objects.get(project=other_tenant.project, is_default=True)
    response = tenant.client.post(url(tenant), {"filePath": "src/Card.tsx", "chatId": str(foreign_chat.pk),
                                                "patches": [patch("h2", "text", "x")]}, format="json")
    assert response.status_code == 404
    card.refresh_from_db()
    assert card.version == 1


def _client(tenant: Any) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=tenant.raw_key)
    return client


@pytest.mark.django_db(transaction=True)
async def test_the_chats_live_run_streams_file_updated_in_sequence(tenant_async, fake_openai):
    """A direct-save during a run: subscribers of that run see ``file.updated`` with the next seq."""
    tenant = tenant_async
    await sync_to_async(project_file_write)(project=tenant.project, path="src/Card.tsx", content=COMPONENT,
                                            source="api")
    # The model says three words, then stalls until the run is stopped.
    fake_openai.set_script(text_script(10, stall_after=3, stall_seconds=20))
    chat = await default_chat(tenant)
    handle = await engine.start_run(await make_request(tenant, model=FAKE_MODEL, chat=chat))
    sub = await engine.subscribe(handle.run_id)
    events: list[dict[str, Any]] = []
    response = None
    async with asyncio.timeout(30):
        async for event in sub:
            events.append(event)
            if event["type"] == "assistant.message_delta" and response is None:
                response = await sync_to_async(_client(tenant).post)(
                    f"/api/direct-save/{tenant.project.pk}",
                    {"filePath": "src/Card.tsx", "chatId": str(chat.pk), "patches": [patch("h2", "text", "Live")]},
                    format="json",
                )
                assert response.status_code == 200, response.content
                assert response.json()["notifiedRunId"] == handle.run_id
            if event["type"] == "file.updated":
                await engine.stop_run(handle.run_id)
    sub.close()
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    updated = [e for e in events if e["type"] == "file.updated"]
    assert len(updated) == 1
    assert updated[0] == {**updated[0], "path": "src/Card.tsx", "version": 2, "source": "direct_save",
                          "runId": handle.run_id, "chatId": str(chat.pk)}
    assert events[-1]["type"] == "session.task_complete" and events[-1]["status"] == "stopped"
    # Persisted like any event of the run: a resume after reload sees it too.
    stored = await RunEvent.objects.filter(run_id=handle.run_id, type="file.updated").aget()
    assert stored.seq == updated[0]["seq"] and stored.payload["version"] == 2
    file = await ProjectFile.objects.aget(project=tenant.project, path="src/Card.tsx")
    assert assert_only(COMPONENT, file.content, ">Hello<", ">Live<") is None
