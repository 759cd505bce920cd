"""The one interface every voice engine implements, and the audio it returns."""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeAlias, runtime_checkable

if TYPE_CHECKING:  # numpy is imported with audio, not by ``--help`` (which reads the voices' names)
    import numpy as np
    import numpy.typing as npt

Samples: TypeAlias = "npt.NDArray[np.float32]"


@dataclass(frozen=True, eq=False)
class Speech:
    """Mono audio as float32 samples in [-1, 1] at ``sample_rate``."""

    samples: Samples
    sample_rate: int

    @property
    def duration_ms(self) -> float:
        """Length in milliseconds."""
        return len(self.samples) * 1000 / self.sample_rate

    def to_int16(self) -> npt.NDArray[np.int16]:
        """The samples as signed 16-bit PCM (how the cue cache stores them), rounded and clipped."""
        import numpy as np

        return np.clip(np.round(self.samples * 32768.0), -32768, 32767).astype(np.int16)

    def quantized(self) -> Speech:
        """The same speech after a round trip through 16-bit PCM, exactly as the cache gives it back."""
        return Speech.from_int16(self.to_int16(), self.sample_rate)

    @classmethod
    def from_int16(cls, pcm: bytes | npt.NDArray[np.int16], sample_rate: int) -> Speech:
        """From signed 16-bit PCM bytes or an int16 array."""
        import numpy as np

        arr = np.frombuffer(pcm, dtype="<i2") if isinstance(pcm, bytes | bytearray) else pcm
        return cls((arr.astype(np.float32) / 32768.0), sample_rate)


@runtime_checkable
class Voice(Protocol):
    """Something that turns a line of text into speech."""

    #: The engine's name: "gtts", "piper", "espeak" or "fake".
    name: str

    def identity(self) -> Mapping[str, str | int | float | bool]:
        """Everything that changes the audio (engine, versions, voice, language, rate): the cache key."""
        ...

    def describe(self) -> str:
        """One line for people and the manifest, e.g. "espeak-ng 1.52.0, voice en-us, 150 wpm"."""
        ...

    def synthesize(self, text: str) -> Speech:
        """Speak ``text``; raise :class:`~stretchcast.errors.VoiceError` if the engine cannot."""
        ...


DEFAULT_CUE_TIMEOUT_S = 120.0


def cue_timeout(voice: Voice) -> float:
    """Seconds one cue may take before the engine counts as hung (its optional ``timeout_s``).

    Generous by default: a cold Piper start takes about a second and gTTS bounds each request
    itself; this only catches an engine that never returns.
    """
    value = getattr(voice, "timeout_s", DEFAULT_CUE_TIMEOUT_S)
    return float(value) if isinstance(value, int | float) and value > 0 else DEFAULT_CUE_TIMEOUT_S


def parallelism(voice: Voice) -> int:
    """How many cues ``voice`` may speak at once (its optional ``parallel`` attribute; 1 if absent).

    Engines that wait on the network (gTTS) gain from threads; engines bound to the CPU or to a
    process-wide library (Piper, espeak-ng) do not, and leave the attribute out or set it to 1.
    """
    value = getattr(voice, "parallel", 1)
    return max(1, int(value)) if isinstance(value, int) else 1


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


@cache
def installed_version(distribution: str) -> str:
    """The installed version of ``distribution`` (part of a voice's identity), or "?" if it is missing.

    Read from the name of its ``.dist-info`` folder (``{name}-{version}.dist-info``, as wheels
    install it), in the first ``sys.path`` folder that holds one, as ``importlib.metadata`` looks:
    importing that (with ``email`` and ``zipfile``) took 55-95 ms of a warm Piper build. Where
    no single such folder is found, ``importlib.metadata`` answers.
    """
    wanted = _normalized(distribution)
    for entry in sys.path:
        try:
            names = [path.name for path in Path(entry or ".").iterdir()]
        except OSError:
            continue
        found = {
            name[: -len(".dist-info")].partition("-")[2]
            for name in names
            if name.endswith(".dist-info") and _normalized(name.partition("-")[0]) == wanted
        }
        if len(found) == 1:
            return found.pop()
        if found:
            break  # two versions side by side: let importlib.metadata choose, as it always did
    import importlib.metadata

    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "?"
