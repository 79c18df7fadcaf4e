"""Split a document into retrievable chunks.

* Markdown: header-aware. Each chunk belongs to one section and keeps the section's heading
  path (``Architecture > Storage``); fenced code blocks are never split by their headings.
* Prose (plain text, and long Markdown sections): packed paragraph by paragraph, then
  sentence by sentence, then word by word, to at most ``max_chars`` per chunk, each chunk
  after the first of a section starting with an ``overlap_chars`` tail of its predecessor.
* Code: block-aware (see ``code_chunking``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings

from apps.knowledge.paths import language_of

DEFAULT_MAX_CHARS = 1000
DEFAULT_OVERLAP_CHARS = 150

_TOKEN = re.compile(r"\w+|[^\w\s]")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[A-Z0-9*_`])")
_ATX_HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")


@dataclass(frozen=True)
class ChunkDraft:
    text: str
    heading_path: str = ""

    @property
    def char_count(self) -> int:
        return len(self.text)

    @property
    def token_count(self) -> int:
        return estimate_tokens(self.text)


def estimate_tokens(text: str) -> int:
    """Words and punctuation marks: close to, and never far above, a word-piece count."""
    return len(_TOKEN.findall(text))


def chunk_document(
    *, path: str, content: str, max_chars: int | None = None, overlap_chars: int | None = None
) -> list[ChunkDraft]:
    """Chunk ``content`` with the chunker its ``path`` calls for.

    Returns:
        Chunks in document order; an empty list for blank content.
    """
    configured_max: int = getattr(settings, "KNOWLEDGE_CHUNK_MAX_CHARS", DEFAULT_MAX_CHARS)
    limit = int(max_chars or configured_max)
    configured_overlap = getattr(settings, "KNOWLEDGE_CHUNK_OVERLAP_CHARS", DEFAULT_OVERLAP_CHARS)
    overlap = int(overlap_chars if overlap_chars is not None else configured_overlap)
    overlap = max(0, min(overlap, limit // 3))
    content = content.replace("\r\n", "\n").replace("\r", "\n")
    if not content.strip():
        return []
    family = language_of(path)
    if family == "markdown":
        return chunk_markdown(content, max_chars=limit, overlap_chars=overlap)
    if family == "code":
        from apps.knowledge.code_chunking import chunk_code

        return chunk_code(content, max_chars=limit, overlap_chars=overlap)
    return [ChunkDraft(text) for text in chunk_prose(content, max_chars=limit, overlap_chars=overlap)]


# --- Markdown -----------------------------------------------------------------------------

@dataclass
class _Section:
    heading_path: tuple[str, ...]
    lines: list[str]


def markdown_sections(content: str) -> list[tuple[str, str]]:
    """``(heading path, section text)`` pairs; a section's text starts with its heading line."""
    lines = content.split("\n")
    sections: list[_Section] = [_Section((), [])]
    stack: list[tuple[int, str]] = []
    fence: str | None = None
    start = 0
    if lines and lines[0].strip() == "---":  # YAML front matter stays one preamble block
        for index in range(1, len(lines)):
            if lines[index].strip() in ("---", "..."):
                sections[0].lines.extend(lines[: index + 1])
                start = index + 1
                break

    def open_section(level: int, title: str, heading_lines: list[str]) -> None:
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, title.strip() or "(untitled)"))
        sections.append(_Section(tuple(t for _, t in stack), list(heading_lines)))

    for line in lines[start:]:
        fence_match = _FENCE.match(line)
        if fence is not None:
            if fence_match and fence_match.group(1)[0] == fence[0] and len(fence_match.group(1)) >= len(fence):
                fence = None
            sections[-1].lines.append(line)
            continue
        if fence_match:
            fence = fence_match.group(1)
            sections[-1].lines.append(line)
            continue
        heading = _ATX_HEADING.match(line)
        if heading:
            open_section(len(heading.group(1)), heading.group(2) or "", [line])
            continue
        current = sections[-1].lines
        if _SETEXT.match(line) and current and _is_paragraph_line(current[-1]) and _starts_paragraph(current):
            title = current.pop()
            open_section(1 if line.strip().startswith("=") else 2, title, [title, line])
            continue
        current.append(line)

    result = []
    for section in sections:
        text = "\n".join(section.lines).strip("\n")
        body_lines = section.lines[1:] if section.heading_path else section.lines
        if not text.strip() or (section.heading_path and not "".join(body_lines).strip("=- \t")):
            continue  # a heading with no body of its own: its children carry its path
        result.append((" > ".join(section.heading_path), text))
    return result


