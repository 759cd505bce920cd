"""Lay a timeline's sounds out, master them for phones, and stream the track into the MP3 encoder.

A track is a few distinct sounds (each cue, each chime) placed many times on silence: a 60-minute
routine places about 1,000 cues but has only 100 to 200 distinct ones. So the track is never held
whole. :func:`layout` groups the events into *sounds* (events closer together than the loudness
meter's memory are one sound) and notes where each is placed; mastering measures the loudness
from each distinct sound's K-weighted energy, gathered into the meter's 400 ms blocks at every
place it is played, and the true peak from each distinct sound; :meth:`MasteredTrack.chunks` then
writes silence and mastered sounds into a small buffer that is handed to the encoder piece by
piece. Memory follows the number of distinct sounds, not the length of the routine, and the
arithmetic is exactly what measuring the assembled track would give (tested against
:func:`assemble` and pyloudnorm).

Loudness and true peak are promised for what a phone plays, the decoded MP3. LAME hands decoders
0.95 times its input (``mp3.DECODED_GAIN_DB``), which mastering allows for exactly, and its coding
noise raises true peaks by an amount no model predicts sample by sample, so the PCM's true peak is
held a margin under the ceiling (:func:`coding_margin_db`, per format): more than the largest rise
measured by ``benchmarks/coding_margin.py`` (``tests/test_mastering.py`` decodes tracks of every
voice and of the formats where the rise is largest, and checks both).
"""

from __future__ import annotations

import functools
import itertools
import logging
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from stretchcast.sound import mp3, tones
from stretchcast.sound import signal as audio
from stretchcast.timeline import Timeline
from stretchcast.voices.base import Samples

log = logging.getLogger(__name__)

TARGET_LUFS = -16.0  # podcast and mobile loudness, as decoded from the MP3
CEILING_DBTP = -1.5  # the decoded MP3's true peak aims at or below this...
PROMISED_CEILING_DBTP = -1.0  # ...and never exceeds this
LOUDNESS_TOLERANCE_LU = 0.1  # the decoded loudness lands this close to the target; the promise is 1 LU
# How far MP3 coding may raise the true peak above the PCM's (times LAME's 0.95), per format: the
# PCM's true peak is held this far under the ceiling. Measured by benchmarks/coding_margin.py
# (espeak-ng and Piper, the standard and full routines, decoded by libsndfile; as built and with
# the master limiter forced to work on every sound): the largest rise plus 0.4 dB, rounded up to
# a quarter dB, never under 2.5 dB. The rise grows as bits per sample fall and as peaks crowd
# under the ceiling: 0.3 to 1.3 dB at 112 kbit/s and up, 1.6 to 2.1 dB at 22.05 kHz/64 kbit/s
# (the default), up to 4.6 dB at 32 kHz/40 kbit/s (1.25 bits a sample).
CODING_MARGIN_DB = 2.5  # formats not in the table: 112 kbit/s and up
CODING_MARGINS_DB: dict[tuple[int, int], float] = {
    (16000, 40): 3.25,
    (16000, 48): 3.0,
    (16000, 56): 3.0,
    (16000, 64): 2.75,
    (16000, 80): 2.5,
    (16000, 96): 2.5,
    (22050, 56): 3.5,
    (22050, 64): 2.5,
    (22050, 80): 2.5,
    (22050, 96): 2.5,
    (24000, 64): 3.0,
    (24000, 80): 2.5,
    (24000, 96): 2.5,
    (32000, 40): 5.0,
    (32000, 48): 4.5,
    (32000, 56): 3.5,
    (32000, 64): 3.5,
    (32000, 80): 2.5,
    (32000, 96): 2.5,
    (44100, 56): 4.5,
    (44100, 64): 4.0,
    (44100, 80): 2.5,
    (44100, 96): 2.5,
    (48000, 64): 4.0,
    (48000, 80): 3.0,
    (48000, 96): 2.5,
}


def coding_margin_db(sample_rate: int, bitrate: int) -> float:
    """How far under the ceiling the PCM's true peak is held for MP3 coding at this format."""
    return CODING_MARGINS_DB.get((sample_rate, bitrate), CODING_MARGIN_DB)


MAX_BOOST_DB = 12.0  # the most the solver raises the gain above the first estimate
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
        yield from _chunks(self.length, self.starts, self.which, self.sounds, np.float32, chunk)  # type: ignore[misc]


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


