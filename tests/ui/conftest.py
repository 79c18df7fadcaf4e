"""Browser tests: Debian's Chromium driven by Playwright against a live ASGI server on 127.0.0.1.

The server is ``tests/streaming/conftest.py``'s ``asgi_server`` (the project's ASGI app in this
test's event loop, real Postgres); Playwright's async API shares that loop. The offline model
answers slowly enough (``OFFLINE_TOKEN_DELAY_MS``) to stop or reload a page mid-answer.
Set ``UI_SCREENSHOTS=1`` to save the main views to docs/img/.
"""
from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from tests.conftest import Tenant, make_tenant
from tests.engine.conftest import fake_openai, fast_engine, runtime_cleanup  # noqa: F401
from tests.streaming.conftest import LiveServer, asgi_server  # noqa: F401

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PASSWORD = "correct horse battery staple"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "img"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if os.path.exists(CHROMIUM):
        return
    skip = pytest.mark.skip(reason=f"{CHROMIUM} is missing (scripts/ensure-browser.sh installs it)")
    for item in items:
        if "tests/ui/" in str(item.fspath) and item.get_closest_marker("browser"):
            if os.environ.get("CI"):
                continue  # CI must have the browser: let the launch fail loudly
            item.add_marker(skip)


@dataclass
class UiUser:
    tenant: Tenant
    username: str
    password: str = PASSWORD


@dataclass
class Browser:
    """One Chromium, and what its pages did that a test must see: dialogs, page errors."""

    browser: Any
    base_url: str
    dialogs: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    contexts: list[Any] = field(default_factory=list)

    async def new_page(self, context: Any | None = None) -> Any:
        if context is None:
            context = await self.browser.new_context(viewport={"width": 1400, "height": 900}, base_url=self.base_url)
            self.contexts.append(context)
        page = await context.new_page()
        page.set_default_timeout(20_000)

        async def on_dialog(dialog: Any) -> None:
            self.dialogs.append(f"{dialog.type}: {dialog.message}")
            await dialog.dismiss()

        page.on("dialog", on_dialog)
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        return page


@pytest.fixture
def ui_settings(fast_engine: Any) -> Any:  # noqa: F811
    # Slow enough to stop or reload mid-answer (the offline answer is a few hundred words).
    fast_engine.OFFLINE_TOKEN_DELAY_MS = 10
    fast_engine.UI_SERVE_STATIC = True
    return fast_engine


@pytest.fixture
async def ui_user(transactional_db: Any, ui_settings: Any, runtime_cleanup: Any) -> UiUser:  # noqa: F811
    def make() -> UiUser:
        tenant = make_tenant("ui")
        tenant.user.set_password(PASSWORD)  # type: ignore[attr-defined]
        tenant.user.save()  # type: ignore[attr-defined]
        return UiUser(tenant=tenant, username=tenant.user.username)  # type: ignore[attr-defined]

    return await sync_to_async(make)()


@pytest.fixture
async def browser(asgi_server: LiveServer, ui_settings: Any) -> AsyncIterator[Browser]:  # noqa: F811
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        driver = Browser(browser=chromium, base_url=asgi_server.url)
        try:
            yield driver
        finally:
            for context in driver.contexts:
                await context.close()
            await chromium.close()


async def login(browser: Browser, user: UiUser, context: Any | None = None) -> Any:
    page = await browser.new_page(context)
    await page.goto("/")
    await page.get_by_label("Username").fill(user.username)
    await page.get_by_label("Password").fill(user.password)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(f"{browser.base_url}/")
    return page


async def open_chat(page: Any, project_id: Any, chat_id: Any) -> None:
    await page.goto(f"/projects/{project_id}/chats/{chat_id}/")
    await page.wait_for_selector("body[data-ready=true]")


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 20.0, what: str = "condition") -> None:
    """Poll an async condition (a database row, a page state) until it holds, within ``timeout``."""
    try:
        async with asyncio.timeout(timeout):
            while not await check():
                await asyncio.sleep(0.1)  # polling with a deadline; the condition is the real wait
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None


async def screenshot(page: Any, name: str) -> None:
    if os.environ.get("UI_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


async def assistant_state(page: Any) -> list[dict[str, Any]]:
    """The chat client's assistant messages: id, content, status (what the page rendered from)."""
    return await page.evaluate(
        "() => window.blueprintChat.state.messages.filter(m => m.role === 'assistant')"
        ".map(m => ({id: m.id, content: m.content, status: m.status, runId: m.runId}))"
    )
