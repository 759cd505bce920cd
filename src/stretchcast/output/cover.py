"""The cover image of a routine: its name, its total time, and a ring of its exercises, as a PNG.

Drawn with Pillow's own font (Aileron, bundled with Pillow 10.1 and later), so nothing is
downloaded and the same routine gives the same bytes on every build.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import struct
import zlib
from collections.abc import Sequence
from dataclasses import astuple, dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from stretchcast.atomic import write_atomic
from stretchcast.content import words

if TYPE_CHECKING:  # Pillow is imported where a cover is drawn: a cached cover needs none of it (~40 ms)
    from PIL import Image, ImageDraw, ImageFont

log = logging.getLogger(__name__)

SIZE = 1200  # pixels, square: sharp on a lock screen, comfortably above the 600 x 600 minimum
_SCALE = 2  # the ring is drawn at twice the size and reduced, for smooth edges on its arcs
_THICKNESS = 44  # the ring's width, pixels
_EDGE_STEPS = 19  # shades between two colours that meet, in the palette
BACKGROUND = (22, 61, 79)  # deep teal: calm, and white text on it is easy to read
TEXT = (255, 255, 255)
MUTED = (176, 206, 214)
TRACK = (38, 86, 104)  # the ring's unlit track, behind welcome and finish
# one colour per exercise, in order, repeating: warm and distinct on the teal
PALETTE = ((242, 197, 124), (239, 131, 84), (143, 192, 169), (127, 183, 230), (221, 160, 221))

FontType: TypeAlias = "ImageFont.FreeTypeFont | ImageFont.ImageFont"
#: Raised whenever the drawing changes, so that no cover cached by an earlier version is used.
DRAWING_VERSION = 1
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class Segment:
    """A stretch of the routine on the ring: ``exercise`` is its position (0-based) or None."""

    start_ms: int
    end_ms: int
    exercise: int | None


@dataclass(frozen=True)
class Cover:
    """A rendered cover image."""

    data: bytes
    width: int
    height: int
    mime: str = "image/png"


@lru_cache(maxsize=16)
def _font(size: int) -> FontType:
    from PIL import ImageFont

    # Pillow decodes its bundled font from base64 on every load_default call: once per size is enough
    font = ImageFont.load_default(size=size)
    if not isinstance(font, ImageFont.FreeTypeFont):  # a Pillow built without FreeType
        log.warning("Pillow has no FreeType: the cover's text uses the small bitmap font")
    return font


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: FontType, width: int, max_lines: int) -> list[str]:
    """``text`` broken into at most ``max_lines`` lines no wider than ``width`` (the last one cut short)."""
    lines: list[str] = []
    for word in text.split():
        trial = f"{lines[-1]} {word}" if lines else word
        if lines and draw.textlength(trial, font=font) <= width:
            lines[-1] = trial
        else:
            lines.append(word)
    if len(lines) > max_lines:
        lines = [*lines[: max_lines - 1], " ".join(lines[max_lines - 1 :])]
    last = lines[-1] if lines else ""
    while last and draw.textlength(last, font=font) > width:
        last = last[:-2].rstrip() + "…"
    return [*lines[:-1], last] if lines else []


def _fit_title(draw: ImageDraw.ImageDraw, text: str, width: int) -> tuple[FontType, list[str]]:
    """The largest title size (from 120 px down) at which ``text`` fits on three lines."""
    for size in range(120, 59, -8):
        font = _font(size)
        lines = _wrap(draw, text, font, width, max_lines=99)
        if len(lines) <= 3:
            return font, lines
    font = _font(60)
    return font, _wrap(draw, text, font, width, max_lines=3)


def _blend(a: tuple[int, int, int], b: tuple[int, int, int], t: float) -> tuple[int, int, int]:
    return (round(a[0] + (b[0] - a[0]) * t), round(a[1] + (b[1] - a[1]) * t), round(a[2] + (b[2] - a[2]) * t))


@lru_cache(maxsize=1)
def _palette() -> Image.Image:
    """Every colour the cover can hold: its flat colours and the anti-aliased edges between them.

    Text and arcs only ever meet the background, and arcs the ring's track, so the edge pixels lie
    on the lines between those pairs; 18 steps along each line look the same as full colour.
    Mapping to a fixed palette costs a tenth of finding one (Pillow's octree quantizer).
    """
    from PIL import Image

    flat = [BACKGROUND, TEXT, MUTED, TRACK, *PALETTE]
    pairs = [(BACKGROUND, c) for c in (TEXT, MUTED, TRACK, *PALETTE)] + [(TRACK, c) for c in PALETTE]
    colours = flat + [_blend(a, b, k / _EDGE_STEPS) for a, b in pairs for k in range(1, _EDGE_STEPS)]
    image = Image.new("P", (1, 1))
    image.putpalette([v for c in colours for v in c])
    return image


def render_cover(
    title: str,
    collection: str,
    duration_ms: int,
    segments: Sequence[Segment],
    exercises: int,
) -> Cover:
    """A square PNG: the collection, the routine's ``title``, its total time inside a ring of ``segments``."""
    from PIL import Image, ImageDraw

    s = SIZE
    image = Image.new("RGB", (s, s), BACKGROUND)
    draw = ImageDraw.Draw(image)
    margin = 90
    width = s - 2 * margin

    # top: the collection in small capitals, then the routine's name as large as fits
    y = margin
    draw.text((margin, y), collection.upper(), font=_font(40), fill=MUTED)
    y += 80
    font, lines = _fit_title(draw, title, width)
    size = int(getattr(font, "size", 60))
    for line in lines:
        draw.text((margin, y), line, font=font, fill=TEXT)
        y += int(size * 1.12)

    # the ring: one arc per part of the routine, clockwise from the top, in time order
    ring_top = max(y + 40, 520)
    bottom_band = 140
    radius = min((s - ring_top - bottom_band) // 2, 330)
    cx, cy = s // 2, ring_top + radius
    image.paste(_ring(radius, duration_ms, segments), (cx - radius, cy - radius))

    # inside the ring: the total time, large, and what it is, scaled with the ring (a long title
    # leaves it smaller) and never wider than three quarters of the space inside it
    k = radius / 330
    clock = words.clock(duration_ms)
    inside = 2 * (radius - _THICKNESS)
    clock_size = round(150 * k)
    while clock_size > 40 and draw.textlength(clock, font=_font(clock_size)) > 0.75 * inside:
        clock_size -= 4
    draw.text((cx, cy - round(10 * k)), clock, font=_font(clock_size), fill=TEXT, anchor="ms")
    draw.text((cx, cy + round(60 * k)), "total time", font=_font(round(44 * k)), fill=MUTED, anchor="ms")

    # bottom: how many exercises, and what made the track
    count = f"{words.number(exercises).capitalize()} exercise{'s' if exercises != 1 else ''}"
    draw.text(
        (cx, s - margin + 10),
        f"{count}  ·  guided audio by stretchcast",
        font=_font(38),
        fill=MUTED,
        anchor="ms",
    )

    # A few flat colours and their anti-aliased edges: a palette makes the PNG (embedded in every
    # MP3) a third of the size of full colour, and zlib's default level keeps it at ~30 KB in
    # 10 ms where "optimize" saved 5 KB for 100 ms.
    final = image.quantize(palette=_palette(), dither=Image.Dither.NONE)
    buf = io.BytesIO()
    final.save(buf, format="PNG")
    return Cover(buf.getvalue(), SIZE, SIZE)


def _ring(radius: int, duration_ms: int, segments: Sequence[Segment]) -> Image.Image:
    """The ring, ``2 * radius`` pixels square on the background, drawn at twice the size and reduced.

    Pillow does not anti-alias arcs; averaging each 2 x 2 square of a drawing at twice the size
    does (LANCZOS looked the same at 15 times the cost). Text is anti-aliased by FreeType, so
    only the ring is drawn large.
    """
    from PIL import Image, ImageDraw

    r = radius * _SCALE
    ring = Image.new("RGB", (2 * r, 2 * r), BACKGROUND)
    draw = ImageDraw.Draw(ring)
    thickness = _THICKNESS * _SCALE
    box = (0, 0, 2 * r, 2 * r)
    draw.ellipse(box, outline=TRACK, width=thickness)
    total = max(1, duration_ms)
    gap = 1.5  # degrees between arcs, so each exercise reads as its own piece
    for seg in segments:
        if seg.exercise is None:
            continue
        start = -90 + 360 * seg.start_ms / total + gap / 2
        end = -90 + 360 * seg.end_ms / total - gap / 2
        if end > start:
            colour = PALETTE[seg.exercise % len(PALETTE)]
            draw.arc(box, start, end, fill=colour, width=thickness)
    return ring.reduce(_SCALE)


def cover_key(
    title: str, collection: str, duration_ms: int, segments: Sequence[Segment], exercises: int
) -> str:
    """What a cover shows, with the drawing's version and Pillow's, as a SHA-256: its name in the cache."""
    import PIL  # the package alone (its version), not the drawing modules

    shown = [DRAWING_VERSION, PIL.__version__, SIZE, title, collection, duration_ms, exercises]
    text = json.dumps([*shown, [astuple(seg) for seg in segments]], ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _whole_png(data: bytes) -> tuple[int, int] | None:
    """The width and height of ``data`` if it is a whole PNG, every chunk's CRC right; else None."""
    if not data.startswith(_PNG_SIGNATURE):
        return None
    at, size = len(_PNG_SIGNATURE), None
    while at + 12 <= len(data):
        (length,) = struct.unpack_from(">I", data, at)
        kind, body = data[at + 4 : at + 8], data[at + 8 : at + 8 + length]
        end = at + 12 + length
        if end > len(data) or struct.unpack_from(">I", data, end - 4)[0] != zlib.crc32(kind + body):
            return None
        if kind == b"IHDR" and length >= 8:
            size = struct.unpack_from(">II", body)
        if kind == b"IEND":
            return size if end == len(data) and size is not None else None
        at = end
    return None


def cached_cover(
    folder: Path | None,
    *,
    title: str,
    collection: str,
    duration_ms: int,
    segments: Sequence[Segment],
    exercises: int,
) -> Cover:
    """:func:`render_cover`'s cover, kept in ``folder`` by what it shows: a rebuild reads it back.

    Drawing took 37 ms and importing Pillow's drawing modules 23 ms of a warm build that should
    take a few tenths of a second. A kept cover is used only if it is a whole PNG, every chunk's CRC-32 right;
    else it is drawn again and replaced. A folder that cannot be read or written only means drawing.
    """
    if folder is None:
        return render_cover(title, collection, duration_ms, segments, exercises)
    path = folder / f"{cover_key(title, collection, duration_ms, segments, exercises)}.{SIZE}.png"
    try:
        data = path.read_bytes()
    except OSError:
        data = b""
    size = _whole_png(data)
    if size is not None:
        return Cover(data, *size)
    if data:
        log.warning("cover cache: replacing a damaged cover %s", path.name)
    cover = render_cover(title, collection, duration_ms, segments, exercises)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        write_atomic(path, cover.data, prefix=f".{path.name[:16]}.")
    except OSError as err:
        log.debug("cover cache: cannot keep the cover in %s (%s)", folder, err)
    return cover
