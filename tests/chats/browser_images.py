"""Chromium as an independent image decoder and encoder for the parser's tests."""
from __future__ import annotations

import base64
from typing import Any

from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"

_DECODE = """async (urls) => {
  const sizes = {};
  for (const [name, url] of Object.entries(urls)) {
    const img = new Image();
    img.src = url;
    await img.decode();
    sizes[name] = [img.naturalWidth, img.naturalHeight];
  }
  return sizes;
}"""

_ENCODE = """([width, height]) => {
  const canvas = document.createElement('canvas');
  canvas.width = width; canvas.height = height;
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#3060a0'; ctx.fillRect(0, 0, width, height);
  ctx.fillStyle = '#ffcc00'; ctx.fillRect(3, 3, width / 2, height / 2);
  return {'image/webp': canvas.toDataURL('image/webp', 0.8), 'image/jpeg': canvas.toDataURL('image/jpeg', 0.9),
          'image/png': canvas.toDataURL('image/png')};
}"""


def _run(script: str, argument: Any) -> Any:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.set_default_timeout(10_000)
            return page.evaluate(script, argument)
        finally:
            browser.close()


def decoded_sizes(urls: dict[str, str]) -> dict[str, list[int]]:
    """``name → [naturalWidth, naturalHeight]`` of each data URL, decoded by Chromium (fails if it cannot)."""
    return dict(_run(_DECODE, urls))


def encoded_by_browser(*, width: int, height: int) -> dict[str, bytes]:
    """A WebP, a JPEG and a PNG of ``width × height`` that Chromium's canvas encoded."""
    urls = _run(_ENCODE, [width, height])
    return {media_type: base64.b64decode(url.split(",", 1)[1]) for media_type, url in urls.items()}
