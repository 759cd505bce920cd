"""Shared fixtures: the real content, the tests' own small collection, a fake voice, and a decoder."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from stretchcast.content import Collection, Routine, load_collection, load_routine
from stretchcast.testing import FakeVoice
from stretchcast.voices.cache import CACHE_ENV, CueCache
from stretchcast.voices.gtts import URL_ENV

from ._library import library, server  # noqa: F401 - the serve tests' fixtures, found by name

REPO = Path(__file__).resolve().parents[1]
CONTENT = REPO / "content" / "si-joint"
#: A small collection of the tests' own, for tests of mechanics where the shipped content is incidental.
DRILLS = Path(__file__).resolve().parent / "data" / "drills"


@pytest.fixture(scope="session", autouse=True)
def _hermetic_voices(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """No test touches the user's cue cache, session log or Google: their own, gTTS sent to a closed port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(CACHE_ENV, str(tmp_path_factory.mktemp("cue-cache")))
        mp.setenv(URL_ENV, f"http://127.0.0.1:{closed_port}")
        mp.setenv("STRETCHCAST_DATA", str(tmp_path_factory.mktemp("data")))
        yield


@pytest.fixture(scope="session")
def collection() -> Collection:
    """The SI joint collection as shipped."""
    return load_collection(CONTENT)


@pytest.fixture(scope="session")
def preset(collection: Collection) -> Callable[[str], Routine]:
    """Load a preset routine by name."""
    return lambda name: load_routine(collection, name)


@pytest.fixture(scope="session")
def drills() -> Collection:
    """The tests' own small collection (two short exercises, a 100-second routine 'short')."""
    return load_collection(DRILLS)


@pytest.fixture(scope="session")
def drill(drills: Collection) -> Callable[[str], Routine]:
    """Load a routine of the tests' own collection by name."""
    return lambda name: load_routine(drills, name)


@pytest.fixture(scope="session")
def piper_cache(tmp_path_factory: pytest.TempPathFactory) -> CueCache:
    """One cue cache for every test that speaks with Piper, so each cue is spoken once per session."""
    return CueCache(tmp_path_factory.mktemp("piper-cues"))


def cobra_only(tmp_path: Path, collection: Collection) -> Routine:
    """A one-exercise routine: a real track with few cues, for tests of real engines."""
    path = write(tmp_path, "cobra.yaml", "title: Cobra only\nexercises:\n  - id: tall-cobra\n")
    return load_routine(collection, path)


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


class FakeClock:
    """Timers that fire only when a test moves time on: debouncing tested without sleeping."""

    @dataclass
    class Timer:
        when: float
        call: Callable[[], None]
        cancelled: bool = False

        def cancel(self) -> None:
            self.cancelled = True

    def __init__(self) -> None:
        self.now = 0.0
        self.timers: list[FakeClock.Timer] = []

    def schedule(self, seconds: float, call: Callable[[], None]) -> FakeClock.Timer:
        """Call ``call()`` once the clock has been moved ``seconds`` on (a ``Schedule``)."""
        timer = FakeClock.Timer(self.now + seconds, call)
        self.timers.append(timer)
        return timer

    @property
    def pending(self) -> list[FakeClock.Timer]:
        """Timers neither fired nor cancelled."""
        return [t for t in self.timers if not t.cancelled]

    def advance(self, seconds: float) -> None:
        """Move the clock on, making each call that falls due, in time order, in this thread."""
        self.now += seconds
        while due := sorted((t for t in self.pending if t.when <= self.now), key=lambda t: t.when):
            self.timers.remove(due[0])
            due[0].call()


@pytest.fixture
def clock() -> FakeClock:
    """A fake clock for the live preview's debouncing."""
    return FakeClock()