def _is_paragraph_line(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith(("|", ">", "-", "*", "+", "<")) and "|" not in stripped


def _starts_paragraph(lines: list[str]) -> bool:
    # A setext underline turns only a one-line paragraph into a heading here; longer
    # paragraphs followed by "---" are far more often a paragraph and a rule.
    return len(lines) == 1 or not lines[-2].strip()


def chunk_markdown(content: str, *, max_chars: int, overlap_chars: int) -> list[ChunkDraft]:
    chunks: list[ChunkDraft] = []
    for heading_path, text in markdown_sections(content):
        for piece in chunk_prose(text, max_chars=max_chars, overlap_chars=overlap_chars):
            chunks.append(ChunkDraft(piece, heading_path))
    return chunks


# --- Prose --------------------------------------------------------------------------------

def _blocks(text: str) -> list[str]:
    """Paragraphs separated by blank lines; a fenced code block is one paragraph."""
    blocks: list[str] = []
    current: list[str] = []
    fence: str | None = None
    for line in text.split("\n"):
        match = _FENCE.match(line)
        if fence is not None:
            current.append(line)
            if match and match.group(1)[0] == fence[0]:
                fence = None
            continue
        if match:
            fence = match.group(1)
            current.append(line)
            continue
        if not line.strip():
            if current:
                blocks.append("\n".join(current))
                current = []
            continue
        current.append(line)
    if current:
        blocks.append("\n".join(current))
    return blocks


def _units(block: str, max_chars: int) -> list[tuple[str, str]]:
    """Pieces of one paragraph that each fit ``max_chars``, with the joiner to use before each."""
    if len(block) <= max_chars:
        return [(block, "\n\n")]
    if "\n" in block and _FENCE.match(block):
        # Code inside prose splits at line boundaries, never mid-line unless a line is huge.
        return [(piece, "\n") for piece in _split_lines(block.split("\n"), max_chars)]
    units: list[tuple[str, str]] = []
    for sentence in _SENTENCE_END.split(block):
        if len(sentence) <= max_chars:
            units.append((sentence, " "))
            continue
        words = sentence.split()
        current = ""
        for word in words:
            while len(word) > max_chars:
                if current:
                    units.append((current, " "))
                    current = ""
                units.append((word[:max_chars], ""))
                word = word[max_chars:]
            if current and len(current) + 1 + len(word) > max_chars:
                units.append((current, " "))
                current = word
            else:
                current = f"{current} {word}" if current else word
        if current:
            units.append((current, " "))
    if units:
        units[0] = (units[0][0], "\n\n")
    return units


def _split_lines(lines: list[str], max_chars: int) -> list[str]:
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for line in lines:
        while len(line) > max_chars:
            if current:
                pieces.append("\n".join(current))
                current, size = [], 0
            pieces.append(line[:max_chars])
            line = line[max_chars:]
        if current and size + 1 + len(line) > max_chars:
            pieces.append("\n".join(current))
            current, size = [], 0
        current.append(line)
        size += len(line) + (1 if size else 0)
    if current:
        pieces.append("\n".join(current))
    return pieces


def overlap_tail(text: str, overlap_chars: int) -> str:
    """The last ``overlap_chars`` of ``text``, starting at a sentence or word boundary."""
    if overlap_chars <= 0 or len(text) <= overlap_chars:
        return "" if overlap_chars <= 0 else text
    window = text[-overlap_chars:]
    sentence = _SENTENCE_END.search(window)
    if sentence:
        return window[sentence.end():].strip()
    space = re.search(r"\s", window)
    return window[space.end():].strip() if space else ""


def chunk_prose(text: str, *, max_chars: int, overlap_chars: int) -> list[str]:
    """Pack paragraphs (then sentences, then words) into chunks of at most ``max_chars``."""
    units = [unit for block in _blocks(text) for unit in _units(block, max_chars)]
    chunks: list[str] = []
    current = ""
    for unit, joiner in units:
        if not current:
            current = unit
            continue
        if len(current) + len(joiner) + len(unit) <= max_chars:
            current = f"{current}{joiner}{unit}"
            continue
        chunks.append(current)
        tail = overlap_tail(current, overlap_chars)
        glue = joiner or " "
        if tail and len(tail) + len(glue) + len(unit) <= max_chars:
            current = f"{tail}{glue}{unit}"
        else:
            current = unit
    if current.strip():
        chunks.append(current)
    return [chunk.strip() for chunk in chunks if chunk.strip()]
