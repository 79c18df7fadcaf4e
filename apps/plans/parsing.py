"""Turns a model's Markdown answer into plan steps (pure: no Django, no I/O).

Models write plans in many shapes. The parser looks for step headers in this order and
uses the first kind it finds:

1. headings that number a step: ``## Step 1 — Models``, ``### 2. API``, ``#### Step 3: UI``;
2. numbered list items at the left margin: ``1. …``, ``1) …``, ``Step 1: …``, ``**Step 1:** …``;
3. at least two headings of one level that name no step (``## Data layer``), skipping
   ``Plan`` / ``Summary`` / ``Overview``-style headings;
4. bullets at the left margin: ``- …``, ``* …``.

Everything between one header and the next belongs to that step: nested bullets and
paragraphs become its description; ``Files: a.py, b.py`` lines, bullets that are only a
path and backticked paths give its files; ``Risk: high``, ``(high risk)``, ``⚠️`` its risk.
Model output is untrusted: paths that would leave the project are dropped, and every
field is bounded.
"""
from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from typing import Literal

Risk = Literal["low", "medium", "high"]
RISKS: tuple[Risk, ...] = ("low", "medium", "high")
DEFAULT_RISK: Risk = "low"

MAX_STEPS = 50
MAX_TITLE = 200
MAX_DESCRIPTION = 5000
MAX_FILES = 50
MAX_PATH = 500


@dataclass
class ParsedStep:
    title: str
    description: str = ""
    files: list[str] = field(default_factory=list)
    risk: Risk = DEFAULT_RISK

    def as_dict(self) -> dict[str, object]:
        return {"title": self.title, "description": self.description, "files": list(self.files),
                "risk": self.risk}


@dataclass
class _Header:
    line: int
    title: str
    level: int = 0  # heading level; 0 for list items


_FENCE = re.compile(r"^\s*(```|~~~)")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_STEP_WORD = re.compile(
    r"^(?:\*\*|__)?\s*(?:step|phase|stage)\s+(\d{1,3})\s*(?:\*\*|__)?\s*[:.)—–-]?\s*(?:\*\*|__)?\s*", re.IGNORECASE)
_NUMBERED = re.compile(r"^(?:\*\*|__)?(\d{1,3})[.)](?:\*\*|__)?\s+")
_BULLET = re.compile(r"^[-*+•]\s+")
_NESTED_LIST = re.compile(r"^\s*(?:[-*+•]|\d{1,3}[.)])\s+")
_GENERIC_HEADINGS = re.compile(
    r"^(?:the\s+)?(?:implementation\s+|proposed\s+|execution\s+)?(?:plan|summary|overview|notes?|context|"
    r"goals?|background|next steps|conclusion|risks?|assumptions|open questions|questions)\b[\s:.!]*$",
    re.IGNORECASE,
)
_FILES_LINE = re.compile(
    r"^(?:[-*+•]\s+)?(?:\*\*|__)?\s*(?:files?(?:\s+(?:touched|changed|affected|to\s+(?:change|edit|create)))?|"
    r"touches|paths?)\s*(?:\*\*|__)?\s*:\s*(?:\*\*|__)?\s*(.*)$",
    re.IGNORECASE,
)
_RISK_LINE = re.compile(
    r"^(?:[-*+•]\s+)?(?:\*\*|__)?\s*risk(?:\s+level)?\s*(?:\*\*|__)?\s*[:=—–-]\s*(?:\*\*|__)?\s*(.*)$",
    re.IGNORECASE,
)
_RISK_WORDS = {
    "low": "low", "minor": "low", "minimal": "low", "small": "low",
    "medium": "medium", "med": "medium", "moderate": "medium", "mid": "medium",
    "high": "high", "critical": "high", "severe": "high", "major": "high",
}
_RISK_INLINE = re.compile(
    r"[\s,;—–-]*[(\[]\s*(?:risk\s*[:=]?\s*)?(low|medium|med|moderate|high|critical)(?:[\s-]+risk)?\s*[)\]]"
    r"|\b(low|medium|moderate|high)[\s-]risk\b\.?"
    r"|[\s,;—–(]+risk\s*[:=]\s*(low|medium|med|moderate|high)\b\)?",
    re.IGNORECASE,
)
_RISK_EMOJI = {"⚠️": "high", "⚠": "high", "🔴": "high", "🟠": "medium", "🟡": "medium", "🟢": "low"}
_BACKTICKED = re.compile(r"`([^`\s]{1,500})`")
_KNOWN_EXTENSIONS = frozenset(
    "py pyi ts tsx js jsx mjs cjs json md mdx html htm css scss sass less sql yml yaml toml txt cfg ini env "
    "go rs java kt kts rb php cs swift c h cc cpp hpp sh bash zsh vue svelte prisma graphql gql proto lock "
    "xml csv dockerfile tf gradle".split()
)
_PATH_CHARS = re.compile(r"^[\w@.+\-/\[\]()]+$")
_SEPARATORS = (" — ", " – ", " -- ", " - ")


