"""Shared fixtures: the real content, routines, a fake voice, and a decoder for what we produce."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from stretchcast.content import Collection, Routine, load_collection, load_routine
from stretchcast.testing import FakeVoice

REPO = Path(__file__).resolve().parents[1]
CONTENT = REPO / "content" / "si-joint"


@pytest.fixture(scope="session")
def collection() -> Collection:
    """The SI joint collection as shipped."""
    return load_collection(CONTENT)


@pytest.fixture(scope="session")
def preset(collection: Collection) -> Callable[[str], Routine]:
    """Load a preset routine by name."""
    return lambda name: load_routine(collection, name)


@pytest.fixture
def fake_voice() -> FakeVoice:
    """A deterministic, instant voice that counts its calls."""
    return FakeVoice()


@dataclass
class Decoded:
    """An MP3 decoded back to samples, the way a player would (gapless header honoured)."""

    samples: np.ndarray
    sample_rate: int

    @property
    def duration_ms(self) -> float:
        return len(self.samples) * 1000 / self.sample_rate

    def between(self, start_ms: int, end_ms: int) -> np.ndarray:
        return self.samples[start_ms * self.sample_rate // 1000 : end_ms * self.sample_rate // 1000]


def decode(path: Path) -> Decoded:
    """Decode ``path`` with libsndfile (mpg123), which trims encoder delay and padding."""
    samples, rate = sf.read(path, dtype="float32")
    return Decoded(samples, rate)


def rms_db(x: np.ndarray) -> float:
    """RMS level in dBFS (-inf-safe)."""
    return float(10 * np.log10(np.mean(np.square(x, dtype=np.float64)) + 1e-20))


def write(tmp_path: Path, name: str, text: str) -> Path:
    """Write a small file for a test and return its path."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path
