"""Real image files built byte by byte (no imaging library), for the attachment tests.

PNG: signature, IHDR, one zlib-compressed IDAT, IEND, each chunk with its CRC. GIF: a
two-colour GIF89a whose pixels are LZW-coded. JPEG: a baseline greyscale JFIF of flat grey
blocks (DC difference 0, then end-of-block, with one-code Huffman tables). WebP: the RIFF
container with a VP8 / VP8L / VP8X first chunk (headers only, enough for the size).
"""
from __future__ import annotations

import base64
import struct
import zlib


def png(width: int, height: int, *, rgb: tuple[int, int, int] = (200, 30, 30), padding: int = 0) -> bytes:
    """``padding`` bytes go into a private ancillary chunk (decoders skip it): a big, valid file."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit truecolour
    row = b"\x00" + bytes(rgb) * width  # filter type 0, then the row's pixels
    extra = chunk(b"prVt", b"\x00" * padding) if padding else b""
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + extra + chunk(b"IDAT", zlib.compress(row * height))
            + chunk(b"IEND", b""))


def gif(width: int, height: int) -> bytes:
    """A GIF89a of one colour: LZW codes of width 3 with a clear code before the table grows."""
    clear, end = 4, 5
    codes = [clear]
    for index in range(width * height):
        codes.append(0)
        if index % 2 == 1:  # two literals add entries 6 and 7; a clear keeps codes at 3 bits
            codes.append(clear)
    codes.append(end)
    bits = 0
    count = 0
    packed = bytearray()
    for code in codes:
        bits |= code << count
        count += 3
        while count >= 8:
            packed.append(bits & 0xFF)
            bits >>= 8
            count -= 8
    if count:
        packed.append(bits & 0xFF)
    blocks = b"".join(bytes([len(packed[i:i + 255])]) + bytes(packed[i:i + 255]) for i in range(0, len(packed), 255))
    screen = struct.pack("<HHBBB", width, height, 0x80, 0, 0)  # global table of 2 colours
    palette = b"\x20\x60\xa0\xff\xff\xff"
    image = b"\x2c" + struct.pack("<HHHHB", 0, 0, width, height, 0)
    return b"GIF89a" + screen + palette + image + b"\x02" + blocks + b"\x00" + b"\x3b"


def jpeg(width: int, height: int) -> bytes:
    """A baseline greyscale JPEG of flat mid-grey 8×8 blocks."""
    def segment(marker: int, body: bytes) -> bytes:
        return struct.pack(">BBH", 0xFF, marker, len(body) + 2) + body

    app0 = segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
    dqt = segment(0xDB, b"\x00" + bytes([1] * 64))
    sof0 = segment(0xC0, struct.pack(">BHHB", 8, height, width, 1) + b"\x01\x11\x00")
    # One code each: DC category 0 (difference 0) and AC end-of-block, both the 1-bit code "0".
    one_code = bytes([1] + [0] * 15)
    dht = segment(0xC4, b"\x00" + one_code + b"\x00" + b"\x10" + one_code + b"\x00")
    sos = segment(0xDA, b"\x01\x01\x00\x00\x3f\x00")
    blocks = -(-width // 8) * -(-height // 8)
    bits = 2 * blocks  # "0" (DC) + "0" (EOB) per block, padded with 1 bits
    data = bytearray(bits // 8)
    if bits % 8:
        data.append(0xFF >> (bits % 8))
    return b"\xff\xd8" + app0 + dqt + sof0 + dht + sos + bytes(data) + b"\xff\xd9"


def _riff(chunk: bytes, body: bytes) -> bytes:
    payload = b"WEBP" + chunk + struct.pack("<I", len(body)) + body + (b"\x00" if len(body) % 2 else b"")
    return b"RIFF" + struct.pack("<I", len(payload)) + payload


def webp_vp8(width: int, height: int) -> bytes:
    frame_tag = b"\x9d\x01\x2a"  # key frame start code (after the 3-byte frame tag)
    return _riff(b"VP8 ", b"\x30\x01\x00" + frame_tag + struct.pack("<HH", width, height) + b"\x00" * 8)


def webp_vp8l(width: int, height: int) -> bytes:
    bits = (width - 1) | ((height - 1) << 14)
    return _riff(b"VP8L", b"\x2f" + struct.pack("<I", bits) + b"\x00" * 4)


def webp_vp8x(width: int, height: int) -> bytes:
    canvas = (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    return _riff(b"VP8X", b"\x10\x00\x00\x00" + canvas)


def data_url(data: bytes, media_type: str) -> str:
    return f"data:{media_type};base64,{base64.b64encode(data).decode('ascii')}"