def _strip_emphasis(text: str) -> str:
    text = re.sub(r"(\*\*|__)(.+?)\1", r"\2", text)
    text = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"\1", text)
    return text.replace("`", "").strip()


def safe_relative_path(value: str) -> str | None:
    """``value`` as a normalised project-relative path, or None when it is not one."""
    path = value.strip().strip("'\"").rstrip(".,;:")
    if path.startswith("./"):
        path = path[2:]
    if not path or len(path) > MAX_PATH or path.startswith(("/", "~")) or "\\" in path:
        return None
    if re.match(r"^[A-Za-z]:", path) or any(ord(ch) < 32 for ch in path) or "://" in path:
        return None
    parts = path.split("/")
    if any(part in ("..", "") for part in parts[:-1]) or parts[-1] in ("", "..", "."):
        return None
    return posixpath.normpath(path)


def _looks_like_file(token: str, *, strict: bool) -> bool:
    """Strict (free text): a known extension, or a directory part and some extension."""
    if token.startswith("."):  # a dotfile (.env, .gitignore): only where a list says it is a file
        return not strict and bool(re.match(r"^\.[\w.-]+$", token))
    if not _PATH_CHARS.match(token) or token.endswith("/"):
        return False
    name = token.rsplit("/", 1)[-1]
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else name.lower()
    if extension in _KNOWN_EXTENSIONS or name in ("Dockerfile", "Makefile", "Procfile"):
        return True
    if strict:
        return "/" in token and "." in name and bool(re.match(r"^[A-Za-z0-9]{1,8}$", extension))
    return "/" in token or "." in name


def _paths_in_list(text: str) -> list[str]:
    """Paths of a ``Files:`` value: comma, semicolon or space separated, backticked or not."""
    found = []
    for token in re.split(r"[,;]\s*|\s+(?:and|&)\s+|\s+", text.replace("`", " ")):
        token = token.strip().strip("*_()[]").rstrip(".,;:")
        if token and token.lower() not in ("none", "n/a", "-", "tbd") and _looks_like_file(token, strict=False):
            found.append(token)
    return found


def _risk_from_text(text: str) -> Risk | None:
    word = re.match(r"[\s*_]*([A-Za-z]+)", text)
    if word:
        mapped = _RISK_WORDS.get(word.group(1).lower())
        if mapped:
            return mapped  # type: ignore[return-value]
    return None


def _take_inline_risk(text: str) -> tuple[str, Risk | None]:
    """Remove a risk marker from a title or description line; return what is left and the risk."""
    risk: Risk | None = None
    match = _RISK_INLINE.search(text)
    if match:
        word = next(g for g in match.groups() if g)
        risk = _RISK_WORDS.get(word.lower())  # type: ignore[assignment]
        text = (text[: match.start()] + text[match.end():]).strip()
    for emoji, level in _RISK_EMOJI.items():
        if emoji in text:
            text = text.replace(emoji, "").strip()
            risk = risk or level  # type: ignore[assignment]
    return text, risk


def _split_title(raw: str) -> tuple[str, str]:
    """(title, the rest of the header line as the start of the description)."""
    raw = raw.strip()
    bold = re.match(r"^(\*\*|__)(.+?)\1\s*[:.—–-]*\s*(.*)$", raw)
    if bold:
        return bold.group(2).strip().rstrip(":"), bold.group(3).strip()
    for separator in _SEPARATORS:
        if separator in raw:
            head, tail = raw.split(separator, 1)
            if head.strip():
                return head.strip(), tail.strip()
    colon = re.match(r"^([^:`]{2,60}):\s+(.+)$", raw)
    if colon and len(colon.group(1).split()) <= 6:
        return colon.group(1).strip(), colon.group(2).strip()
    return raw.rstrip(":"), ""


def _visible_lines(lines: list[str]) -> list[bool]:
    """False for lines inside fenced code blocks (and the fences), which never hold headers."""
    visible, inside = [], False
    for line in lines:
        if _FENCE.match(line):
            inside = not inside
            visible.append(False)
            continue
        visible.append(not inside)
    return visible


def _numbered_headings(lines: list[str], visible: list[bool]) -> list[_Header]:
    headers = []
    for index, line in enumerate(lines):
        heading = _HEADING.match(line) if visible[index] else None
        if heading is None:
            continue
        body = heading.group(2)
        match = _STEP_WORD.match(body) or _NUMBERED.match(body)
        if match is None:
            match = re.match(r"^(\d{1,3})\s*[:—–-]\s+", body)
        if match is not None:
            headers.append(_Header(index, body[match.end():], level=len(heading.group(1))))
    if headers:
        level = min(h.level for h in headers)
        headers = [h for h in headers if h.level == level]
    return headers


def _numbered_items(lines: list[str], visible: list[bool]) -> list[_Header]:
    headers = []
    for index, line in enumerate(lines):
        if not visible[index] or line[:1].isspace():
            continue
        match = _STEP_WORD.match(line) or _NUMBERED.match(line)
        if match is not None and line[match.end():].strip():
            headers.append(_Header(index, line[match.end():]))
    return headers


