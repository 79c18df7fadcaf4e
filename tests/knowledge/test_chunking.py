"""Chunking on real documents: the repo's docs, a SPEC-like fixture, Python and JavaScript."""
from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

from apps.knowledge.chunking import chunk_document, chunk_prose, markdown_sections, overlap_tail
from apps.knowledge.code_chunking import top_level_blocks
from tests.knowledge.conftest import FIXTURES

REPO = Path(__file__).resolve().parents[2]
ARCHITECTURE = (FIXTURES / "architecture.md").read_text()


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text)


def test_markdown_chunks_keep_their_heading_path() -> None:
    chunks = chunk_document(path="docs/architecture.md", content=ARCHITECTURE, max_chars=1000, overlap_chars=150)
    paths = [chunk.heading_path for chunk in chunks]
    assert "Lighthouse — architecture > 2. Components > 2.2 Rule engine" in paths
    assert "Lighthouse — architecture > 2. Components > 2.1 Ingest gateway" in paths
    gateway = next(c for c in chunks if c.heading_path.endswith("2.1 Ingest gateway"))
    assert gateway.text.startswith("### 2.1 Ingest gateway")
    # "## 2. Components" has no body of its own: no chunk for it, its children carry its path.
    assert "Lighthouse — architecture > 2. Components" not in paths


def test_hash_lines_inside_fenced_code_are_not_headings() -> None:
    sections = dict(markdown_sections(ARCHITECTURE))
    gateway = sections["Lighthouse — architecture > 2. Components > 2.1 Ingest gateway"]
    assert "# This line starts with a hash but is code, not a heading." in gateway
    assert "    # neither is this one" in gateway
    assert not any("This line starts with a hash" in path for path in sections)


def test_setext_heading_and_front_matter() -> None:
    sections = markdown_sections(ARCHITECTURE)
    paths = [path for path, _ in sections]
    # "Storage\n-------" is a level-2 heading: it closes "2. Components" and sits under the title.
    assert "Lighthouse — architecture > Storage" in paths
    storage = dict(sections)["Lighthouse — architecture > Storage"]
    assert "| readings | 400 days | daily |" in storage
    assert paths[0] == "" and sections[0][1].startswith("---\ntitle: Lighthouse architecture")


def test_long_section_is_split_within_bounds_with_overlap() -> None:
    chunks = chunk_document(path="a.md", content=ARCHITECTURE, max_chars=400, overlap_chars=80)
    assert all(chunk.char_count <= 400 for chunk in chunks)
    rule = [c for c in chunks if c.heading_path.endswith("2.2 Rule engine")]
    assert len(rule) >= 3
    for previous, current in itertools.pairwise(rule):
        # Each continuation starts with (a sentence- or word-aligned) tail of its predecessor.
        head = current.text[:40]
        assert head.split()[0] in previous.text[-120:], (previous.text[-120:], head)
        assert not current.text.startswith("###")


def test_chunks_cover_every_word_of_the_document() -> None:
    chunks = chunk_document(path="a.md", content=ARCHITECTURE, max_chars=300, overlap_chars=60)
    # A heading with no body of its own survives in its children's heading paths (which are
    # embedded with the chunk text).
    covered = set(_words(" ".join(f"{c.heading_path} {c.text}" for c in chunks)))
    assert set(_words(ARCHITECTURE)) <= covered


@pytest.mark.parametrize("path", ["/work/shared/SPEC.md", "/work/shared/STYLE.md", str(REPO / "docs" / "knowledge.md")])
def test_real_documents_chunk_within_bounds(path: str) -> None:
    file = Path(path)
    if not file.exists():
        pytest.skip(f"{path} is not present on this machine")
    text = file.read_text()
    chunks = chunk_document(path=file.name, content=text, max_chars=1000, overlap_chars=150)
    assert chunks
    assert max(c.char_count for c in chunks) <= 1000
    assert all(c.heading_path for c in chunks[1:])
    assert set(_words(text)) <= set(_words(" ".join(f"{c.heading_path} {c.text}" for c in chunks)))
    assert all(c.token_count > 0 for c in chunks)


def test_prose_splits_paragraphs_then_sentences_then_words() -> None:
    text = "First paragraph is short.\n\n" + " ".join(f"Sentence number {i} is here." for i in range(40))
    text += "\n\n" + "x" * 250
    chunks = chunk_prose(text, max_chars=120, overlap_chars=30)
    assert all(len(c) <= 120 for c in chunks)
    assert chunks[0].startswith("First paragraph is short.")
    assert any(c.startswith("x") and len(c) == 120 for c in chunks)
    assert "Sentence number 39 is here." in " ".join(chunks)


def test_overlap_tail_prefers_sentence_boundaries() -> None:
    text = "The gateway buffers readings. The rule engine evaluates them quickly."
    assert overlap_tail(text, 45) == "The rule engine evaluates them quickly."
    assert overlap_tail(text, 0) == ""


def test_python_is_split_at_top_level_definitions() -> None:
    source = (FIXTURES / "sample.py").read_text()
    blocks = top_level_blocks(source)
    symbols = [symbol for symbol, _ in blocks]
    assert symbols == ["", "class Invoice", "def berth_days", "def send_invoice", "class LateFeePolicy"]
    invoice = dict(blocks)["class Invoice"]
    assert invoice.startswith("@dataclass\nclass Invoice")  # the decorator travels with its class
    assert "def total_with_vat" in invoice  # methods stay inside their class
    berth = dict(blocks)["def berth_days"]
    assert berth.startswith("# Berths are billed per started day.")
    assert 'if __name__ == "__main__"' in dict(blocks)["class LateFeePolicy"]


def test_code_chunks_pack_small_blocks_and_split_big_ones() -> None:
    source = (FIXTURES / "sample.py").read_text()
    packed = chunk_document(path="billing.py", content=source, max_chars=1000)
    assert len(packed) < len(top_level_blocks(source))
    assert all(c.char_count <= 1000 for c in packed)
    small = chunk_document(path="billing.py", content=source, max_chars=200, overlap_chars=40)
    assert all(c.char_count <= 200 for c in small)
    invoice = [c for c in small if c.heading_path == "class Invoice"]
    assert len(invoice) >= 2
    assert not any("def total" in c.text and "class LateFeePolicy" in c.text for c in small)


def test_javascript_is_split_at_exports_functions_and_classes() -> None:
    source = (FIXTURES / "sample.js").read_text()
    symbols = [symbol for symbol, _ in top_level_blocks(source)]
    # A plain object constant is data, not a definition: it stays in the preamble with the imports.
    assert symbols == ["", "function sortAlerts", "const alertLabel", "class AlertFeed", "function reconnect"]
    blocks = dict(top_level_blocks(source))
    assert "SEVERITY_COLOURS" in blocks[""]
    assert blocks["function sortAlerts"].startswith("/**")  # the JSDoc comment travels with it
    assert "visible()" in blocks["class AlertFeed"]


def test_real_code_of_this_repository() -> None:
    source = (REPO / "apps" / "knowledge" / "services.py").read_text()
    chunks = chunk_document(path="apps/knowledge/services.py", content=source, max_chars=1000)
    assert all(c.char_count <= 1000 for c in chunks)
    headings = " | ".join(c.heading_path for c in chunks)
    for name in ("def document_upsert", "def document_save_generated", "def documents_for_prompt"):
        assert name in headings
    assert set(_words(source)) <= set(_words(" ".join(c.text for c in chunks)))


def test_blank_content_has_no_chunks() -> None:
    assert chunk_document(path="a.md", content="  \n\n ") == []
    assert chunk_document(path="a.py", content="") == []
