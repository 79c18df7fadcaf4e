"""Direct-save on JSX/TSX (pure): only the patched bytes change, refusals say why."""
from __future__ import annotations

import pytest

from apps.projects.direct_save import jsx
from apps.projects.direct_save.apply import DirectSaveError, Patch, apply_patches
from apps.projects.direct_save.selectors import parse_selector, select
from tests.projects.direct_save_helpers import assert_only, changed_span, patched

HERO = """import React, { useState } from "react";
import styles from "./Hero.module.css";

type Props = { items: Item[]; promo?: string; cls: string };

/** The landing page's hero — «Grüße» from the design team. */
export function Hero({ items, promo, cls }: Props): JSX.Element {
  const [open, setOpen] = useState<boolean>(false);
  return (
    <>
      <header className="hero" style={{ color: "#111", fontSize: 32 }}>
        <h1 className="title" id="main">
          Build faster ✨
        </h1>
        <p className='lead'>Ship in days, not months.</p>
        {promo && <span className="badge" />}
        {/* the list comes from the CMS */}
        <ul className="features">
          {items.map((item) => (
            <li key={item.id} className="feature">{item.label}</li>
          ))}
          <li className="feature extra">And more</li>
        </ul>
        <img src="/hero.png" alt="" />
        <button type="button" disabled onClick={() => setOpen(!open)} className={cls}>
          Open
        </button>
        <section style={styles.section}>s</section>
      </header>
      <footer>© 2026 <a href="/about">About</a></footer>
    </>
  );
}
"""


def test_text_keeps_the_layout_around_it():
    new = patched(HERO, "jsx", "h1#main", "text", "Ship today")
    assert_only(HERO, new, "Build faster ✨", "Ship today")


def test_text_is_escaped_for_jsx():
    new = patched(HERO, "jsx", "p.lead", "text", "a < b & {c} > d")
    assert_only(HERO, new, "Ship in days, not months.", "a &lt; b &amp; &#123;c&#125; &gt; d")
    (element,) = select(parse_selector("p.lead"), jsx.parse(new.encode()))
    assert element.node.type == "jsx_element"


def test_class_name_keeps_its_quote_style():
    new = patched(HERO, "jsx", "p.lead", "className", "lead lead--big")
    assert_only(HERO, new, "className='lead'", "className='lead lead--big'")
    quoted = patched(HERO, "jsx", "h1", "class", 'it\'s "quoted"')
    assert_only(HERO, quoted, 'className="title"', 'className="it\'s &quot;quoted&quot;"')
    (element,) = select(parse_selector("h1#main"), jsx.parse(quoted.encode()))
    assert element.attribute("className") == 'it\'s "quoted"'


def test_attributes_are_replaced_added_or_given_a_value():
    new = patched(HERO, "jsx", "img", "alt", "A rocket")
    assert_only(HERO, new, 'alt=""', 'alt="A rocket"')
    added = patched(HERO, "jsx", "img", "loading", "lazy")
    assert_only(HERO, added, 'alt="" />', 'alt="" loading="lazy" />')
    boolean = patched(HERO, "jsx", "button", "disabled", "true")
    assert_only(HERO, boolean, "disabled onClick", 'disabled="true" onClick')
    to_footer = patched(HERO, "jsx", "footer", "data-testid", "foot")
    assert_only(HERO, to_footer, "<footer>", '<footer data-testid="foot">')


def test_style_object_properties_are_replaced_or_added():
    replaced = patched(HERO, "jsx", "header", "style.color", "#222")
    assert_only(HERO, replaced, 'color: "#111"', 'color: "#222"')
    number = patched(HERO, "jsx", "header", "style.font-size", "2rem")
    assert_only(HERO, number, "fontSize: 32", 'fontSize: "2rem"')
    added = patched(HERO, "jsx", "header", "style.backgroundColor", "white")
    assert_only(HERO, added, "fontSize: 32 }", 'fontSize: 32, backgroundColor: "white" }')
    new_style = patched(HERO, "jsx", "h1", "style.margin-top", "0")
    assert_only(HERO, new_style, 'id="main">', 'id="main" style={{ marginTop: "0" }}>')
    custom = patched(HERO, "jsx", "h1", "style.--accent", 'x"y')
    assert 'style={{ "--accent": "x\\"y" }}' in custom


