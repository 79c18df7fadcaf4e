"""Error banners (rate limit with countdown, out of credit, provider down with retry); validation by the input."""
from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest

from apps.chats.models import Chat, Message
from apps.core.models import Workspace
from tests.engine.conftest import FAKE_MODEL
from tests.fakes.script import Script
from tests.ui.conftest import login, open_chat, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


async def chat_page(browser, user):
    chat = await Chat.objects.aget(project=user.tenant.project, is_default=True)
    page = await login(browser, user)
    await open_chat(page, user.tenant.project.pk, chat.pk)
    return page, chat


async def send(page, text: str) -> None:
    await page.get_by_label("Message", exact=True).fill(text)
    await page.get_by_role("button", name="Send").click()


async def test_rate_limited_shows_a_countdown_and_holds_the_send_button(browser, ui_user, ui_settings):
    ui_settings.RATE_LIMIT_PER_MINUTE = 1
    page, chat = await chat_page(browser, ui_user)
    await send(page, "A library with books and loans")
    await page.locator(".message.assistant[data-status=complete]").wait_for(timeout=60_000)
    # The limit counts per fixed minute: a second send just after a minute boundary would be allowed.
    # Spend this window and the next so that the second send is over the limit whenever it lands.
    await _spend_windows(f"user:{ui_user.tenant.user.pk}", limit=1)
    await send(page, "And members")
    banner = page.locator(".banner[data-code=RATE_LIMITED]")
    await banner.wait_for()
    first = await banner.text_content() or ""
    match = re.search(r"send again in (\d+) s", first)
    assert match and 1 <= int(match.group(1)) <= 61
    assert await page.get_by_role("button", name="Send").is_disabled()
    assert await page.get_by_label("Message", exact=True).input_value() == "And members"  # kept for later
    await page.wait_for_function(
        "seconds => { const m = document.querySelector('.banner[data-code=RATE_LIMITED] .banner-text')"
        ".textContent.match(/in (\\d+) s/); return m && Number(m[1]) < seconds; }",
        arg=int(match.group(1)), timeout=5_000)  # the countdown ticks
    await screenshot(page, "rate-limited")
    assert await Message.objects.filter(chat=chat, content="And members").acount() == 0


async def _spend_windows(key: str, *, limit: int) -> None:
    from django.utils import timezone

    from apps.core.models import RateLimitCounter

    now = timezone.now().replace(second=0, microsecond=0)
    for window in (now, now + timedelta(minutes=1)):
        await RateLimitCounter.objects.aupdate_or_create(key=key, window_start=window, defaults={"count": limit})


async def test_out_of_credit_is_a_clear_banner(browser, ui_user):
    await Workspace.objects.filter(pk=ui_user.tenant.workspace.pk).aupdate(credit_limit=Decimal("0"))
    page, chat = await chat_page(browser, ui_user)
    await send(page, "A clinic with patients and appointments")
    banner = page.locator(".banner[data-code=credit_exhausted]")
    await banner.wait_for()
    assert "Out of credit" in (await banner.text_content() or "")
    assert await page.locator(".message").count() == 0
    assert await Message.objects.filter(chat=chat).acount() == 0


async def test_provider_down_offers_a_retry_that_answers(browser, ui_user, ui_settings, fake_openai):
    ui_settings.PROVIDER_MAX_RETRIES = 0
    fake_openai.enqueue(Script.error(503, error_message="upstream overloaded"))
    fake_openai.set_script(Script.from_text("Back again: posts and authors."))
    page, _chat = await chat_page(browser, ui_user)
    await page.get_by_label("Model", exact=True).select_option(FAKE_MODEL)
    await send(page, "A blog")
    banner = page.locator(".banner[data-code=model_unavailable]")
    await banner.wait_for()
    assert "not answering" in (await banner.text_content() or "")
    await page.locator(".message.assistant[data-status=error]").wait_for()
    await banner.get_by_role("button", name="Retry").click()
    await page.locator(".message.assistant[data-status=complete]", has_text="Back again").wait_for()
    assert await page.locator(".banner").count() == 0


async def test_validation_errors_appear_next_to_the_input(browser, ui_user, ui_settings):
    ui_settings.CHAT_MAX_MESSAGE_LENGTH = 20
    page, chat = await chat_page(browser, ui_user)
    await send(page, "x" * 40)
    error = page.locator("#composer-error")
    await error.filter(has_text="20").wait_for()
    box = page.get_by_label("Message", exact=True)
    assert await box.get_attribute("aria-invalid") == "true"
    assert await box.input_value() == "x" * 40
    assert await Message.objects.filter(chat=chat).acount() == 0
    await box.fill("   ")
    await page.get_by_role("button", name="Send").click()
    await error.filter(has_text="Write a message first").wait_for()