def _plain_headings(lines: list[str], visible: list[bool]) -> list[_Header]:
    by_level: dict[int, list[_Header]] = {}
    for index, line in enumerate(lines):
        heading = _HEADING.match(line) if visible[index] else None
        if heading is None or _GENERIC_HEADINGS.match(_strip_emphasis(heading.group(2))):
            continue
        level = len(heading.group(1))
        by_level.setdefault(level, []).append(_Header(index, heading.group(2), level=level))
    for level in sorted(by_level, reverse=True):  # the deepest level with several headings
        if len(by_level[level]) >= 2:
            return by_level[level]
    return []


def _bullets(lines: list[str], visible: list[bool]) -> list[_Header]:
    headers = []
    for index, line in enumerate(lines):
        if not visible[index] or line[:1].isspace():
            continue
        match = _BULLET.match(line)
        if match is None:
            continue
        text = line[match.end():]
        if _FILES_LINE.match(text) or _RISK_LINE.match(text):
            continue
        headers.append(_Header(index, text))
    return headers


def _find_headers(lines: list[str], visible: list[bool]) -> list[_Header]:
    for finder in (_numbered_headings, _numbered_items, _plain_headings, _bullets):
        headers = finder(lines, visible)
        if headers:
            return headers
    return []


def _is_step_body(line: str) -> bool:
    """After the last step, a line at the margin that still belongs to it (not closing prose)."""
    return bool(line[:1].isspace() or _FILES_LINE.match(line) or _RISK_LINE.match(line)
                or _NESTED_LIST.match(line) or _FENCE.match(line))


def _body_end(lines: list[str], header: _Header, next_line: int | None) -> int:
    if next_line is not None:
        end = next_line
    else:
        end = len(lines)
        blank = False
        for index in range(header.line + 1, len(lines)):
            line = lines[index]
            if not line.strip():
                blank = True
                continue
            heading = _HEADING.match(line)
            if heading and (header.level == 0 or len(heading.group(1)) <= header.level):
                end = index
                break
            if header.level == 0 and blank and not _is_step_body(line):
                end = index
                break
            blank = False
    return end


def _step_from(lines: list[str], visible: list[bool], header: _Header, end: int) -> ParsedStep | None:
    title, risk = _take_inline_risk(header.title)
    title, lead = _split_title(title)
    title = _strip_emphasis(title).strip(" :.-—–")[:MAX_TITLE].strip()
    files: list[str] = []
    description: list[str] = [lead] if lead else []
    collecting_files = False
    for index in range(header.line + 1, end):
        raw = lines[index]
        if not visible[index]:
            collecting_files = False
            continue
        stripped = raw.strip()
        if not stripped:
            collecting_files = False
            if description and description[-1]:
                description.append("")
            continue
        files_line = _FILES_LINE.match(stripped)
        if files_line:
            files.extend(_paths_in_list(files_line.group(1)))
            collecting_files = not files_line.group(1).strip()
            continue
        risk_line = _RISK_LINE.match(stripped)
        if risk_line:
            risk = _risk_from_text(risk_line.group(1)) or risk
            continue
        item = _NESTED_LIST.match(stripped)
        content = stripped[item.end():] if item else stripped
        bare = content.strip().strip("`*_").rstrip(".,;")
        if item and (collecting_files or (" " not in bare and _looks_like_file(bare, strict=not collecting_files))):
            files.extend(_paths_in_list(content))
            continue
        collecting_files = False
        content, line_risk = _take_inline_risk(content)
        risk = line_risk or risk
        if content:
            description.append(f"- {content}" if item else content)
    text = "\n".join(description).strip()
    text = re.sub(r"\n{3,}", "\n\n", text)
    files.extend(match.group(1) for match in _BACKTICKED.finditer(f"{header.title}\n{text}")
                 if _looks_like_file(match.group(1), strict=True))
    if not title:
        if not text:
            return None
        title, text = text.split("\n", 1)[0][:MAX_TITLE], text
    return ParsedStep(title=title, description=text[:MAX_DESCRIPTION], files=_clean_files(files),
                      risk=risk or DEFAULT_RISK)


def _clean_files(files: list[str]) -> list[str]:
    cleaned: list[str] = []
    for value in files:
        path = safe_relative_path(value)
        if path is not None and path not in cleaned:
            cleaned.append(path)
    return cleaned[:MAX_FILES]


def parse_plan(text: str) -> list[ParsedStep]:
    """The steps of the plan written in ``text`` (Markdown); empty when it holds none."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    visible = _visible_lines(lines)
    headers = _find_headers(lines, visible)
    steps: list[ParsedStep] = []
    for position, header in enumerate(headers[:MAX_STEPS]):
        following = headers[position + 1].line if position + 1 < len(headers) else None
        step = _step_from(lines, visible, header, _body_end(lines, header, following))
        if step is not None:
            steps.append(step)
    return steps
