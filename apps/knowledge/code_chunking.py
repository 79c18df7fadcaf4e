"""Block-aware chunking of source code.

A file is cut into top-level blocks: each unindented definition (function, class, type, …)
starts a block, together with the comments and decorators directly above it; what precedes
the first definition (imports, module docstring) is the preamble. Small neighbouring blocks
are packed together up to ``max_chars``; a block larger than that is split at line
boundaries (preferring blank lines) with a few lines of overlap. A chunk's heading path
names the definitions it holds (``class Document``, ``def retrieve``).
"""
from __future__ import annotations

import re

from apps.knowledge.chunking import ChunkDraft, overlap_tail

_DEFINITION = re.compile(
    r"^(?:"
    r"(?:async\s+)?def\s|class\s"  # Python
    r"|(?:export\s+)?(?:default\s+)?(?:async\s+)?function\*?\s"  # JavaScript / TypeScript
    r"|(?:export\s+)?(?:default\s+)?(?:abstract\s+)?class\s"
    r"|(?:export\s+)?(?:declare\s+)?(?:interface|type|enum|namespace)\s+\w"
    r"|(?:export\s+)?(?:const|let|var)\s+[\w$]+\s*(?::[^=]+)?=\s*(?:async\s+)?(?:function|\(|[\w$]+\s*=>)"
    r"|(?:describe|it|test)\("
    r"|func\s|type\s+\w+\s+(?:struct|interface)"  # Go
    r"|(?:pub(?:\([^)]*\))?\s+)?(?:async\s+)?(?:fn|struct|enum|trait|impl|mod)\b"  # Rust
    r"|(?:public|private|protected|internal|static|final|abstract|sealed)\s"  # JVM / .NET
    r"|fun\s|(?:data\s+|open\s+)?class\s|object\s+\w+\s*[:{(]"  # Kotlin
    r"|CREATE\s|ALTER\s"  # SQL
    r")",
    re.IGNORECASE,
)
_ATTACHED_ABOVE = re.compile(r"^(?:#|//|/\*|\*|@|--|\s*\*)")
_NAME = re.compile(
    r"\b(def|class|function\*?|func|fn|struct|enum|trait|impl|interface|type|namespace|const|let|var|"
    r"fun|object|mod|describe|it|test|TABLE|VIEW|INDEX|FUNCTION)\b[\s(]*['\"]?([A-Za-z_$][\w$.\-]*)",
    re.IGNORECASE,
)


def top_level_blocks(source: str) -> list[tuple[str, str]]:
    """``(symbol, block text)`` in file order; the preamble's symbol is ``""``."""
    lines = source.split("\n")
    starts: list[int] = []
    for index, line in enumerate(lines):
        if not line or line[0].isspace() or not _DEFINITION.match(line):
            continue
        start = index
        while start > 0 and lines[start - 1].strip() and _ATTACHED_ABOVE.match(lines[start - 1]):
            start -= 1
        if starts and start <= starts[-1]:
            continue  # a definition inside the decorators/comments of the previous one
        starts.append(start)
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    blocks: list[tuple[str, str]] = []
    for position, start in enumerate(starts):
        end = starts[position + 1] if position + 1 < len(starts) else len(lines)
        text = "\n".join(lines[start:end]).strip("\n")
        if text.strip():
            blocks.append((_symbol(lines[start:end]), text))
    return blocks


def _symbol(lines: list[str]) -> str:
    for line in lines:
        if line and not line[0].isspace() and _DEFINITION.match(line):
            match = _NAME.search(line)
            if match:
                keyword = match.group(1).lower().rstrip("*")
                return f"{keyword} {match.group(2)}"
            return line.strip()[:60]
    return ""


def chunk_code(source: str, *, max_chars: int, overlap_chars: int) -> list[ChunkDraft]:
    chunks: list[ChunkDraft] = []
    packed: list[str] = []
    names: list[str] = []

    def flush() -> None:
        if packed:
            chunks.append(ChunkDraft("\n\n".join(packed), ", ".join(n for n in names if n)))
            packed.clear()
            names.clear()

    for symbol, text in top_level_blocks(source):
        if len(text) > max_chars:
            flush()
            for piece in _split_block(text, max_chars, overlap_chars):
                chunks.append(ChunkDraft(piece, symbol))
            continue
        size = sum(len(p) + 2 for p in packed)
        if packed and size + len(text) > max_chars:
            flush()
        packed.append(text)
        names.append(symbol)
    flush()
    return chunks


def _split_block(text: str, max_chars: int, overlap_chars: int) -> list[str]:
    """Split one long block at line boundaries, preferring the last blank line that fits."""
    lines = text.split("\n")
    pieces: list[str] = []
    current: list[str] = []
    for line in lines:
        while len(line) > max_chars:  # minified code: nothing better than a hard cut
            if current:
                pieces.append("\n".join(current))
                current = []
            pieces.append(line[:max_chars])
            line = line[max_chars:]
        if current and len("\n".join([*current, line])) > max_chars:
            blank = max((i for i, value in enumerate(current) if not value.strip()), default=-1)
            if blank > len(current) // 2:
                head, rest = current[:blank], current[blank + 1:]
            else:
                head, rest = current, []
            pieces.append("\n".join(head))
            tail = _line_overlap(head, overlap_chars)
            current = [*tail, *rest]
            while current and len("\n".join([*current, line])) > max_chars:
                current.pop(0)
        current.append(line)
    if current:
        pieces.append("\n".join(current))
    return [piece.strip("\n") for piece in pieces if piece.strip()]


def _line_overlap(lines: list[str], overlap_chars: int) -> list[str]:
    """Whole trailing lines totalling at most ``overlap_chars``."""
    tail: list[str] = []
    size = 0
    for line in reversed(lines):
        if size + len(line) + 1 > overlap_chars:
            break
        tail.insert(0, line)
        size += len(line) + 1
    if not tail and lines:
        partial = overlap_tail(lines[-1], overlap_chars)
        return [partial] if partial else []
    return tail
