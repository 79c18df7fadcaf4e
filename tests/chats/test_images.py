"""The pure image parser: type from magic numbers, pixel size from each format's header."""
from __future__ import annotations

import struct
import zlib

import pytest

from apps.chats.images import GIF, JPEG, PNG, WEBP, ImageError, human_size, image_info, sniff_media_type
from tests.chats import image_files as files


@pytest.mark.parametrize(
    ("build", "media_type", "size"),
    [
        (files.png, PNG, (640, 480)),
        (files.png, PNG, (1, 1)),
        (files.gif, GIF, (33, 7)),
        (files.jpeg, JPEG, (24, 16)),
        (files.jpeg, JPEG, (8000, 1)),
        (files.webp_vp8, WEBP, (1023, 767)),
        (files.webp_vp8l, WEBP, (16383, 2)),
        (files.webp_vp8x, WEBP, (16777216, 3)),
    ],
)
def test_type_and_size_come_from_the_bytes(build, media_type, size):
    data = build(*size)
    info = image_info(data)
    assert (info.media_type, info.width, info.height) == (media_type, *size)
    assert sniff_media_type(data) == media_type


def test_png_ihdr_is_read_even_with_a_huge_declared_size():
    data = files.png(2, 2)
    huge = data[:16] + struct.pack(">II", 100_000, 3) + data[24:]
    assert (image_info(huge).width, image_info(huge).height) == (100_000, 3)


def test_jpeg_size_is_found_after_other_segments_and_fill_bytes():
    data = files.jpeg(40, 24)
    # An EXIF-like APP1 segment and fill bytes (0xFF padding) before the frame header.
    app1 = b"\xff\xe1" + struct.pack(">H", 2 + 300) + b"Exif\x00\x00" + b"\x00" * 294
    padded = data[:2] + app1 + b"\xff\xff" + data[2:]
    info = image_info(padded)
    assert (info.width, info.height) == (40, 24)


def test_progressive_jpeg_frame_marker_is_read():
    data = files.jpeg(9, 10).replace(b"\xff\xc0", b"\xff\xc2", 1)  # SOF2, progressive
    assert (image_info(data).width, image_info(data).height) == (9, 10)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "PDF"),
        (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>', "SVG"),
        (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>', "SVG"),
        (b"<!DOCTYPE html><html><script>alert(1)</script>", "HTML"),
        (b"BM" + b"\x00" * 60, "BMP"),
        (b"II*\x00" + b"\x00" * 60, "TIFF"),
        (b"hello world", "not a recognised image"),
        (b"", "not a recognised image"),
    ],
)
def test_other_formats_are_refused_and_named(data, message):
    with pytest.raises(ImageError, match=message):
        image_info(data)
    assert sniff_media_type(data) is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (files.png(4, 4)[:20], "cut short"),  # signature and half an IHDR
        (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 0) + b"IEND" + b"\x00" * 12, "IHDR"),
        (files.png(4, 4)[:16] + struct.pack(">II", 0, 4) + files.png(4, 4)[24:], "no pixel size"),
        (b"GIF89a\x05", "cut short"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "cut short"),
        (b"\xff\xd8\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00", "no frame header"),  # scan before any SOF
        (b"\xff\xd8\xff\xe0\x00\x01", "impossible length"),
        (b"\xff\xd8\xff\xe0\x00\x04\x00\x00garbage", "between its segments"),
        (files.webp_vp8(10, 10).replace(b"\x9d\x01\x2a", b"\x00\x00\x00"), "start code"),
        (files.webp_vp8l(10, 10).replace(b"VP8L\x09\x00\x00\x00\x2f", b"VP8L\x09\x00\x00\x00\x00"), "signature"),
        (b"RIFF\x10\x00\x00\x00WEBPALPH\x04\x00\x00\x00", "unknown first chunk"),
        (b"RIFF\x10\x00\x00\x00WEBPVP8X\x0a\x00\x00\x00\x00", "cut short"),
    ],
)
def test_malformed_headers_are_refused_not_guessed(data, message):
    with pytest.raises(ImageError, match=message):
        image_info(data)


def test_png_chunks_are_real(tmp_path):
    """The builder's PNG is a real one: every chunk's CRC checks and the pixels inflate."""
    data = files.png(3, 2, rgb=(1, 2, 3))
    position, kinds = 8, []
    while position < len(data):
        (length,) = struct.unpack_from(">I", data, position)
        kind = data[position + 4:position + 8]
        body = data[position + 8:position + 8 + length]
        (crc,) = struct.unpack_from(">I", data, position + 8 + length)
        assert crc == zlib.crc32(kind + body)
        kinds.append(kind)
        if kind == b"IDAT":
            assert zlib.decompress(body) == (b"\x00" + bytes((1, 2, 3)) * 3) * 2
        position += 12 + length
    assert kinds == [b"IHDR", b"IDAT", b"IEND"]


def test_human_size():
    assert [human_size(n) for n in (812, 12_300, 5 * 1024 * 1024)] == ["812 bytes", "12 KB", "5.0 MB"]


@pytest.mark.browser
def test_a_browser_decodes_the_built_files_to_the_sizes_the_parser_reads():
    """Chromium's own decoders agree: the hand-built PNG, GIF and JPEG are real images, and the
    WebP and JPEG that Chromium encodes itself are sized right by the parser."""
    from tests.chats.browser_images import decoded_sizes, encoded_by_browser

    built = {"png": files.png(37, 21), "gif": files.gif(13, 5), "jpeg": files.jpeg(24, 17)}
    sizes = decoded_sizes({name: files.data_url(data, image_info(data).media_type) for name, data in built.items()})
    assert sizes == {name: [image_info(data).width, image_info(data).height] for name, data in built.items()}
    for media_type, data in encoded_by_browser(width=45, height=29).items():
        info = image_info(data)
        assert (info.media_type, info.width, info.height) == (media_type, 45, 29)
