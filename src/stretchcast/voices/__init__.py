"""Voices: engines that speak cues, behind the one :class:`Voice` interface.

``make_voice(name)`` builds an engine by name; ``choose_voice("auto")`` picks the best one that
works here and says why.
"""

from __future__ import annotations

from dataclasses import dataclass

from stretchcast.errors import UsageError

from .base import Samples, Speech, Voice

#: Engine names people can ask for, best first; "auto" picks among them.
ENGINES = ("espeak",)
_TEST_ENGINES = ("fake",)


@dataclass(frozen=True)
class Choice:
    """The voice a build will use, and why (shown to the user and kept in the manifest)."""

    voice: Voice
    reason: str


def make_voice(name: str) -> Voice:
    """The engine called ``name``; never falls back to another one."""
    if name == "espeak":
        from .espeak import EspeakVoice

        return EspeakVoice()
    if name == "fake":
        from stretchcast.testing import FakeVoice

        return FakeVoice()
    raise UsageError(
        f"there is no voice called '{name}'",
        fix=f"Voices: auto, {', '.join(ENGINES)}.",
    )


def choose_voice(name: str = "auto", *, offline: bool = False) -> Choice:
    """The voice to build with: ``name`` itself, or for "auto" the best engine that works here."""
    if name != "auto":
        return Choice(make_voice(name), f"asked for {name}")
    return Choice(make_voice("espeak"), "espeak-ng is the offline voice installed")


__all__ = ["ENGINES", "Choice", "Samples", "Speech", "Voice", "choose_voice", "make_voice"]
