"""``--encoder``: which back end writes a track's audio, shared by ``build`` and ``programme build``."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from stretchcast.sound.formats import ENCODERS

if TYPE_CHECKING:
    from stretchcast.pipeline import BuildResult

HELP = (
    "how the MP3 is written: frames (each sound encoded once, kept in the cue cache, and its MP3 "
    "frames reused: fast rebuilds; sounds move onto the MP3 frame grid, tens of milliseconds "
    "later, and the manifest and captions give those times), pcm "
    "(the whole track mastered and encoded in one pass: slower, every sound exactly on time), "
    "or auto (default: frames whenever they can write the track, else pcm, saying why)"
)

_WHAT = {
    "frames": "each sound's MP3 frames, encoded once",
    "pcm": "the whole track mastered and encoded",
}


def add_encoder_option(p: argparse.ArgumentParser) -> None:
    """The ``--encoder {auto,frames,pcm}`` option."""
    p.add_argument("--encoder", choices=ENCODERS, default="auto", help=HELP)


def encoder_used(result: BuildResult) -> str:
    """The back end that wrote the track, and why: "frames; auto: no sounds overlap"."""
    used = str(result.extra.get("encoder", "pcm"))
    reason = str(result.extra.get("encoder_reason", ""))
    return f"{used}; {reason}" if reason else used


def encoder_line(result: BuildResult) -> str:
    """Which back end wrote the track, and why: one line of the build's summary."""
    used = str(result.extra.get("encoder", "pcm"))
    return f"Audio: {_WHAT.get(used, used)} ({encoder_used(result)})"
