"""Direct-save on HTML (pure): only the patched bytes change, refusals say why."""
from __future__ import annotations

import pytest

from apps.projects.direct_save import html
from apps.projects.direct_save.apply import DirectSaveError, file_kind
from apps.projects.direct_save.selectors import parse_selector, select
from tests.projects.direct_save_helpers import assert_only, changed_span, patched

PAGE = """<!DOCTYPE html>
<html lang="de">
<head>
  <meta charset="utf-8">
  <title>Café Zürich</title>
  <style>.hero { color: red }</style>
</head>
<body>
  <!-- hero section -->
  <section class="hero" id=top style="color: #111;margin:0">
    <h1 class="title">Willkommen &amp; grüß Gott</h1>
    <p class=lead>Frischer Kaffee.</p>
    <img src="cup.png" alt='' >
    <input type="checkbox" checked>
    <p>Zweiter <em>Absatz</em></p>
    <br/>
  </section>
  <script>if (a < b) { go(); }</script>
</body>
</html>
"""


def test_text_is_escaped_and_entities_decode_for_matching():
    new = patched(PAGE, "html", "h1.title", "text", "Tom & Jerry <3")
    assert_only(PAGE, new, "Willkommen &amp; grüß Gott", "Tom &amp; Jerry &lt;3")
    (element,) = select(parse_selector("section#top > h1"), html.parse(new.encode()))
    assert element.tag == "h1"


def test_attributes_keep_their_quotes_or_get_double_quotes():
    single = patched(PAGE, "html", "img", "alt", "It's a cup")
    assert_only(PAGE, single, "alt=''", "alt='It&#39;s a cup'")
    unquoted = patched(PAGE, "html", "p.lead", "className", 'lead "big"')
    assert_only(PAGE, unquoted, "class=lead", 'class="lead &quot;big&quot;"')
    boolean = patched(PAGE, "html", "input", "checked", "checked")
    assert_only(PAGE, boolean, "checkbox\" checked>", 'checkbox" checked="checked">')
    added = patched(PAGE, "html", "br", "data-x", "1")
    assert_only(PAGE, added, "<br/>", '<br data-x="1"/>')
    case = patched(PAGE, "html", "html", "LANG", "en")
    assert_only(PAGE, case, 'lang="de"', 'lang="en"')


def test_style_declarations_are_edited_in_place():
    replaced = patched(PAGE, "html", "#top", "style.color", "blue")
    assert_only(PAGE, replaced, 'style="color: #111;margin:0"', 'style="color: blue;margin:0"')
    added = patched(PAGE, "html", "#top", "style.paddingTop", "4px")
    assert_only(PAGE, added, 'style="color: #111;margin:0"', 'style="color: #111;margin:0; padding-top: 4px"')
    created = patched(PAGE, "html", "h1", "style.font-weight", "bold")
    assert_only(PAGE, created, 'class="title">', 'class="title" style="font-weight: bold">')
    with pytest.raises(DirectSaveError) as caught:
        patched(PAGE, "html", "h1", "style.color", "red} body{display:none")
    assert caught.value.code == "invalid_value"


@pytest.mark.parametrize(
    ("selector", "prop", "code", "says"),
    [
        ("p:nth-of-type(2)", "text", "not_plain_text", "has element children"),
        ("section", "text", "not_plain_text", "has element children"),
        ("img", "text", "not_plain_text", "no closing tag"),
        ("script", "text", "not_plain_text", "is code, not text"),
        ("style", "text", "not_plain_text", "is code, not text"),
        ("p", "text", "ambiguous_match", "matches 2 elements (lines 12, 15)"),
        ("section.hero.dark", "text", "no_match", "matches no element"),
        ("h1", "on click", "invalid_property", "not an HTML attribute"),
    ],
)
def test_refusals_name_the_problem(selector, prop, code, says):
    with pytest.raises(DirectSaveError) as caught:
        patched(PAGE, "html", selector, prop, "x")
    assert caught.value.code == code and says in caught.value.message


def test_comments_in_an_element_are_not_plain_text():
    source = "<p>Hi <!-- keep --> there</p>\n"
    with pytest.raises(DirectSaveError, match="contains a comment"):
        patched(source, "html", "p", "text", "Bye")


def test_empty_element_gets_text_and_crlf_is_kept():
    source = "<ul>\r\n  <li class=\"a\"></li>\r\n  <li class=\"b\">\r\n    Old\r\n  </li>\r\n</ul>\r\n"
    empty = patched(source, "html", "li.a", "text", "New")
    assert_only(source, empty, '"a"></li>', '"a">New</li>')
    kept = patched(source, "html", "li.b", "text", "Neu")
    assert changed_span(source, kept) == (b"Old", b"Neu")
    assert kept.count("\r\n") == source.count("\r\n")


def test_unparsable_html_is_refused():
    with pytest.raises(DirectSaveError) as caught:
        patched("<div><p>x</div>>>\n<", "html", "p", "text", "y")
    assert caught.value.code == "unparsable_file" and "line 1" in caught.value.message


@pytest.mark.parametrize(
    ("path", "kind"),
    [("index.html", "html"), ("a/B.HTM", "html"), ("src/App.jsx", "jsx"), ("src/App.tsx", "jsx")],
)
def test_file_kinds(path, kind):
    assert file_kind(path) == kind


@pytest.mark.parametrize("path", ["src/app.ts", "style.css", "README", "x.vue"])
def test_other_files_are_not_supported(path):
    with pytest.raises(DirectSaveError) as caught:
        file_kind(path)
    assert caught.value.code == "unsupported_file_type"


@pytest.mark.parametrize("prop", ["data-qa", "className", "style.color", "text"])
def test_every_element_takes_an_edit_inside_itself_or_a_clear_refusal(prop):
    from apps.projects.direct_save.common import PatchRefused

    source = PAGE.encode()
    elements = html.parse(source)
    edited = refused = 0
    for index in range(len(elements)):
        element = html.parse(source)[index]
        try:
            change = html.edit(element, prop, "Wert ✓ \"q\" <x> & 'y'", source)
        except PatchRefused as exc:
            assert exc.code == "not_plain_text" and exc.message
            refused += 1
            continue
        node = element.node
        assert node.start_byte <= change.start <= change.end <= node.end_byte
        new = source[:change.start] + change.text + source[change.end:]
        assert new[:node.start_byte] == source[:node.start_byte]
        assert new[len(new) - (len(source) - node.end_byte):] == source[node.end_byte:]
        after = html.parse(new)
        assert [e.tag for e in after] == [e.tag for e in elements]
        if prop == "data-qa":
            assert after[index].attribute("data-qa") == "Wert ✓ \"q\" <x> & 'y'"
        edited += 1
    assert edited >= 3 and edited + refused == len(elements)
