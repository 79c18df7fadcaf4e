"""Removing what untrusted text could use to reach outside: images, links and URLs."""
from __future__ import annotations

import re

IMAGE_REMOVED = "[image removed]"
LINK_REMOVED = "[link removed]"

_MD_IMAGE_INLINE = re.compile(r"!\[[^\]\n]*\]\([^)\n]*\)?")
_MD_IMAGE_REF = re.compile(r"!\[[^\]\n]*\]\[[^\]\n]*\]")
_HTML_MEDIA = re.compile(r"<\s*(?:img|image|iframe|video|audio|source|embed|object|link|script)\b[^>]*>?",
                         re.IGNORECASE)
_LINK_DEFINITION = re.compile(r"^[ \t]{0,3}\[[^\]\n]+\]:[ \t]*\S.*$", re.MULTILINE)
_MD_LINK = re.compile(r"\[([^\]\n]*)\]\([^)\n]*\)")
_URL = re.compile(
    r"(?:\b[a-z][a-z0-9+.\-]{1,15}:/{1,3}|\b(?:javascript|data|vbscript|mailto):(?=\S)|(?<![\w/])//(?=[\w\-]+\.)"
    r"|\bwww\.)[^\s<>()\[\]{}\"'`]*",
    re.IGNORECASE,
)


def strip_outside_references(text: str) -> str:
    """Remove Markdown/HTML images, link targets and any URL; keep link texts.

    Used on everything the offline writer emits, since parts of it come from users'
    documents and requests: a rendered image or link to an outside address can leak data.
    """
    text = _MD_IMAGE_INLINE.sub(IMAGE_REMOVED, text)
    text = _MD_IMAGE_REF.sub(IMAGE_REMOVED, text)
    text = _HTML_MEDIA.sub(IMAGE_REMOVED, text)
    text = _LINK_DEFINITION.sub("", text)
    text = _MD_LINK.sub(lambda m: m.group(1), text)
    return _URL.sub(LINK_REMOVED, text)


def contains_outside_reference(text: str) -> bool:
    return bool(
        _MD_IMAGE_INLINE.search(text) or _MD_IMAGE_REF.search(text) or _HTML_MEDIA.search(text)
        or _URL.search(text)
    )