def _chunks(  # noqa: PLR0917 - one private helper, called three times with every argument
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


# -- loudness from the distinct sounds ------------------------------------------------------------


class _Blocks:
    """The meter's gating blocks of a layout, and which part of which sound falls in each."""

    def __init__(self, layout: Layout) -> None:
        rate = layout.sample_rate
        self.tail = audio.k_weighting_tail(rate)
        lo, hi = audio.block_bounds(max(layout.length, rate // 2), rate)
        self.count = len(lo)
        lengths = np.array([len(x) for x in layout.sounds], dtype=np.int64)
        spans = lengths[layout.which] + self.tail if len(lengths) else layout.starts
        j0 = np.searchsorted(hi, layout.starts, side="right")
        j1 = np.searchsorted(lo, layout.starts + spans, side="left")
        counts = np.maximum(j1 - j0, 0)
        # one entry per (placement, block it reaches), built without a loop over placements
        placement = np.repeat(np.arange(len(counts)), counts)
        offset = np.arange(len(placement)) - np.repeat(np.cumsum(counts) - counts, counts)
        self.block = (j0[placement] + offset).astype(np.int64)
        start, span = layout.starts[placement], spans[placement]
        self.lo = np.clip(lo[self.block] - start, 0, span)
        self.hi = np.clip(hi[self.block] - start, 0, span)
        of_sound = layout.which[placement]
        order = np.argsort(of_sound, kind="stable")
        bounds = np.searchsorted(of_sound[order], np.arange(len(layout.sounds) + 1))
        #: per sound, the (placement, block) pairs it contributes to
        self.pairs = [order[bounds[s] : bounds[s + 1]] for s in range(len(layout.sounds))]

    def energies(
        self, x: Samples, sample_rate: int, pairs: npt.NDArray[np.int64], known: Energy | None = None
    ) -> np.ndarray:
        """The K-weighted energy ``x`` puts in each of ``pairs``' blocks (from ``known`` if given)."""
        if known is None:
            cumulative, scale = audio.weighted_energy(x, sample_rate, tail=self.tail), 1.0
        else:
            cumulative, scale = known
        spread = cumulative[self.hi[pairs]] - cumulative[self.lo[pairs]]
        return np.asarray(spread if scale == 1.0 else spread * scale)

    def all_energies(self, layout: Layout) -> np.ndarray:
        """The energy of every (placement, block) pair of ``layout``."""
        energy = np.zeros(len(self.block))
        for s, sound in enumerate(layout.sounds):
            pairs = self.pairs[s]
            energy[pairs] = self.energies(sound, layout.sample_rate, pairs, layout.energy(s))
        return energy

    def loudness(self, pair_energy: np.ndarray, sample_rate: int) -> float:
        """Integrated loudness from the energy of every (placement, block) pair."""
        z = np.bincount(self.block, weights=pair_energy, minlength=self.count)
        return audio.gated_loudness(z, sample_rate)


def layout_loudness(layout: Layout) -> float:
    """Integrated loudness (LUFS) of the track a layout describes, computed from its distinct sounds."""
    blocks = _Blocks(layout)
    return blocks.loudness(blocks.all_energies(layout), layout.sample_rate)


# -- mastering ------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class MasteredTrack:
    """A layout with every distinct sound mastered: one gain, and the limiter where peaks need it.

    ``replaced`` holds the sounds the limiter made (already at the gain); every other sound is its
    layout's sound times the gain, made when asked for: the encoder takes them straight to 16-bit
    PCM, so a build never holds the mastered sounds in floating point as well.
    """

    layout: Layout
    replaced: Mapping[int, Samples]
    peaks: tuple[float, ...]  # true peak of each mastered sound, dBTP
    gain_db: float
    loudness_lufs: float  # of the mastered PCM
    true_peak_dbtp: float  # of the mastered PCM
    energies: tuple[Energy | None, ...] = ()  # of each mastered sound, where known

    @property
    def limited(self) -> int:
        """How many distinct sounds the limiter touched."""
        return len(self.replaced)

    @property
    def gain(self) -> np.float32:
        """The linear gain every sound not limited is multiplied by."""
        gain: np.float32 = np.float32(audio.db_to_gain(self.gain_db))
        return gain

    def sound(self, s: int) -> Samples:
        """Mastered sound ``s``."""
        found = self.replaced.get(s)
        return found if found is not None else self.layout.sounds[s] * self.gain

    @functools.cached_property
    def sounds(self) -> tuple[Samples, ...]:
        """Every mastered sound, in the layout's order."""
        return tuple(self.sound(s) for s in range(len(self.layout.sounds)))

    def pcm(self, chunk: int = CHUNK_SAMPLES) -> Iterator[Samples]:
        """The mastered track as float samples, ``chunk`` at a time."""
        lay = self.layout
        yield from _chunks(lay.length, lay.starts, lay.which, self.sounds, np.float32, chunk)  # type: ignore[misc]

    def pcm16(self, chunk: int = CHUNK_SAMPLES) -> Iterator[npt.NDArray[np.int16]]:
        """The mastered track as 16-bit PCM, ``chunk`` samples at a time, in one reused buffer.

        Each piece is valid until the next is asked for: copy it to keep it (an encoder copies).
        """
        lay = self.layout
        gain = self.gain
        sounds16 = [  # each distinct sound converted once, exactly as to_int16(self.sound(s))
            to_int16(self.replaced[s]) if s in self.replaced else to_int16(sound, gain=gain)
            for s, sound in enumerate(lay.sounds)
        ]
        yield from _chunks(lay.length, lay.starts, lay.which, sounds16, np.int16, chunk, reuse=True)  # type: ignore[misc]


@dataclass(frozen=True)
class Mastered:
    """A whole signal mastered (:func:`master`), and what it measures."""

    samples: Samples
    loudness_lufs: float
    true_peak_dbtp: float
    gain_db: float


def master_layout(
    layout: Layout,
    *,
    target_lufs: float = TARGET_LUFS,
    ceiling_dbtp: float = CEILING_DBTP,
    tolerance_lu: float = 0.02,
) -> MasteredTrack:
    """Every sound of ``layout`` at one gain: the track at ``target_lufs``, peaks under ``ceiling_dbtp``.

    Where no sound's true peak reaches the ceiling at that gain (the usual case: cues are levelled
    with their peaks well under their loudness), the gain is exact in one step. Otherwise the
    limiter works on the sounds that need it, which lowers the loudness a little, so the gain is
    found by the secant method on (gain, loudness), as a whole-track limiter would be.
    """
    rate = layout.sample_rate
    blocks = _Blocks(layout)
    raw = blocks.all_energies(layout)
    measured = blocks.loudness(raw, rate)
    if not math.isfinite(measured):
        peak = max(layout.peaks, default=-math.inf)
        return MasteredTrack(layout, {}, layout.peaks, 0.0, measured, peak, layout.energies)
    first = target_lufs - measured
    ceiling = audio.db_to_gain(ceiling_dbtp)
    floor = ceiling / audio.db_to_gain(first + MAX_BOOST_DB)
    envelopes: dict[int, np.ndarray] = {}

    def attempt(gain_db: float) -> tuple[dict[int, Samples], float]:
        gain = audio.db_to_gain(gain_db)
        energy = raw * gain**2  # weighted energy scales with the square of the gain
        limited: dict[int, Samples] = {}
        for s, peak in enumerate(layout.peaks):
            if peak + gain_db <= ceiling_dbtp:
                continue
            if s not in envelopes:
                envelopes[s] = audio.true_peak_envelope(layout.sounds[s], floor=floor)
            y = audio.limit(layout.sounds[s], rate, ceiling_dbtp, gain=gain, envelope=envelopes[s])
            limited[s] = y
            energy[blocks.pairs[s]] = blocks.energies(y, rate, blocks.pairs[s])
        return limited, blocks.loudness(energy, rate)

    gain_db = first
    limited, result = attempt(gain_db)
    previous: tuple[float, float] | None = None
    for _ in range(8):
        error = target_lufs - result
        if abs(error) <= tolerance_lu or not limited:
            break
        slope = 1.0  # dB of loudness per dB of gain: exactly 1 where nothing is limited
        if previous is not None and previous[1] != result:
            slope = min(1.0, max(0.1, (result - previous[1]) / (gain_db - previous[0])))
        previous = (gain_db, result)
        gain_db = min(first + MAX_BOOST_DB, gain_db + error / slope)
        limited, result = attempt(gain_db)
    gain = np.float32(audio.db_to_gain(gain_db))
    peaks = tuple(
        audio.true_peak_db(limited[s]) if s in limited else p + gain_db for s, p in enumerate(layout.peaks)
    )
    peak = max(peaks, default=-math.inf)
    log.debug(
        "mastered: gain %.2f dB, %.2f LUFS, %.2f dBTP, %d of %d sounds limited",
        gain_db,
        result,
        peak,
        len(limited),
        len(layout.sounds),
    )
    squared = float(gain) ** 2
    known = [layout.energy(s) for s in range(len(layout.sounds))]
    energies = tuple(
        None if s in limited or e is None else (e[0], e[1] * squared) for s, e in enumerate(known)
    )
    return MasteredTrack(layout, limited, peaks, gain_db, result, peak, energies)


def master(
    x: Samples,
    sample_rate: int,
    *,
    target_lufs: float = TARGET_LUFS,
    ceiling_dbtp: float = CEILING_DBTP,
    tolerance_lu: float = 0.02,
) -> Mastered:
    """``x`` at ``target_lufs`` integrated loudness with its true peak limited to ``ceiling_dbtp``."""
    track = master_layout(
        layout_of(x, sample_rate),
        target_lufs=target_lufs,
        ceiling_dbtp=ceiling_dbtp,
        tolerance_lu=tolerance_lu,
    )
    return Mastered(track.sound(0), track.loudness_lufs, track.true_peak_dbtp, track.gain_db)


def to_int16(x: Samples, *, gain: np.float32 | None = None) -> npt.NDArray[np.int16]:
    """Float samples (times ``gain`` in float32, if given) to 16-bit PCM, rounding (half to even) and
    clipping at full scale.
    """
    scaled = np.multiply(x, 32767.0) if gain is None else np.multiply(x, gain)
    if gain is not None:
        scaled *= 32767.0  # the same two roundings as to_int16(x * gain), one temporary
    np.rint(scaled, out=scaled)
    np.clip(scaled, -32768, 32767, out=scaled)
    return scaled.astype(np.int16)


# -- encoding -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Encoded:
    """One MP3 stream written (tag apart) and what its decoded audio will measure."""

    stats: mp3.Mp3Stats
    measured: audio.Measurement

    @property
    def duration_ms(self) -> float:
        """Decoded length in milliseconds (the header makes it exactly the samples encoded)."""
        return self.stats.samples * 1000 / self.stats.sample_rate


def master_for_mp3(layout: Layout, bitrate: int) -> MasteredTrack:
    """``layout`` mastered so that its decoded MP3 measures -16 LUFS with its true peak under -1.5 dBTP.

    LAME's decoded gain is exact and flat (``mp3.DECODED_GAIN_DB``), so the PCM aims that much
    higher; coding noise raises peaks by up to :func:`coding_margin_db`, so the PCM's peaks stay
    that much lower.
    """
    margin = coding_margin_db(layout.sample_rate, bitrate)
    return master_layout(
        layout,
        target_lufs=TARGET_LUFS - mp3.DECODED_GAIN_DB,
        ceiling_dbtp=CEILING_DBTP - mp3.DECODED_GAIN_DB - margin,
    )


def decoded_measurement(track: MasteredTrack, bitrate: int) -> audio.Measurement:
    """What a decoder will measure: the loudness, and the true peak as the bound the margin gives."""
    margin = coding_margin_db(track.layout.sample_rate, bitrate)
    return audio.Measurement(
        track.loudness_lufs + mp3.DECODED_GAIN_DB,
        track.true_peak_dbtp + mp3.DECODED_GAIN_DB + margin,
    )


def section_measurement(track: MasteredTrack, start: int, end: int, bitrate: int) -> audio.Measurement:
    """What a decoder will measure on samples ``start`` to ``end`` of ``track`` (a split track)."""
    lay = track.layout
    sounds: list[Samples] = []
    peaks: list[float] = []
    energies: list[Energy | None] = []
    starts: list[int] = []
    which: list[int] = []
    index: dict[int, int] = {}
    known = track.energies
    for s0, w in zip(lay.starts.tolist(), lay.which.tolist(), strict=True):
        sound = track.sound(w)
        s1 = s0 + len(sound)
        if s1 <= start or s0 >= end:
            continue
        if start <= s0 and s1 <= end:
            if w not in index:
                index[w] = len(sounds)
                sounds.append(sound)
                peaks.append(track.peaks[w])
                energies.append(known[w] if w < len(known) else None)
            which.append(index[w])
        else:  # a sound cut by the boundary (sections start in silence, so hardly ever)
            piece = sound[max(start, s0) - s0 : min(end, s1) - s0]
            which.append(len(sounds))
            sounds.append(piece)
            peaks.append(audio.true_peak_db(piece))
            energies.append(None)
        starts.append(max(start, s0) - start)
    part = Layout(
        lay.sample_rate,
        end - start,
        tuple(sounds),
        tuple(peaks),
        np.array(starts, dtype=np.int64),
        np.array(which, dtype=np.int64),
        tuple(energies),
    )
    return audio.Measurement(
        layout_loudness(part) + mp3.DECODED_GAIN_DB,
        max(peaks, default=-math.inf) + mp3.DECODED_GAIN_DB + coding_margin_db(lay.sample_rate, bitrate),
    )


def encode(
    track: MasteredTrack,
    writers: Sequence[tuple[int, int, mp3.Mp3Writer]],
    chunk: int = CHUNK_SAMPLES,
) -> None:
    """Stream ``track`` into ``writers``, each ``(start, end, writer)`` taking that range of samples.

    One pass over the track feeds them all (the whole track and its split sections), so nothing
    longer than a chunk is ever held. The caller closes the writers.
    """
    lo = 0
    for piece in track.pcm16(chunk):
        hi = lo + len(piece)
        for start, end, writer in writers:
            a, b = max(lo, start), min(hi, end)
            if a < b:
                writer.write(piece[a - lo : b - lo])
        lo = hi
