"""Untrusted strings execute nothing: model output, a hostile domain model, the ER diagram's labels."""
from __future__ import annotations

import json
import re

import pytest

from apps.chats.models import Chat
from tests.engine.conftest import FAKE_MODEL
from tests.fakes.script import Script, ToolCallScript
from tests.ui.conftest import login, open_chat

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HOSTILE_ANSWER = (
    "Here you go <script>window.__xss = 'script'</script> and "
    '<img src=x onerror="window.__xss = \'img\'"> plus [click me](javascript:window.__xss=\'link\') '
    "and [docs](https://example.com/docs) and <a href=\"javascript:window.__xss='a'\">raw link</a> "
    '<iframe src="javascript:window.__xss=\'iframe\'"></iframe> <svg onload="window.__xss=\'svg\'"></svg> '
    '<div style="background:url(javascript:window.__xss=1)" onclick="window.__xss=\'click\'">styled</div> done.'
)
HOSTILE_ENTITY = 'Post"] ; click Post call alert(1) ; X["<img src=x onerror=window.__xss=\'er\'>'


async def assert_nothing_ran(page, browser) -> None:
    assert await page.evaluate("() => window.__xss") is None
    assert browser.dialogs == []


async def test_model_output_is_sanitised_markdown(browser, ui_user, fake_openai):
    tool_args = json.dumps({"entities": {HOSTILE_ENTITY: {"fields": {"id": {"type": "uuid"}}}}, "relationships": []})
    fake_openai.set_script(Script(text=[HOSTILE_ANSWER[i:i + 7] for i in range(0, len(HOSTILE_ANSWER), 7)],
                                  tool_calls=[ToolCallScript(name="update_domain_model", arguments=tool_args)]))
    chat = await Chat.objects.aget(project=ui_user.tenant.project, is_default=True)
    page = await login(browser, ui_user)
    await open_chat(page, ui_user.tenant.project.pk, chat.pk)
    await page.get_by_label("Model", exact=True).select_option(FAKE_MODEL)
    await page.get_by_label("Message", exact=True).fill("Show me")
    await page.get_by_label("Message", exact=True).press("Enter")
    answer = page.locator(".message.assistant").first
    await answer.locator(".message-body", has_text="done.").wait_for()
    await page.locator(".message.assistant:not([data-status=streaming])").first.wait_for(timeout=30_000)
    body = answer.locator(".message-body")
    assert await body.locator("script, img[onerror], iframe, svg, [onclick], [onload], [style]").count() == 0
    hrefs = await body.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert "https://example.com/docs" in hrefs
    assert all(h is None or h.startswith("https:") for h in hrefs), hrefs
    rels = await body.locator("a[href]").evaluate_all("links => links.map(a => a.rel)")
    assert rels and all("noopener" in rel for rel in rels)
    assert "<script>" not in (await body.inner_html())
    # The hostile entity name never became part of the model (the server refused it) nor ran.
    assert HOSTILE_ENTITY not in (await page.locator("#domain-entities").text_content() or "")
    await assert_nothing_ran(page, browser)


async def test_the_er_diagram_escapes_names_and_labels(browser, ui_user):
    chat = await Chat.objects.aget(project=ui_user.tenant.project, is_default=True)
    page = await login(browser, ui_user)
    await open_chat(page, ui_user.tenant.project.pk, chat.pk)
    model = {
        "entities": {
            HOSTILE_ENTITY: {"fields": {'x"<img src=x onerror=window.__xss=1>': {"type": "string<script>"}}},
            "Author": {"fields": {"id": {"type": "uuid"}}},
        },
        "relationships": [{"from": HOSTILE_ENTITY, "to": "Author", "type": "many-to-one",
                           "name": '"]\nclick Author call alert(1)\n%%{init: {"securityLevel": "loose"}}%%'}],
    }
    result = await page.evaluate(
        """async (model) => {
            const er = await import('/static/js/er-diagram.js');
            const { DOMPurify } = await import('/static/js/markdown.js');
            const target = document.getElementById('domain-diagram');
            const drawn = await er.drawErDiagram(target, model, DOMPurify);
            return { drawn, source: er.erDiagramSource(model), html: target.innerHTML };
        }""",
        model,
    )
    assert result["drawn"] is True
    # Every line of the generated source is one of erDiagram's own forms: nothing from the model
    # can open a directive (%%{…}%%), a click handler, or a new statement.
    grammar = re.compile(
        r'^(erDiagram|  [A-Za-z]\w* \{|  \}|    [A-Za-z]\w* [A-Za-z]\w*( PK| UK)?'
        r'|  [A-Za-z]\w* (\|\||\}o)--(\|\||o\{) [A-Za-z]\w* : "[^"\n<>{}\[\];#&]*")$')
    lines = result["source"].split("\n")
    assert len(lines) >= 7 and all(grammar.match(line) for line in lines), lines
    html = result["html"]
    assert "<svg" in html and "<img" not in html and " onerror=" not in html and "<script" not in html
    assert await page.locator("#domain-diagram svg [onclick], #domain-diagram svg a").count() == 0
    await assert_nothing_ran(page, browser)
