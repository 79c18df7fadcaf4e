"""The chat view: streaming, stop, reload mid-answer, a second tab, history paging."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from apps.chats.models import Chat, Message, Run
from tests.ui.conftest import assistant_state, eventually, login, open_chat, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCROLL_TOP = "node => { node.scrollTop = 0; node.dispatchEvent(new Event('scroll')); }"
PROMPT = "I need an online shop with customers, orders, products, invoices and shipments"


async def default_chat(user: Any) -> Chat:
    return await Chat.objects.aget(project=user.tenant.project, is_default=True)


async def send(page: Any, text: str = PROMPT) -> None:
    await page.get_by_label("Message", exact=True).fill(text)
    await page.get_by_label("Message", exact=True).press("Enter")


async def streamed_text(page: Any, at_least: int) -> str:
    """Wait until the streaming answer shows at least ``at_least`` characters; return them."""
    locator = page.locator(".message.assistant[data-status=streaming] .message-body")
    await locator.wait_for()

    async def long_enough() -> bool:
        return len(await locator.text_content() or "") >= at_least

    await eventually(long_enough, what=f"{at_least} streamed characters")
    return await locator.text_content() or ""


async def stored_answer(run_id: str) -> Message:
    run = await Run.objects.aget(pk=run_id)
    return await Message.objects.aget(pk=run.assistant_message_id)


async def test_an_answer_streams_with_markdown_usage_and_the_domain_model(browser, ui_user):
    chat = await default_chat(ui_user)
    page = await login(browser, ui_user)
    await open_chat(page, ui_user.tenant.project.pk, chat.pk)
    await send(page)
    await page.locator(".message.user", has_text="online shop").wait_for()
    partial = await streamed_text(page, 20)
    assert await page.get_by_role("button", name="Stop the answer").is_visible()
    await page.locator(".message.assistant[data-status=complete]").wait_for(timeout=60_000)
    final = await page.locator(".message.assistant .message-body").text_content() or ""
    assert len(final) > len(partial) and "Blueprint offline" in partial and "Blueprint offline" in final
    assert await page.locator(".message.assistant .message-body em").count() >= 1  # Markdown became HTML

    [state] = await assistant_state(page)
    stored = await stored_answer(state["runId"])
    assert stored.status == "complete" and stored.content == state["content"]
    usage = page.locator(".message.assistant .usage")
    await usage.wait_for()
    assert f"{stored.input_tokens} in · {stored.output_tokens} out" in (await usage.text_content() or "")
    assert "This chat:" in (await page.locator("#chat-usage").text_content() or "")
    assert not await page.get_by_role("button", name="Stop the answer").is_visible()

    # The domain-model panel followed the dsl.update events and drew the ER diagram.
    await page.locator("#domain-entities .entity > strong").get_by_text("Order", exact=True).wait_for()
    await page.locator("#domain-diagram svg").wait_for()
    assert int(await page.locator("#domain-version").text_content() or 0) >= 1
    assert await page.locator("#domain-phase").text_content() in {"proposing", "refining", "ready"}
    await page.locator("#domain-versions-box summary").click()
    await page.locator("#domain-versions button").first.click()
    await page.locator("#domain-diff", has_text="+ entity").wait_for()
    href = await page.get_by_role("link", name="SQL").get_attribute("href")
    assert href == f"/api/chats/{chat.pk}/domain-model/export?format=sql"
    export = await page.request.get(href)
    assert export.ok and "CREATE TABLE" in await export.text()
    await screenshot(page, "chat")
    assert browser.page_errors == [] and browser.dialogs == []


async def test_escape_stops_mid_answer_and_keeps_the_partial_text(browser, ui_user):
    chat = await default_chat(ui_user)
    page = await login(browser, ui_user)
    await open_chat(page, ui_user.tenant.project.pk, chat.pk)
    await send(page)
    await streamed_text(page, 30)
    await page.keyboard.press("Escape")
    await page.locator(".message.assistant[data-status=stopped]").wait_for()
    [state] = await assistant_state(page)
    stored = await stored_answer(state["runId"])
    run = await Run.objects.aget(pk=state["runId"])
    assert run.status == "stopped" and stored.status == "stopped"
    assert stored.content == state["content"] and 30 <= len(stored.content)
    assert await page.locator(".message.assistant .badge", has_text="stopped").count() == 1


async def test_a_reload_mid_answer_continues_without_duplicated_or_lost_text(browser, ui_user):
    chat = await default_chat(ui_user)
    page = await login(browser, ui_user)
    await open_chat(page, ui_user.tenant.project.pk, chat.pk)
    await send(page)
    before = await streamed_text(page, 40)
    [state] = await assistant_state(page)
    await page.reload()
    await page.wait_for_selector("body[data-ready=true]")
    # The page shows the run still streaming after the reload: the reload did not cancel it.
    await page.locator(".message.assistant[data-status=streaming]").wait_for()
    await page.locator(".message.assistant[data-status=complete]").wait_for(timeout=60_000)
    stored = await stored_answer(state["runId"])
    assert (await Run.objects.aget(pk=state["runId"])).status == "completed"
    [after] = await assistant_state(page)
    assert after["runId"] == state["runId"]
    assert after["content"] == stored.content  # replayed + live == what was stored: nothing doubled or lost
    assert stored.content.count(before[:40].strip()[:25]) == 1 or len(before) < 25
    assert await page.locator(".message").count() == 2


async def test_a_second_tab_follows_the_run_live_and_can_stop_it(browser, ui_user):
    chat = await default_chat(ui_user)
    first = await login(browser, ui_user)
    await open_chat(first, ui_user.tenant.project.pk, chat.pk)
    await send(first)
    await streamed_text(first, 20)
    second = await browser.new_page(first.context)
    await open_chat(second, ui_user.tenant.project.pk, chat.pk)
    await streamed_text(second, 40)  # the second tab shows the same answer, growing
    await second.get_by_role("button", name="Stop the answer").click()
    await second.locator(".message.assistant[data-status=stopped]").wait_for()
    await first.locator(".message.assistant[data-status=stopped]").wait_for()
    [one] = await assistant_state(first)
    [two] = await assistant_state(second)
    stored = await stored_answer(one["runId"])
    assert stored.status == "stopped" and one["content"] == two["content"] == stored.content


async def test_an_idle_tab_picks_up_a_run_started_elsewhere(browser, ui_user):
    chat = await default_chat(ui_user)
    watcher = await login(browser, ui_user)
    await open_chat(watcher, ui_user.tenant.project.pk, chat.pk)
    sender = await browser.new_page(watcher.context)
    await open_chat(sender, ui_user.tenant.project.pk, chat.pk)
    await send(sender)
    await streamed_text(watcher, 10)
    await watcher.locator(".message.assistant[data-status=complete]").wait_for(timeout=60_000)
    [state] = await assistant_state(watcher)
    assert state["content"] == (await stored_answer(state["runId"])).content


async def test_history_pages_back_as_the_conversation_scrolls_up(browser, ui_user):
    chat = await default_chat(ui_user)
    start = timezone.now() - timedelta(hours=1)

    def seed() -> None:
        Message.objects.bulk_create([
            Message(chat=chat, role="user" if i % 2 == 0 else "assistant", content=f"history message {i:02d}",
                    created_at=start + timedelta(seconds=i))
            for i in range(70)
        ])

    await sync_to_async(seed)()
    page = await login(browser, ui_user)
    await open_chat(page, ui_user.tenant.project.pk, chat.pk)
    messages = page.locator(".message .message-body")
    await page.locator(".message", has_text="history message 69").wait_for()
    assert await messages.count() == 30
    await page.locator("#messages").evaluate(SCROLL_TOP)
    await page.locator(".message", has_text="history message 39").wait_for()

    async def all_loaded() -> bool:
        await page.locator("#messages").evaluate(SCROLL_TOP)
        return await messages.count() == 70

    await eventually(all_loaded, what="all 70 messages")
    texts = await messages.all_text_contents()
    assert [t.strip() for t in texts] == [f"history message {i:02d}" for i in range(70)]
    assert not await page.get_by_role("button", name="Load older messages").is_visible()
