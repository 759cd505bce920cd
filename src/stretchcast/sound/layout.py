"""The track as distinct sounds placed on silence: which sounds, where, and the PCM they make.

A track is a few distinct sounds (each cue, each chime) placed many times on silence: a 60-minute
routine places about 1,000 cues but has only 100 to 200 distinct ones. So the track is never held
whole. :func:`layout` groups the events into *sounds* (events closer together than the loudness
meter's memory are one sound) and notes where each is placed; :func:`chunks` then writes silence
and sounds into a small buffer, piece by piece. Memory follows the number of distinct sounds, not
the length of the routine. :func:`assemble` is the plain reference (the whole track in memory)
that tests compare with.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from stretchcast.sound import signal as audio
from stretchcast.sound import tones
from stretchcast.timeline import Timeline
from stretchcast.voices.base import Samples

log = logging.getLogger(__name__)

CHUNK_SAMPLES = 1 << 17  # what is handed to the encoder at a time (~6 s at 22.05 kHz, 256 KB)


class CueAudio(Protocol):
    """Anything that gives a cue's prepared audio by its text (a dict, or a CueSet)."""

    def __getitem__(self, text: str, /) -> Samples: ...


class CuePeaks(Protocol):
    """A CueSet: prepared audio, and the true peak and weighted energy measured when it was prepared."""

    def __getitem__(self, text: str, /) -> Samples: ...

    def true_peak_db(self, text: str, /) -> float: ...

    def weighted_energy(self, text: str, /) -> npt.NDArray[np.float64]: ...


#: A sound's cumulative K-weighted energy (``audio.weighted_energy`` with the filter's tail) and the
#: factor it is scaled by: a cue's, measured once when it was prepared, times its gain squared.
Energy = tuple[npt.NDArray[np.float64], float]


def ms_to_samples(ms: int, sample_rate: int) -> int:
    """The sample a time in milliseconds falls on."""
    return ms * sample_rate // 1000


def assemble(timeline: Timeline, cues: CueAudio, sample_rate: int) -> Samples:
    """The raw track in memory: cues and chimes at their event times, zeros everywhere else.

    Builds stream the same samples instead (:func:`layout`); this is the plain reference that
    tests compare them with.
    """
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


# -- the track as distinct sounds ----------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Layout:
    """A track as distinct sounds placed on silence: ``sounds[which[i]]`` starts at ``starts[i]``.

    Placements are in time order and never overlap. ``peaks`` holds each sound's true peak in
    dBTP: exact, or a bound no lower than it where a sound joins parts measured apart.
    ``energies`` holds, where known, each sound's weighted energy (a cue's, measured when it was
    prepared); the loudness meter measures the others.
    """

    sample_rate: int
    length: int
    sounds: tuple[Samples, ...]
    peaks: tuple[float, ...]
    starts: npt.NDArray[np.int64]
    which: npt.NDArray[np.int64]
    energies: tuple[Energy | None, ...] = ()

    def energy(self, s: int) -> Energy | None:
        """Sound ``s``'s weighted energy if it is known."""
        return self.energies[s] if s < len(self.energies) else None

    def pcm(self, chunk: int = CHUNK_SAMPLES) -> Iterator[Samples]:
        """The raw track, ``chunk`` samples at a time (what :func:`assemble` returns, in pieces)."""
        yield from chunks(self.length, self.starts, self.which, self.sounds, np.float32, chunk)  # type: ignore[misc]


def guard_samples(sample_rate: int) -> int:
    """Silence that keeps two sounds independent: the meter's filter memory plus the limiter's reach."""
    return audio.k_weighting_tail(sample_rate) + 4 * audio.limiter_half_window(sample_rate)


@dataclass(frozen=True)
class _Part:
    start: int  # in the track
    key: tuple[str, str, int, float]  # kind, text, samples, gain
    samples: Samples
    peak: float
    energy: Energy | None


def layout(timeline: Timeline, cues: CuePeaks, sample_rate: int) -> Layout:
    """The timeline's audio as distinct sounds and where each is played; no track is assembled."""
    guard = guard_samples(sample_rate)
    sounds: list[Samples] = []
    peaks: list[float] = []
    energies: list[Energy | None] = []
    index: dict[tuple[object, ...], int] = {}
    starts: list[int] = []
    which: list[int] = []
    group: list[_Part] = []

    def close() -> None:
        first = group[0].start
        key = tuple((p.start - first, p.key) for p in group)
        found = index.get(key)
        if found is None:
            found = index[key] = len(sounds)
            sound, peak, energy = _join(group, sample_rate)
            sounds.append(sound)
            peaks.append(peak)
            energies.append(energy)
        starts.append(first)
        which.append(found)
        group.clear()

    parts: dict[tuple[str, str, int, float], tuple[Samples, float, Energy | None]] = {}
    for event in timeline.events:
        if event.kind == "silence" or event.text is None:
            continue
        start = ms_to_samples(event.start_ms, sample_rate)
        end = ms_to_samples(event.end_ms, sample_rate)
        n = min(len(cues[event.text]), end - start) if event.kind == "speech" else end - start
        key = (event.kind, event.text, n, event.gain_db)
        if key not in parts:
            parts[key] = _part_audio(key, cues, sample_rate)
        samples, peak, energy = parts[key]
        if group and start - (group[-1].start + len(group[-1].samples)) < guard:
            group.append(_Part(start, key, samples, peak, energy))
            continue
        if group:
            close()
        group.append(_Part(start, key, samples, peak, energy))
    if group:
        close()
    length = ms_to_samples(timeline.duration_ms, sample_rate)
    log.debug("layout: %d placements of %d distinct sounds", len(starts), len(sounds))
    return Layout(
        sample_rate,
        length,
        tuple(sounds),
        tuple(peaks),
        np.array(starts, dtype=np.int64),
        np.array(which, dtype=np.int64),
        tuple(energies),
    )