def test_style_that_is_not_an_object_literal_is_refused():
    with pytest.raises(DirectSaveError) as caught:
        patched(HERO, "jsx", "section", "style.color", "red")
    assert caught.value.code == "expression_attribute" and "styles.section" in caught.value.message
    with pytest.raises(DirectSaveError) as semicolon:
        patched(HERO, "jsx", "header", "style.color", "red; position: fixed")
    assert semicolon.value.code == "invalid_value"


def test_expression_valued_attributes_are_refused():
    with pytest.raises(DirectSaveError) as caught:
        patched(HERO, "jsx", "button", "className", "btn")
    error = caught.value
    assert error.code == "expression_attribute" and error.index == 0 and error.selector == "button"
    assert "className of <button> is an expression ({cls})" in error.message
    assert error.message.startswith("patches[0] ('button'): ")


@pytest.mark.parametrize(
    ("selector", "prop", "code", "says"),
    [
        ("footer", "text", "not_plain_text", "has element children"),
        ("li.feature:nth-of-type(1)", "text", "not_plain_text", "contains a JSX expression ({item.label})"),
        ("ul", "text", "not_plain_text", "JSX expression"),
        ("li", "text", "ambiguous_match", "matches 2 elements (lines 20, 22)"),
        ("h2", "text", "no_match", "matches no element"),
        ("h1", "on Click", "invalid_property", "not a JSX attribute"),
        ("h1", "style", "invalid_property", "use style.<property>"),
        ("h1", "style.1x", "invalid_property", "not a CSS property"),
        ("h1:hover", "text", "invalid_selector", ":nth-of-type(n)"),
    ],
)
def test_refusals_name_the_problem(selector, prop, code, says):
    with pytest.raises(DirectSaveError) as caught:
        patched(HERO, "jsx", selector, prop, "x")
    assert caught.value.code == code
    assert says in caught.value.message


def test_a_comment_child_is_not_plain_text():
    source = "const A = () => <p>{/* todo */}Hello</p>;\n"
    with pytest.raises(DirectSaveError, match="JSX expression"):
        patched(source, "jsx", "p", "text", "Bye")


def test_self_closing_element_gets_its_text():
    new = patched(HERO, "jsx", "span.badge", "text", "New!")
    assert_only(HERO, new, '<span className="badge" />', '<span className="badge">New!</span>')


def test_element_inside_a_conditional_and_a_map_can_be_patched():
    badge = patched(HERO, "jsx", "span.badge", "className", "badge hot")
    assert_only(HERO, badge, '{promo && <span className="badge" />}', '{promo && <span className="badge hot" />}')
    mapped = patched(HERO, "jsx", "ul > li:nth-of-type(1)", "className", "feature row")
    assert_only(HERO, mapped, 'key={item.id} className="feature"', 'key={item.id} className="feature row"')


def test_several_patches_apply_in_order():
    new = apply_patches(HERO, kind="jsx", patches=[
        Patch("h1#main", "text", "One"), Patch("h1.title", "className", "title big"),
        Patch(".big", "style.color", "red"),
    ])
    assert "<h1 className=\"title big\" id=\"main\" style={{ color: \"red\" }}>\n          One\n        </h1>" in new
    head, tail = HERO.split("<h1", 1)[0], HERO.split("</h1>", 1)[1]
    assert new.startswith(head) and new.endswith(tail)


def test_a_failing_later_patch_leaves_the_file_as_it_was():
    with pytest.raises(DirectSaveError) as caught:
        apply_patches(HERO, kind="jsx", patches=[Patch("h1", "text", "One"), Patch("nav", "text", "x")])
    assert caught.value.index == 1 and caught.value.selector == "nav"


