"""Master a layout for phones: one gain to the loudness target, the limiter where peaks need it.

Mastering measures the loudness from each distinct sound's K-weighted energy, gathered into the
meter's 400 ms blocks at every place it is played, and the true peak from each distinct sound:
exactly what measuring the assembled track would give (tested against
:func:`stretchcast.sound.layout.assemble` and pyloudnorm).

Loudness and true peak are promised for what a phone plays, the decoded MP3. LAME hands decoders
0.95 times its input (``mp3.DECODED_GAIN_DB``), which mastering allows for exactly, and its coding
noise raises true peaks by an amount no model predicts sample by sample, so the PCM's true peak is
held a margin under the ceiling (:func:`coding_margin_db`, per format; how the margins were
measured is in docs/ARCHITECTURE.md).
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from stretchcast.sound import mp3
from stretchcast.sound import signal as audio
from stretchcast.sound.layout import CHUNK_SAMPLES, Energy, Layout, chunks, layout_of
from stretchcast.voices.base import Samples

log = logging.getLogger(__name__)

TARGET_LUFS = -16.0  # podcast and mobile loudness, as decoded from the MP3
CEILING_DBTP = -1.5  # the decoded MP3's true peak aims at or below this...
PROMISED_CEILING_DBTP = -1.0  # ...and never exceeds this
LOUDNESS_TOLERANCE_LU = 0.1  # the decoded loudness lands this close to the target; the promise is 1 LU
# How far MP3 coding may raise the true peak above the PCM's (times LAME's 0.95), per format: the
# PCM's true peak is held this far under the ceiling. Each is the largest rise benchmarks/coding_margin.py
# measures for that format plus 0.4 dB, rounded up to a quarter dB, never under 2.5 dB; rerun it
# when the encoder, the limiter or the cue levels change. The measurements are in
# docs/ARCHITECTURE.md, "Loudness, predicted for the decoded MP3".
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
        self,
        x: Samples,
        sample_rate: int,
        pairs: npt.NDArray[np.int64],
        known: Energy | None = None,
        *,
        limited: bool = False,
    ) -> np.ndarray:
        """The K-weighted energy ``x`` puts in each of ``pairs``' blocks (from ``known`` if given).

        A ``limited`` sound is measured with the recursive filter: the limiter measures each
        of its sounds at every gain it tries, the one hot loop of filtering in a build.
        """
        if known is None:
            measure = audio.weighted_energy_iir if limited else audio.weighted_energy
            cumulative, scale = measure(x, sample_rate, tail=self.tail), 1.0
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


def placed_loudness(
    layout: Layout, energy_at: Callable[[int, npt.NDArray[np.int64]], npt.NDArray[np.float64]]
) -> float:
    """Integrated loudness (LUFS) of a layout whose sounds' cumulative weighted energy is read
    through ``energy_at(s, positions)`` (of each sound only its length is used)."""
    blocks = _Blocks(layout)
    energy = np.zeros(len(blocks.block))
    for s in range(len(layout.sounds)):
        pairs = blocks.pairs[s]
        energy[pairs] = energy_at(s, blocks.hi[pairs]) - energy_at(s, blocks.lo[pairs])
    return blocks.loudness(energy, layout.sample_rate)


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
        yield from chunks(lay.length, lay.starts, lay.which, self.sounds, np.float32, chunk)  # type: ignore[misc]

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
        yield from chunks(lay.length, lay.starts, lay.which, sounds16, np.int16, chunk, reuse=True)  # type: ignore[misc]


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
            energy[blocks.pairs[s]] = blocks.energies(y, rate, blocks.pairs[s], limited=True)
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
