"""A small folder of rendered routines, made here so the serve tests depend on no other feature.

It holds what a build writes (MP3 with an ID3 tag, manifest) and what builds may add (WebVTT
captions, an M3U8 playlist with split tracks, an APIC cover), plus what must never be served: a
dotfile, a build's temporary ``.part`` file, a text file, and symlinks pointing out of the folder.
"""

from __future__ import annotations

import http.client
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pytest
from mutagen.id3 import APIC, CHAP, CTOC, ID3, TALB, TIT2, CTOCFlags
from PIL import Image

from stretchcast.output.manifest import (
    AudioInfo,
    CoverInfo,
    ExerciseInfo,
    GuidanceInfo,
    Manifest,
    RoutineInfo,
    SplitInfo,
    TagsInfo,
    VoiceInfo,
)
from stretchcast.serve.server import BackgroundServer, start_background
from stretchcast.sound import mp3
from stretchcast.timeline import Chapter

RATE = 22050
SECRET = "TOP SECRET: outside the served folder"
# user text with every character HTML and XML treat specially
MORNING_TITLE = "Morning <b>stretch</b> & \"breathe\" 'now'"


def tone_mp3(path: Path, seconds: float, *, freq: float = 220.0) -> None:
    """Write a mono MP3 of a soft tone, ``seconds`` long, with the project's gapless encoder."""
    n = int(seconds * RATE)
    t = np.arange(n) / RATE
    samples = (0.2 * np.sin(2 * np.pi * freq * t) * 32767).astype(np.int16)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fp:
        mp3.encode(samples, RATE, 64, fp)


def png_bytes(size: int = 64, colour: tuple[int, int, int] = (31, 111, 92)) -> bytes:
    """A small PNG picture, as a build's cover would be."""
    out = io.BytesIO()
    Image.new("RGB", (size, size), colour).save(out, format="PNG")
    return out.getvalue()


def tag(path: Path, title: str, *, album: str = "Test stretches", cover: bytes | None = None) -> None:
    """Give ``path`` an ID3 tag with a title, album and, if given, a front cover (APIC)."""
    id3 = ID3()
    id3.add(TIT2(encoding=3, text=title))
    id3.add(TALB(encoding=3, text=album))
    if cover is not None:
        id3.add(APIC(encoding=3, mime="image/png", type=3, desc="Cover", data=cover))
    id3.save(path, v2_version=4)


def chapters_tag(path: Path, title: str, chapters: list[tuple[str, int, int]]) -> None:
    """Give ``path`` an ID3 tag with a title and CHAP frames listed by a CTOC, as a build writes."""
    id3 = ID3()
    id3.add(TIT2(encoding=3, text=title))
    ids = []
    for i, (name, start, end) in enumerate(chapters):
        ids.append(f"chp{i}")
        id3.add(
            CHAP(
                element_id=f"chp{i}",
                start_time=start,
                end_time=end,
                sub_frames=[TIT2(encoding=3, text=name)],
            )
        )
    id3.add(CTOC(element_id="toc", flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED, child_element_ids=ids))
    id3.save(path, v2_version=4)


MORNING_CHAPTERS: list[dict[str, Any]] = [
    {"title": "Welcome", "start_ms": 0, "end_ms": 4000, "exercise": None},
    {"title": "Knee sways", "start_ms": 4000, "end_ms": 10000, "exercise": "knee-sways"},
    {"title": "Tall cobra <b>", "start_ms": 10000, "end_ms": 16000, "exercise": "tall-cobra"},
    {"title": "Finish", "start_ms": 16000, "end_ms": 20000, "exercise": None},
]
MORNING_CUES = [
    (500, 3500, "Welcome to the morning routine."),
    (4000, 6000, "Lie on your back."),
    (10500, 12500, "Lift your chest <gently>."),
]


def _vtt_time(ms: int) -> str:
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