def test_crlf_files_keep_their_line_ends():
    crlf = HERO.replace("\n", "\r\n")
    new = patched(crlf, "jsx", "h1#main", "text", "Hi")
    removed, added = changed_span(crlf, new)
    assert (removed, added) == ("Build faster ✨".encode(), b"Hi")
    assert new.count("\r\n") == crlf.count("\r\n") and "\n" not in new.replace("\r\n", "")


def test_unicode_before_the_edit_does_not_shift_offsets():
    source = "// ünïcödé 🚀🚀🚀\nexport const X = () => <p title=\"ä\">Grüße</p>;\n"
    new = patched(source, "jsx", "p", "title", "ö🚀")
    assert_only(source, new, 'title="ä"', 'title="ö🚀"')
    text = patched(new, "jsx", "p[title=ö🚀]", "text", "Tschüß")
    assert_only(new, text, ">Grüße<", ">Tschüß<")


@pytest.mark.parametrize(
    ("source", "says"),
    [
        ("export const A = () => <div><p>x</div>;\n", "does not parse"),
        ("export const A = () => <div>x</span>;\n", "closed by another tag"),
        ("export const A = () => { return <div>;\n", "does not parse"),
    ],
)
def test_files_that_do_not_parse_are_refused(source, says):
    with pytest.raises(DirectSaveError) as caught:
        patched(source, "jsx", "div", "text", "y")
    assert caught.value.code == "unparsable_file" and says in caught.value.message
    assert caught.value.index is None


def test_member_expression_tags_and_typescript_generics():
    source = (
        "import { motion } from 'framer-motion';\n"
        "export function List<T extends { id: string }>({ rows }: { rows: T[] }) {\n"
        "  const typed = rows as unknown as Array<T>;\n"
        "  return <motion.div animate={{ x: 1 }}><Table.Cell align=\"left\">{typed.length}</Table.Cell>"
        "<Label>rows</Label></motion.div>;\n}\n"
    )
    new = patched(source, "jsx", r"motion\.div", "className", "wrap")
    assert_only(source, new, "animate={{ x: 1 }}>", 'animate={{ x: 1 }} className="wrap">')
    aligned = patched(source, "jsx", r"Table\.Cell", "align", "right")
    assert_only(source, aligned, 'align="left"', 'align="right"')
    label = patched(source, "jsx", r"motion\.div > Label", "text", "items")
    assert_only(source, label, ">rows<", ">items<")


def test_empty_style_object_with_only_a_comment():
    source = "export const A = () => <div style={{ /* later */ }}>x</div>;\n"
    new = patched(source, "jsx", "div", "style.color", "red")
    assert new == 'export const A = () => <div style={{ color: "red", /* later */ }}>x</div>;\n'


@pytest.mark.parametrize("prop", ["data-qa", "className", "style.color", "text"])
def test_every_element_takes_an_edit_inside_itself_or_a_clear_refusal(prop):
    """For each element of the component: either a refusal, or one edit inside the element whose
    result still parses and leaves every byte outside the element as it was."""
    from apps.projects.direct_save.common import PatchRefused

    source = HERO.encode()
    elements = jsx.parse(source)
    edited = refused = 0
    for index in range(len(elements)):
        element = jsx.parse(source)[index]
        try:
            value = "Wert ✓ \"q\"" + ("" if prop.startswith("style.") else " {x} <y> & 'z'")
            change = jsx.edit(element, prop, value, source)
        except PatchRefused as exc:
            assert exc.code in ("not_plain_text", "expression_attribute") and exc.message
            refused += 1
            continue
        node = element.node
        assert node.start_byte <= change.start <= change.end <= node.end_byte
        new = source[:change.start] + change.text + source[change.end:]
        assert new[:node.start_byte] == source[:node.start_byte]
        assert new[len(new) - (len(source) - node.end_byte):] == source[node.end_byte:]
        after = jsx.parse(new)  # still parses, same elements
        assert [e.tag for e in after] == [e.tag for e in elements]
        if prop == "data-qa":
            assert after[index].attribute("data-qa") == value
        edited += 1
    assert edited >= 3 and edited + refused == len(elements)
