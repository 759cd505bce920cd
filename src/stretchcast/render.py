"""Assemble a timeline and its cue audio into one track, and master it for phones.

The track is built once into a preallocated buffer: every event is written at the sample its start
time falls on (``start_ms * rate // 1000``), so positions never drift, however long the routine.

Loudness and true peak are promised for what a phone plays, the decoded MP3, not for the PCM that
goes into the encoder: :func:`encode_verified` masters with the encoder's known effect allowed for,
decodes what it encoded, measures it, and corrects and encodes again if it missed.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from . import audio, mp3, tones
from .timeline import Timeline
from .voices.base import Samples

log = logging.getLogger(__name__)

TARGET_LUFS = -16.0  # podcast and mobile loudness, as decoded from the MP3
CEILING_DBTP = -1.5  # the decoded MP3's true peak aims at or below this...
PROMISED_CEILING_DBTP = -1.0  # ...and never exceeds this
LOUDNESS_TOLERANCE_LU = 0.1  # aim for the decoded loudness; the promise is 1 LU
CODING_MARGIN_DB = 1.0  # first guess at how far MP3 coding raises true peaks (measured 0.2 to 1.5 dB)
MAX_ATTEMPTS = 4


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


MAX_BOOST_DB = 12.0  # the most the solver raises the gain above the first estimate


def master(
    x: Samples,
    sample_rate: int,
    *,
    target_lufs: float = TARGET_LUFS,
    ceiling_dbtp: float = CEILING_DBTP,
    tolerance_lu: float = 0.02,
) -> Mastered:
    """``x`` at ``target_lufs`` integrated loudness with its true peak limited to ``ceiling_dbtp``.

    Limiting lowers loudness a little, so the gain that lands on the target after limiting is
    found by the secant method on (gain, loudness): two to four loudness readings in practice.
    The oversampled peak envelope is computed once, since it scales with the gain.
    """
    measured = audio.loudness(x, sample_rate)
    if not np.isfinite(measured):
        return Mastered(x, measured, audio.true_peak_db(x), 0.0)
    first = target_lufs - measured
    ceiling = audio.db_to_gain(ceiling_dbtp)
    envelope = audio.true_peak_envelope(x, floor=ceiling / audio.db_to_gain(first + MAX_BOOST_DB))

    def attempt(gain_db: float) -> tuple[Samples, float]:
        y = audio.limit(x, sample_rate, ceiling_dbtp, gain=audio.db_to_gain(gain_db), envelope=envelope)
        return y, audio.loudness(y, sample_rate)

    gain_db = first
    y, result = attempt(gain_db)
    previous: tuple[float, float] | None = None
    for _ in range(8):
        error = target_lufs - result
        if abs(error) <= tolerance_lu:
            break
        slope = 1.0  # dB of loudness per dB of gain: exactly 1 where nothing is limited
        if previous is not None and previous[1] != result:
            slope = min(1.0, max(0.1, (result - previous[1]) / (gain_db - previous[0])))
        previous = (gain_db, result)
        gain_db = min(first + MAX_BOOST_DB, gain_db + error / slope)
        y, result = attempt(gain_db)
    return Mastered(y, result, audio.true_peak_db(y), gain_db)


def to_int16(x: Samples) -> npt.NDArray[np.int16]:
    """Float samples to 16-bit PCM, rounding and clipping at full scale."""
    return np.clip(np.round(x * 32767.0), -32768, 32767).astype(np.int16)


@dataclass(frozen=True)
class Encoded:
    """One MP3 stream (no tag yet) and what its decoded audio measures."""

    data: bytes
    stats: mp3.Mp3Stats
    measured: audio.Measurement

    @property
    def duration_ms(self) -> float:
        """Decoded length in milliseconds (the header makes it exactly the samples encoded)."""
        return self.stats.samples * 1000 / self.stats.sample_rate


@dataclass(frozen=True)
class Rendered:
    """The whole track and its sections, mastered, encoded and verified by decoding."""

    whole: Encoded
    sections: tuple[Encoded, ...]
    mastered: Mastered
    attempts: int


def _encode(pcm: npt.NDArray[np.int16], sample_rate: int, bitrate: int) -> Encoded:
    buf = io.BytesIO()
    stats = mp3.encode(pcm, sample_rate, bitrate, buf)
    data = buf.getvalue()
    return Encoded(data, stats, audio.measure(mp3.decode(data), sample_rate))


def encode_verified(
    raw: Samples,
    sample_rate: int,
    bitrate: int,
    *,
    sections: Sequence[tuple[int, int]] = (),
    target_lufs: float = TARGET_LUFS,
    ceiling_dbtp: float = CEILING_DBTP,
) -> Rendered:
    """Master ``raw`` and encode it (and each ``(start, end)`` sample range in ``sections``) to MP3.

    The decoded whole lands within 0.1 LU of ``target_lufs`` and every decoded file's true peak
    at or below ``ceiling_dbtp``. LAME hands decoders 0.95 times what it was given (measured, see
    ``mp3.DECODED_GAIN_DB``) and its coding noise raises true peaks by a signal- and
    bitrate-dependent amount, so the first pass allows for both and later passes, if needed,
    correct by what the decoded audio measured. Sections share the whole track's gain, so a
    playlist of them plays at one level.
    """
    lufs_aim = target_lufs - mp3.DECODED_GAIN_DB
    ceiling_aim = ceiling_dbtp - mp3.DECODED_GAIN_DB - CODING_MARGIN_DB
    for attempt in range(1, MAX_ATTEMPTS + 1):
        mastered = master(raw, sample_rate, target_lufs=lufs_aim, ceiling_dbtp=ceiling_aim)
        pcm = to_int16(mastered.samples)
        whole = _encode(pcm, sample_rate, bitrate)
        parts = tuple(_encode(pcm[start:end], sample_rate, bitrate) for start, end in sections)
        peak = max(e.measured.true_peak_dbtp for e in (whole, *parts))
        miss = target_lufs - whole.measured.loudness_lufs
        log.debug(
            "pass %d: PCM aim %.2f LUFS, ceiling %.2f dBTP -> decoded %.2f LUFS, peak %.2f dBTP",
            attempt,
            lufs_aim,
            ceiling_aim,
            whole.measured.loudness_lufs,
            peak,
        )
        rendered = Rendered(whole, parts, mastered, attempt)
        if not np.isfinite(miss) or (abs(miss) <= LOUDNESS_TOLERANCE_LU and peak <= ceiling_dbtp):
            return rendered
        lufs_aim += miss
        if peak > ceiling_dbtp:
            ceiling_aim -= peak - ceiling_dbtp + 0.1
    if abs(miss) <= 1.0 and peak <= PROMISED_CEILING_DBTP:
        log.warning("mastering settled at %.2f LUFS, %.2f dBTP", whole.measured.loudness_lufs, peak)
        return rendered
    raise RuntimeError(
        f"mastering did not converge: decoded {whole.measured.loudness_lufs:.2f} LUFS, {peak:.2f} dBTP"
    )
