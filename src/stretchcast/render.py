"""Assemble a timeline and its cue audio into one track, and master it for phones.

The track is built once into a preallocated buffer: every event is written at the sample its start
time falls on (``start_ms * rate // 1000``), so positions never drift, however long the routine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from . import audio, tones
from .timeline import Timeline
from .voices.base import Samples

TARGET_LUFS = -16.0  # podcast and mobile loudness
CEILING_DBTP = -1.5  # true-peak ceiling before encoding; the decoded MP3 stays at or below -1 dBTP


class CueAudio(Protocol):
    """Anything that gives a cue's prepared audio by its text (a dict, or a CueSet)."""

    def __getitem__(self, text: str, /) -> Samples: ...


def ms_to_samples(ms: int, sample_rate: int) -> int:
    """The sample a time in milliseconds falls on."""
    return ms * sample_rate // 1000


def assemble(timeline: Timeline, cues: CueAudio, sample_rate: int) -> Samples:
    """The raw track: cues and chimes at their event times, zeros everywhere else."""
    out = np.zeros(ms_to_samples(timeline.duration_ms, sample_rate), dtype=np.float32)
    for event in timeline.events:
        start = ms_to_samples(event.start_ms, sample_rate)
        end = ms_to_samples(event.end_ms, sample_rate)
        if event.kind == "speech":
            assert event.text is not None
            cue = cues[event.text]
            n = min(len(cue), end - start)
            out[start : start + n] = cue[:n] * audio.db_to_gain(event.gain_db)
        elif event.kind == "tone":
            assert event.text is not None
            out[start:end] = tones.chime(event.text, end - start, sample_rate)
    return out


@dataclass(frozen=True)
class Mastered:
    """The mastered track and what it measures."""

    samples: Samples
    loudness_lufs: float
    true_peak_dbtp: float
    gain_db: float


def master(
    x: Samples,
    sample_rate: int,
    *,
    target_lufs: float = TARGET_LUFS,
    ceiling_dbtp: float = CEILING_DBTP,
) -> Mastered:
    """``x`` at ``target_lufs`` integrated loudness with its true peak limited to ``ceiling_dbtp``.

    Limiting lowers loudness a little, so the gain is corrected and the limiter run again until
    the result is within 0.1 LU of the target (two or three passes in practice).
    """
    measured = audio.loudness(x, sample_rate)
    if not np.isfinite(measured):
        return Mastered(x, measured, audio.true_peak_db(x), 0.0)
    gain_db = target_lufs - measured
    for _ in range(4):
        y = audio.limit(x * audio.db_to_gain(gain_db), sample_rate, ceiling_dbtp)
        result = audio.loudness(y, sample_rate)
        if abs(result - target_lufs) <= 0.1:
            break
        gain_db += target_lufs - result
    return Mastered(y, result, audio.true_peak_db(y), gain_db)


def to_int16(x: Samples) -> npt.NDArray[np.int16]:
    """Float samples to 16-bit PCM, rounding and clipping at full scale."""
    return np.clip(np.round(x * 32767.0), -32768, 32767).astype(np.int16)