def manifest(
    slug: str,
    title: str,
    duration_ms: int,
    *,
    chapters: list[dict[str, Any]] | None = None,
    captions: str | None = None,
    playlist: str | None = None,
    split: tuple[str, ...] = (),
) -> dict[str, Any]:
    """A manifest of the format ``stretchcast build`` writes, for a track made here."""
    return Manifest(
        generator="test",
        title=title,
        slug=slug,
        collection="test",
        voice=VoiceInfo("fake", "fake voice", "asked for fake"),
        duration_ms=duration_ms,
        audio=AudioInfo(f"{slug}.mp3", RATE, 64, "pcm", duration_ms * RATE // 1000, 0, -16.0, -1.5),
        tags=TagsInfo(title, "stretchcast", "Test stretches", 1, None, 2026, "Fitness", ""),
        cover=CoverInfo(True, f"{slug}.png", "image/png", 64, 64, 0),
        # a build always names its captions; this one may not have written them
        captions=captions or f"{slug}.vtt",
        playlist=playlist,
        split=tuple(
            SplitInfo(name, Path(name).stem, n, None, 0, 0, -16.0, -1.5) for n, name in enumerate(split, 1)
        ),
        routine=RoutineInfo(title, 1, GuidanceInfo(1.0, True, True), (ExerciseInfo("x", 1, 0, 1.0, 0, 1),)),
        chapters=tuple(Chapter(**c) for c in chapters or ()),
        spans=(),
        events=(),
    ).to_dict()


@dataclass(frozen=True)
class Library:
    """Where the fixture folder is, and what its files hold."""

    root: Path  # the served folder
    outside: Path  # a folder beside it, with a secret file that must never be served
    cover: bytes = field(repr=False)


def make_library(base: Path) -> Library:
    """Write the fixture folder under ``base`` and return where things are."""
    root = base / "audio"
    outside = base / "private"
    outside.mkdir(parents=True)
    (outside / "secret.txt").write_text(SECRET)
    (outside / "secret.json").write_text(json.dumps({"secret": SECRET}))
    tone_mp3(outside / "outside.mp3", 1)
    cover = png_bytes()

    # a full routine: manifest, captions, playlist, split tracks, cover
    tone_mp3(root / "morning.mp3", 20)
    tag(root / "morning.mp3", MORNING_TITLE, cover=cover)
    (root / "morning.json").write_text(
        json.dumps(
            manifest(
                "morning",
                MORNING_TITLE,
                20000,
                chapters=MORNING_CHAPTERS,
                captions="morning.vtt",
                playlist="morning.m3u8",
                split=("morning/01-knee-sways.mp3", "morning/02-tall-cobra.mp3"),
            )
        )
    )
    vtt = ["WEBVTT", ""]
    for i, (start, end, text) in enumerate(MORNING_CUES, 1):
        vtt += [str(i), f"{_vtt_time(start)} --> {_vtt_time(end)}", text.replace("<", "&lt;"), ""]
    (root / "morning.vtt").write_text("\n".join(vtt))
    tone_mp3(root / "morning" / "01-knee-sways.mp3", 1)
    tone_mp3(root / "morning" / "02-tall-cobra.mp3", 1)
    (root / "morning.m3u8").write_text(
        "#EXTM3U\n"
        "#EXTINF:6,Knee sways\nmorning/01-knee-sways.mp3\n"
        "#EXTINF:6,Tall cobra\nmorning/02-tall-cobra.mp3\n"
        "#EXTINF:1,Escape\n../private/outside.mp3\n"
        "#EXTINF:1,Missing\nmorning/03-missing.mp3\n"
    )

    # the bare minimum a build writes: an MP3 without cover and a manifest without extras
    tone_mp3(root / "evening.mp3", 3, freq=330)
    (root / "evening.json").write_text(json.dumps(manifest("evening", "Evening", 3000)))

    # an MP3 without a manifest: shown from its tags
    tone_mp3(root / "tagged.mp3", 2, freq=440)
    chapters_tag(root / "tagged.mp3", "From tags", [("Part one", 0, 1000), ("Part two", 1000, 2000)])

    # never served, never listed
    tone_mp3(root / ".hidden.mp3", 1)
    tone_mp3(root / ".morning.mp3.x1y2z3.part", 1)
    (root / "notes.txt").write_text("not for the phone")
    (root / "broken.json").write_text("{ not json")
    (root / "link-out.mp3").symlink_to(outside / "outside.mp3")
    (root / "link-out.json").symlink_to(outside / "secret.json")
    (root / "private").symlink_to(outside, target_is_directory=True)
    (root / "link-in.mp3").symlink_to(root / "evening.mp3")
    return Library(root, outside, cover)


@dataclass(frozen=True)
class Reply:
    """An HTTP response, read whole."""

    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def header(self, name: str) -> str | None:
        """One header's value, or None."""
        return self.headers.get(name)


def fetch(base_url: str, path: str, method: str = "GET", headers: dict[str, str] | None = None) -> Reply:
    """Send one request with ``path`` exactly as given (no normalisation) and read the reply."""
    parts = urlsplit(base_url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
    try:
        conn.request(method, path, headers=headers or {})
        response = conn.getresponse()
        return Reply(response.status, response.headers, response.read())
    finally:
        conn.close()


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Library:
    """A served folder: three routines (chapters, captions, cover, playlist) and what must not be served."""
    return make_library(tmp_path_factory.mktemp("served"))


@pytest.fixture(scope="module")
def server(library: Library) -> Iterator[BackgroundServer]:
    """A server over that folder on an ephemeral port of 127.0.0.1, in a thread."""
    with start_background(library.root) as running:
        yield running
