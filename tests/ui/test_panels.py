"""Documents panel (drag-and-drop upload, status, delete, citations) and the plan panel."""
from __future__ import annotations

import json
from typing import Any

import pytest
from django.urls import Resolver404, resolve

from apps.chats.models import Chat
from apps.knowledge.models import Document
from tests.ui.conftest import eventually, login, open_chat, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HOSTILE_NAME = "berths<img src=x onerror=window.__xss=1>.md"  # multipart sends " as %22
DOCUMENT = """# Berth scheduling

The berth scheduler assigns each arriving vessel to a free berth by length and draught.
Pilots confirm every assignment. <script>window.__xss = 'doc'</script>
<img src=x onerror="window.__xss = 'doc-img'">
"""


def plan_routes_exist() -> bool:
    try:
        resolve("/api/plans/x")
    except Resolver404:
        return False
    return True


async def drop_file(page: Any, name: str, content: str) -> None:
    await page.locator("#drop-zone").evaluate(
        """(zone, file) => {
            const transfer = new DataTransfer();
            transfer.items.add(new File([file.content], file.name, { type: 'text/markdown' }));
            zone.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
        }""",
        {"name": name, "content": content},
    )


async def test_documents_upload_by_drop_show_status_cite_and_delete(browser, ui_user):
    project = ui_user.tenant.project
    chat = await Chat.objects.aget(project=project, is_default=True)
    page = await login(browser, ui_user)
    await open_chat(page, project.pk, chat.pk)
    await drop_file(page, HOSTILE_NAME, DOCUMENT)
    item = page.locator("#document-list .document", has_text="berths")
    await item.locator(".badge", has_text="ready").wait_for(timeout=120_000)
    assert await item.locator(".item-name").text_content() == HOSTILE_NAME
    document = await Document.objects.aget(project=project)
    assert document.status == "ready" and "Berth scheduling" in document.content

    await page.get_by_label("Message", exact=True).fill("How does the berth scheduler assign vessels to berths?")
    await page.get_by_label("Message", exact=True).press("Enter")
    citation = page.locator(".message.assistant .citation").first
    await citation.wait_for(timeout=60_000)
    assert "berths" in (await citation.text_content() or "")
    await page.locator(".message.assistant[data-status=complete]").wait_for(timeout=60_000)
    await citation.click()
    dialog = page.get_by_role("dialog")
    await dialog.wait_for()
    assert await dialog.get_by_role("heading").text_content() == HOSTILE_NAME
    snippet = await page.locator("#source-dialog-text").text_content() or ""
    assert "berth" in snippet.lower()
    assert await page.locator("#source-dialog-text *").count() == 0  # text, never markup
    await screenshot(page, "documents-and-citation")
    await dialog.get_by_role("button", name="Close").click()

    await item.get_by_role("button", name=f"Delete {HOSTILE_NAME}").click()
    await item.get_by_role("button", name=f"Confirm deleting {HOSTILE_NAME}").click()
    await item.wait_for(state="detached")
    assert not await Document.objects.filter(project=project).aexists()
    assert await page.evaluate("() => window.__xss") is None
    assert browser.dialogs == [] and browser.page_errors == []


async def test_a_refused_upload_says_why(browser, ui_user):
    chat = await Chat.objects.aget(project=ui_user.tenant.project, is_default=True)
    page = await login(browser, ui_user)
    await open_chat(page, ui_user.tenant.project.pk, chat.pk)
    await page.locator("#document-input").set_input_files(
        files=[{"name": "empty.md", "mimeType": "text/markdown", "buffer": b""}])
    await page.locator(".panel-note.error", has_text="empty.md").wait_for()
    assert not await Document.objects.filter(project=ui_user.tenant.project).aexists()


@pytest.mark.skipif(plan_routes_exist(), reason="the plan endpoints exist on this branch")
async def test_the_plan_panel_hides_itself_without_plan_endpoints(browser, ui_user):
    chat = await Chat.objects.aget(project=ui_user.tenant.project, is_default=True)
    page = await login(browser, ui_user)
    await open_chat(page, ui_user.tenant.project.pk, chat.pk)
    assert await page.locator("#plan-panel").is_hidden()
    assert await page.locator("#documents-panel").is_visible()


@pytest.mark.skipif(not plan_routes_exist(), reason="the plan endpoints (issue: plans) are not merged yet")
async def test_the_plan_panel_shows_edits_and_runs_a_plan(browser, ui_user):
    project = ui_user.tenant.project
    chat = await Chat.objects.aget(project=project, is_default=True)
    page = await login(browser, ui_user)
    await open_chat(page, project.pk, chat.pk)
    panel = page.locator("#plan-panel")
    await panel.wait_for()
    assert "No plan yet" in (await page.locator("#plan-status").text_content() or "")

    # Make a plan through the plan endpoint (seed 001), as the page's session.
    token = await page.evaluate("() => document.querySelector('meta[name=csrf-token]').content")
    response = await page.request.post(
        f"/api/plan/{project.pk}", headers={"X-CSRFToken": token, "Content-Type": "application/json"},
        data=json.dumps({"chatId": str(chat.pk), "text": "Plan a berth scheduler with vessels and berths"}),
        timeout=60_000)
    assert response.ok, await response.text()
    assert "plan.ready" in await response.text()
    await page.reload()
    await page.wait_for_selector("body[data-ready=true]")
    steps = page.locator("#plan-steps .plan-step")
    await steps.first.wait_for()
    count = await steps.count()
    assert count >= 1 and await steps.first.locator("[class*=risk-]").count() == 1

    await page.get_by_role("button", name="Edit").click()
    await page.get_by_label("Step 1 title").fill("Model vessels first")
    await page.get_by_role("button", name="Save plan").click()
    await page.locator("#plan-steps .plan-step strong", has_text="Model vessels first").wait_for()
    again = await page.request.get(f"/api/plan/{project.pk}/{chat.pk}")
    assert (await again.json())["steps"][0]["title"] == "Model vessels first"

    await page.get_by_role("button", name="Run plan").click()

    async def finished() -> bool:
        data = await (await page.request.get(f"/api/plan/{project.pk}/{chat.pk}")).json()
        return data["status"] in {"completed", "failed"}

    await eventually(finished, timeout=120, what="the plan run to finish")
    await page.locator("#plan-steps .plan-step[data-status=done]").first.wait_for(timeout=30_000)
    await screenshot(page, "plan")