def layout_of(x: Samples, sample_rate: int) -> Layout:
    """One signal as a layout of one sound (how :func:`master` treats a whole array)."""
    x = np.asarray(x, dtype=np.float32)
    return Layout(
        sample_rate,
        len(x),
        (x,),
        (audio.true_peak_db(x),),
        np.zeros(1, dtype=np.int64),
        np.zeros(1, dtype=np.int64),
    )


def _part_audio(
    key: tuple[str, str, int, float], cues: CuePeaks, sample_rate: int
) -> tuple[Samples, float, Energy | None]:
    kind, text, n, gain_db = key
    if kind == "tone":
        chime = tones.chime(text, n, sample_rate)
        return chime, _chime_peak(text, n, sample_rate), None
    cue = cues[text]
    if n < len(cue):  # cut short by its event (never, with real lengths): measured as it is
        samples = cue[:n] * audio.db_to_gain(gain_db)
        return samples, audio.true_peak_db(samples), None
    peak = cues.true_peak_db(text) + gain_db  # the true peak scales with the gain
    if gain_db == 0:
        return cue, peak, (cues.weighted_energy(text), 1.0)
    # Scaled in float32, the samples are not exactly the cue times the gain: their energy is
    # measured on them (a few soft countdown words), so the loudness stays exact.
    return cue * audio.db_to_gain(gain_db), peak, None


_chime_peaks: dict[tuple[str, int, int], float] = {}


def _chime_peak(name: str, n: int, sample_rate: int) -> float:
    key = (name, n, sample_rate)
    if key not in _chime_peaks:
        _chime_peaks[key] = audio.true_peak_db(tones.chime(name, n, sample_rate))
    return _chime_peaks[key]


def _join(group: Sequence[_Part], sample_rate: int) -> tuple[Samples, float, Energy | None]:
    """One sound from parts a little apart, and a true peak no lower than its own.

    Each part's peak was measured alone; where two parts come within the interpolator's reach of
    each other their oversampled signals add, so the envelope is measured there on the joined
    sound. The maximum of both is the true peak, or above it if a part's own peak lay in such a
    junction (never below: safe for a ceiling).
    """
    if len(group) == 1:
        return group[0].samples, group[0].peak, group[0].energy
    first = group[0].start
    end = group[-1].start + len(group[-1].samples)
    out = np.zeros(end - first, dtype=np.float32)
    for p in group:
        out[p.start - first : p.start - first + len(p.samples)] = p.samples
    peak = max(p.peak for p in group)
    reach = audio.true_peak_reach()
    for a, b in itertools.pairwise(group):
        a_end = a.start + len(a.samples) - first
        b_start = b.start - first
        if b_start - a_end < 2 * reach:
            lo, hi = max(0, b_start - 2 * reach), min(len(out), a_end + 2 * reach)
            ctx_lo, ctx_hi = max(0, lo - 2 * reach), min(len(out), hi + 2 * reach)
            env = audio.true_peak_envelope(out[ctx_lo:ctx_hi])[lo - ctx_lo : hi - ctx_lo]
            peak = max(peak, audio.gain_to_db(float(env.max())) if len(env) else -math.inf)
    return out, peak, None  # the filter's memory crosses the junctions: measured on the joined sound


def chunks(  # noqa: PLR0917 - called three times, with every argument
    length: int,
    starts: npt.NDArray[np.int64],
    which: npt.NDArray[np.int64],
    sounds: Sequence[npt.NDArray[np.generic]],
    dtype: type[np.generic],
    chunk: int,
    *,
    reuse: bool = False,
) -> Iterator[npt.NDArray[np.generic]]:
    """The track from its placements, ``chunk`` samples at a time.

    With ``reuse`` every piece is the same buffer, valid until the next is asked for: what the
    encoder wants (it copies what it is given), and no allocation per chunk.
    """
    buf = np.zeros(chunk, dtype=dtype)
    i = 0  # first placement that may reach into this chunk
    count = len(starts)
    for lo in range(0, length, chunk):
        hi = min(length, lo + chunk)
        buf[:] = 0
        while i < count and starts[i] + len(sounds[which[i]]) <= lo:
            i += 1
        j = i
        while j < count and starts[j] < hi:
            sound = sounds[which[j]]
            s = int(starts[j])
            a, b = max(lo, s), min(hi, s + len(sound))
            buf[a - lo : b - lo] = sound[a - s : b - s]
            j += 1
        yield buf[: hi - lo] if reuse else buf[: hi - lo].copy()
