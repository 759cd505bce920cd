"""The cover image of a routine: its name, its total time, and a ring of its exercises, as a PNG.

Drawn with Pillow's own font (Aileron, bundled with Pillow 10.1 and later), so nothing is
downloaded and the same routine gives the same bytes on every build.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

from . import words

log = logging.getLogger(__name__)

SIZE = 1200  # pixels, square: sharp on a lock screen, comfortably above the 600 x 600 minimum
_SCALE = 2  # drawn at twice the size and reduced, for smooth edges on arcs and letters
BACKGROUND = (22, 61, 79)  # deep teal: calm, and white text on it is easy to read
TEXT = (255, 255, 255)
MUTED = (176, 206, 214)
TRACK = (38, 86, 104)  # the ring's unlit track, behind welcome and finish
# one colour per exercise, in order, repeating: warm and distinct on the teal
PALETTE = ((242, 197, 124), (239, 131, 84), (143, 192, 169), (127, 183, 230), (221, 160, 221))

FontType = ImageFont.FreeTypeFont | ImageFont.ImageFont


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


def _font(size: int) -> FontType:
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
    for size in range(120 * _SCALE, 60 * _SCALE - 1, -8 * _SCALE):
        font = _font(size)
        lines = _wrap(draw, text, font, width, max_lines=99)
        if len(lines) <= 3:
            return font, lines
    font = _font(60 * _SCALE)
    return font, _wrap(draw, text, font, width, max_lines=3)


def render_cover(
    title: str,
    collection: str,
    duration_ms: int,
    segments: Sequence[Segment],
    exercises: int,
) -> Cover:
    """A square PNG: the collection, the routine's ``title``, its total time inside a ring of ``segments``."""
    s = SIZE * _SCALE
    image = Image.new("RGB", (s, s), BACKGROUND)
    draw = ImageDraw.Draw(image)
    margin = 90 * _SCALE
    width = s - 2 * margin

    # top: the collection in small capitals, then the routine's name as large as fits
    y = margin
    draw.text((margin, y), collection.upper(), font=_font(40 * _SCALE), fill=MUTED)
    y += 80 * _SCALE
    font, lines = _fit_title(draw, title, width)
    size = int(getattr(font, "size", 60))
    for line in lines:
        draw.text((margin, y), line, font=font, fill=TEXT)
        y += int(size * 1.12)

    # the ring: one arc per part of the routine, clockwise from the top, in time order
    ring_top = max(y + 40 * _SCALE, 520 * _SCALE)
    bottom_band = 140 * _SCALE
    radius = min((s - ring_top - bottom_band) // 2, 330 * _SCALE)
    cx, cy = s // 2, ring_top + radius
    thickness = 44 * _SCALE
    box = (cx - radius, cy - radius, cx + radius, cy + radius)
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

    # inside the ring: the total time, large, and what it is
    clock = words.clock(duration_ms)
    clock_font = _font(150 * _SCALE)
    draw.text((cx, cy - 10 * _SCALE), clock, font=clock_font, fill=TEXT, anchor="ms")
    draw.text((cx, cy + 60 * _SCALE), "total time", font=_font(44 * _SCALE), fill=MUTED, anchor="ms")

    # bottom: how many exercises, and what made the track
    count = f"{words.number(exercises).capitalize()} exercise{'s' if exercises != 1 else ''}"
    draw.text(
        (cx, s - margin + 10 * _SCALE),
        f"{count}  ·  guided audio by stretchcast",
        font=_font(38 * _SCALE),
        fill=MUTED,
        anchor="ms",
    )

    # Drawn at 2x for smooth arcs (Pillow does not anti-alias them); averaging each 2 x 2 square
    # is all the reduction needs (LANCZOS looked the same at 15 times the cost).
    final = image.reduce(_SCALE)
    # A few flat colours and their anti-aliased edges: 64 palette entries look the same as full
    # colour and make the PNG (embedded in every MP3) a fraction of the size. The fast octree
    # finds them as well as median cut here, in a tenth of the time; zlib's default level keeps
    # the PNG at ~30 KB in 20 ms where "optimize" saved 5 KB for 100 ms.
    final = final.quantize(colors=64, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    buf = io.BytesIO()
    final.save(buf, format="PNG")
    return Cover(buf.getvalue(), SIZE, SIZE)
