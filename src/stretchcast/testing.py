"""Fakes for tests and notebooks: fast, offline, deterministic stand-ins for the real engines."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Mapping

import numpy as np

from .timeline import estimate_speech_ms
from .voices.base import Speech


class FakeVoice:
    """A voice that hums instead of speaking: a tone as long as the words would take, the same every time.

    Each text gets its own pitch (from a SHA-256 of the text) and a 4 Hz syllable rhythm, so the
    result has the level, length and on/off shape of speech without any engine. ``calls`` counts
    how often each text was synthesized, for tests that check nothing is spoken twice.
    """

    name = "fake"

    def __init__(self, sample_rate: int = 22050, speed: float = 1.0) -> None:
        self.sample_rate = sample_rate
        self.speed = speed
        self.calls: Counter[str] = Counter()

    def identity(self) -> Mapping[str, str | int | float | bool]:
        """Engine name, rate and speed."""
        return {
            "engine": self.name,
            "version": "1",
            "sample_rate": self.sample_rate,
            "speed": self.speed,
        }

    def describe(self) -> str:
        """ "fake voice (tones, for tests)"."""
        return "fake voice (tones, for tests)"

    def synthesize(self, text: str) -> Speech:
        """A hum as long as ``text`` would take to say."""
        self.calls[text] += 1
        n = int(estimate_speech_ms(text) / self.speed * self.sample_rate / 1000)
        seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big")
        f0 = 110 + seed % 90
        t = np.arange(n, dtype=np.float64) / self.sample_rate
        voiced = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in (1, 2, 3, 4))
        syllables = 0.55 + 0.45 * np.sin(2 * np.pi * 4.0 * t + seed % 7) ** 2
        edge = np.minimum(1.0, np.minimum(t, t[::-1] if n else t) / 0.02)
        samples = (0.25 * voiced * syllables * edge).astype(np.float32)
        return Speech(samples, self.sample_rate)
