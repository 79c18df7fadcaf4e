"""Image type and pixel size read from the bytes themselves (pure; no imaging library).

The type comes from the file's magic numbers, never from what a client declared; the size
from the format's own header: PNG ``IHDR``, GIF logical screen, JPEG ``SOFn`` marker, WebP
``VP8 `` / ``VP8L`` / ``VP8X`` chunk. Only PNG, JPEG, GIF and WebP are recognised — the
formats every supported model accepts. Nothing here decodes pixels, so a crafted file
costs no more than reading its first few headers.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

PNG, JPEG, GIF, WEBP = "image/png", "image/jpeg", "image/gif", "image/webp"
SUPPORTED_MEDIA_TYPES = (PNG, JPEG, GIF, WEBP)
FORMAT_NAMES = {PNG: "PNG", JPEG: "JPEG", GIF: "GIF", WEBP: "WebP"}

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# JPEG start-of-frame markers carry the frame's size; C4 (DHT), C8 (JPG) and CC (DAC) share
# the range but are not frames.
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
# Markers with no length field: TEM, RST0–7, SOI, EOI.
_JPEG_STANDALONE = frozenset([0x01, *range(0xD0, 0xDA)])
_JPEG_SCAN_LIMIT = 1 << 20  # the frame header comes before the image data; never walk further


class ImageError(ValueError):
    """The bytes are not a supported image, or its header is cut short or inconsistent."""


@dataclass(frozen=True)
class ImageInfo:
    media_type: str
    width: int
    height: int

    @property
    def format_name(self) -> str:
        return FORMAT_NAMES[self.media_type]


def human_size(size: int) -> str:
    """``812 bytes``, ``12 KB``, ``4.8 MB``."""
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{round(size / 1024)} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def sniff_media_type(data: bytes) -> str | None:
    """The supported image type the magic numbers say, or None."""
    if data.startswith(_PNG_SIGNATURE):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return GIF
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    return None


def describe_unsupported(data: bytes) -> str:
    """What an unsupported file looks like, for error messages ("a PDF document", …)."""
    head = data[:512].lstrip()
    if head.startswith(b"%PDF"):
        return "a PDF document"
    lowered = head.lower()
    if lowered.startswith((b"<svg", b"<?xml")) or b"<svg" in lowered:
        return "an SVG or XML document"
    if lowered.startswith((b"<!doctype html", b"<html")):
        return "an HTML document"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "a TIFF image"
    if head[:2] == b"BM":
        return "a BMP image"
    if head[4:12] in (b"ftypavif", b"ftypheic", b"ftypmif1"):
        return "an AVIF/HEIC image"
    return "not a recognised image"


def image_info(data: bytes) -> ImageInfo:
    """Type and pixel size of a PNG, JPEG, GIF or WebP file.

    Raises:
        ImageError: another format, or a header too short or inconsistent to read a size
            (zero width or height included).
    """
    media_type = sniff_media_type(data)
    if media_type is None:
        raise ImageError(f"the data is {describe_unsupported(data)}; only PNG, JPEG, GIF and WebP images are accepted")
    reader = {PNG: _png_size, JPEG: _jpeg_size, GIF: _gif_size, WEBP: _webp_size}[media_type]
    try:
        width, height = reader(data)
    except (struct.error, IndexError):
        raise ImageError(f"the {FORMAT_NAMES[media_type]} header is cut short") from None
    if width <= 0 or height <= 0:
        raise ImageError(f"the {FORMAT_NAMES[media_type]} header gives no pixel size")
    return ImageInfo(media_type, width, height)


def _png_size(data: bytes) -> tuple[int, int]:
    # The first chunk must be IHDR: length 13, then width and height as big-endian u32.
    length, chunk_type = struct.unpack_from(">I4s", data, 8)
    if chunk_type != b"IHDR" or length != 13:
        raise ImageError("the PNG does not start with an IHDR chunk")
    width, height = struct.unpack_from(">II", data, 16)
    return width, height


def _gif_size(data: bytes) -> tuple[int, int]:
    width, height = struct.unpack_from("<HH", data, 6)
    return width, height


def _jpeg_size(data: bytes) -> tuple[int, int]:
    position = 2  # after SOI
    end = min(len(data), _JPEG_SCAN_LIMIT)
    while True:
        if position >= end:
            if end == len(data):
                raise ImageError("the JPEG header is cut short")
            break
        if data[position] != 0xFF:
            raise ImageError("the JPEG has bytes between its segments")
        while data[position] == 0xFF:  # fill bytes may pad a marker
            position += 1
        marker = data[position]
        position += 1
        if marker in _JPEG_STANDALONE:
            if marker == 0xD9:
                break
            continue
        (length,) = struct.unpack_from(">H", data, position)
        if length < 2:
            raise ImageError("the JPEG has a segment of impossible length")
        if marker in _JPEG_SOF:
            height, width = struct.unpack_from(">HH", data, position + 3)  # after length and precision
            return width, height
        if marker == 0xDA:  # image data starts; a frame header should have come before it
            break
        position += length
    raise ImageError("the JPEG has no frame header (SOF marker)")


def _webp_size(data: bytes) -> tuple[int, int]:
    chunk, size = struct.unpack_from("<4sI", data, 12)
    body = 20
    if chunk == b"VP8 ":  # lossy: a key frame's start code, then 14-bit sizes
        if size < 10 or data[body + 3 : body + 6] != b"\x9d\x01\x2a":
            raise ImageError("the WebP VP8 frame has no start code")
        width, height = struct.unpack_from("<HH", data, body + 6)
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L":  # lossless: signature 0x2F, then 14-bit (size - 1) fields
        if size < 5 or data[body] != 0x2F:
            raise ImageError("the WebP VP8L stream has no signature")
        (bits,) = struct.unpack_from("<I", data, body + 1)
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":  # extended: the canvas, 24-bit (size - 1) fields after flags
        if size < 10:
            raise ImageError("the WebP VP8X chunk is too short")
        canvas = data[body + 4 : body + 10]
        if len(canvas) < 6:
            raise IndexError("cut short")
        width = int.from_bytes(canvas[0:3], "little") + 1
        height = int.from_bytes(canvas[3:6], "little") + 1
        return width, height
    raise ImageError(f"the WebP has an unknown first chunk {chunk!r}")
