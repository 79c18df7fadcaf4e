"""The direct-save selector language (pure)."""
from __future__ import annotations

import pytest

from apps.projects.direct_save import html, jsx
from apps.projects.direct_save.selectors import AttrTest, Compound, SelectorError, parse_selector, select


def test_compounds_and_combinators_parse():
    assert parse_selector("h1.title#main") == (Compound(tag="h1", id="main", classes=("title",)),)
    assert parse_selector("section  .card > p:nth-of-type(2)") == (
        Compound(tag="section"),
        Compound(classes=("card",)),
        Compound(tag="p", nth_of_type=2, child_of_previous=True),
    )
    assert parse_selector("[data-role=hero][aria-label=\"Main menu\"][hidden]") == (
        Compound(attrs=(AttrTest("data-role", "hero"), AttrTest("aria-label", "Main menu"), AttrTest("hidden", None))),
    )
    assert parse_selector("[title='a b']") == (Compound(attrs=(AttrTest("title", "a b"),)),)
    assert parse_selector("*") == (Compound(),)
    assert parse_selector(r".md\:flex.w-1\/2") == (Compound(classes=("md:flex", "w-1/2")),)
    assert parse_selector(r"Motion\.div") == (Compound(tag="Motion.div"),)
    assert parse_selector(".ünïcode") == (Compound(classes=("ünïcode",)),)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "non-empty"),
        ("   ", "non-empty"),
        ("h1 >", "needs a selector after it"),
        ("a:hover", ":nth-of-type(n)"),
        ("p:nth-of-type(0)", "whole number"),
        ("p:nth-of-type(2n+1)", "whole number"),
        ("[data-x='open", "unterminated"),
        ("[data-x~=y]", "expected ']'"),
        ("h1#a#b", "two ids"),
        ("h1 + p", "expected a tag"),
        ("h1, h2", "unexpected ','"),
        ("x" * 501, "longer than 500"),
    ],
)
def test_unsupported_selectors_are_refused_with_the_position(text, says):
    with pytest.raises(SelectorError) as caught:
        parse_selector(text)
    assert says in str(caught.value)


def test_non_string_selector():
    with pytest.raises(SelectorError):
        parse_selector(None)


HTML = b"""<main>
  <section class="card featured" id="one"><h2>One</h2><p>a</p><p class="x">b</p></section>
  <section class="card"><h2>Two</h2><div><p>c</p></div></section>
  <P data-role="Hero">upper</P>
</main>"""


def texts(elements, source: bytes) -> list[str]:
    return [source[e.node.start_byte:e.node.end_byte].decode()[:30] for e in elements]


@pytest.mark.parametrize(
    ("selector", "count"),
    [
        ("section", 2),
        ("section.card.featured", 1),
        ("#one p", 2),
        ("section p", 3),
        ("section > p", 2),
        ("section > div > p", 1),
        ("p:nth-of-type(2)", 1),
        ("section:nth-of-type(2) h2", 1),
        ("p", 4),  # HTML tags are case-insensitive
        ("[data-role=Hero]", 1),
        ("[DATA-Role=Hero]", 1),  # so are attribute names
        ("[data-role=hero]", 0),  # values are not
        ("[class=card]", 1),
        ("main section.x", 0),
        ("div p.x", 0),
    ],
)
def test_matching_html(selector, count):
    found = select(parse_selector(selector), html.parse(HTML))
    assert len(found) == count, texts(found, HTML)


JSX = b"""export default function List({ items, open, cls }) {
  return (
    <>
      <ul className="menu">
        {items.map((item) => <li key={item.id} className="item">{item.name}</li>)}
        <li className="item last">static</li>
      </ul>
      {open && <Dialog title="Hi" />}
      <div className={cls} id="dyn">x</div>
    </>
  );
}
"""


@pytest.mark.parametrize(
    ("selector", "count"),
    [
        ("ul.menu li", 2),  # an element inside {items.map(...)} is a child of <ul>
        ("ul > li.last", 1),
        ("li:nth-of-type(2)", 1),
        ("Dialog[title=Hi]", 1),
        ("dialog", 0),  # JSX tags are case-sensitive
        ("#dyn", 1),
        ("div.anything", 0),  # className={cls} is unknown: never matches a class
        ("[className]", 4),
    ],
)
def test_matching_jsx(selector, count):
    found = select(parse_selector(selector), jsx.parse(JSX))
    assert len(found) == count, texts(found, JSX)


def test_fragments_are_not_elements_and_roots_have_no_parent():
    elements = jsx.parse(JSX)
    assert [e.tag for e in elements] == ["ul", "li", "li", "Dialog", "div"]
    assert elements[0].parent is None and elements[3].parent is None
    assert elements[1].parent is elements[0]
