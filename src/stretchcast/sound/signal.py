"""Signal helpers shared by cue preparation and mastering: trim, resample, level, loudness, limiting.

All audio here is mono float32 in [-1, 1]. Nothing in this module knows about routines or files.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from stretchcast.sound import dsp
from stretchcast.voices.base import Samples, Speech

# Every cue is levelled to this loudness (BS.1770, gated, like the track's), so that engines and
# cues sound alike; mastering then lifts the whole track to its target.
CUE_LOUDNESS_LUFS = -20.0
# A prepared cue's true peak is held this far above its loudness by a limiter over 5 ms each side,
# the same for every engine; mastering's limiter takes what still stands out under the ceiling.
# Why 13 dB and not less (measured: harder limiting cost the voice more than it saved) is in
# docs/ARCHITECTURE.md, "Cue levels".
CUE_PEAK_ABOVE_LOUDNESS_DB = 13.0
_FRAME_MS = 10


def db_to_gain(db: float) -> float:
    """Decibels to a linear factor."""
    return float(10 ** (db / 20))


def gain_to_db(gain: float) -> float:
    """A linear factor to decibels (-inf for 0)."""
    return 20 * math.log10(gain) if gain > 0 else -math.inf


def resample(x: Samples, rate_in: int, rate_out: int) -> Samples:
    """``x`` at ``rate_out`` (polyphase, so 24000 -> 22050 Hz is exact and fast)."""
    if rate_in == rate_out:
        return x
    from scipy import signal  # only preparing a new cue resamples; importing scipy costs 0.7 s

    g = math.gcd(rate_in, rate_out)
    return np.asarray(signal.resample_poly(x, rate_out // g, rate_in // g), dtype=np.float32)


def _frame_rms_db(x: Samples, sample_rate: int) -> np.ndarray:
    n = max(1, sample_rate * _FRAME_MS // 1000)
    frames = len(x) // n
    if frames == 0:
        return np.array([gain_to_db(float(np.sqrt(np.mean(x**2)))) if len(x) else -math.inf])
    power = np.mean(x[: frames * n].reshape(frames, n).astype(np.float64) ** 2, axis=1)
    with np.errstate(divide="ignore"):
        return np.asarray(10 * np.log10(power), dtype=np.float64)


def trim(
    x: Samples,
    sample_rate: int,
    *,
    below_peak_db: float = 40.0,
    floor_db: float = -55.0,
    margin_ms: int = 20,
) -> Samples:
    """``x`` without leading and trailing silence, with 5 ms fades so the cut makes no click.

    A frame counts as sound when its level is within ``below_peak_db`` of the loudest frame and
    above ``floor_db``; ``margin_ms`` of the quiet edge is kept so consonants are not clipped.
    """
    levels = _frame_rms_db(x, sample_rate)
    if not len(levels) or not np.isfinite(levels.max()):
        return x[:0]
    threshold = max(levels.max() - below_peak_db, floor_db)
    loud = np.flatnonzero(levels > threshold)
    if not len(loud):
        return x[:0]
    n = sample_rate * _FRAME_MS // 1000
    margin = sample_rate * margin_ms // 1000
    start = max(0, loud[0] * n - margin)
    end = min(len(x), (loud[-1] + 1) * n + margin)
    out: Samples = x[start:end].copy()
    fade = min(len(out) // 2, sample_rate * 5 // 1000)
    if fade:
        ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)
        out[:fade] *= ramp
        out[-fade:] *= ramp[::-1]
    return out


def speech_level_db(x: Samples, sample_rate: int) -> float:
    """Active speech level: RMS over frames within 30 dB of the loudest (pauses do not count)."""
    levels = _frame_rms_db(x, sample_rate)
    if not len(levels) or not np.isfinite(levels.max()):
        return -math.inf
    active = levels[levels > levels.max() - 30]
    return float(10 * np.log10(np.mean(10 ** (active / 10))))


def set_speech_level(x: Samples, sample_rate: int, target_lufs: float = CUE_LOUDNESS_LUFS) -> Samples:
    """``x`` scaled so its loudness is ``target_lufs`` (by active level if it is below the loudness gate)."""
    level = loudness(x, sample_rate, recursive=True)  # preparing a cue: scipy is loaded by then
    if not math.isfinite(level):
        level = speech_level_db(x, sample_rate)
    if not math.isfinite(level):
        return x
    return (x * db_to_gain(target_lufs - level)).astype(np.float32)


@dataclass(frozen=True, eq=False)
class PreparedCue:
    """A cue ready for the track, and what mastering needs of it and is costly to measure.

    ``true_peak_dbtp`` is its true peak; ``energy`` its cumulative K-weighted energy with the
    filter's tail (``weighted_energy(samples, rate, tail=k_weighting_tail(rate))``), from which
    the loudness meter's blocks are read wherever the cue is placed.
    """

    samples: Samples
    true_peak_dbtp: float
    energy: npt.NDArray[np.float64]

    @classmethod
    def measure(cls, samples: Samples, true_peak_dbtp: float, sample_rate: int) -> PreparedCue:
        """``samples`` with the true peak given and their weighted energy measured."""
        return cls(
            samples,
            true_peak_dbtp,
            weighted_energy_iir(samples, sample_rate, tail=k_weighting_tail(sample_rate)),
        )


def prepare_cue(speech: Speech, sample_rate: int) -> PreparedCue:
    """A synthesized cue made ready for the track: at the track's rate, trimmed, at the common loudness,
    its loudest syllables limited to ``CUE_PEAK_ABOVE_LOUDNESS_DB`` above that loudness.
    """
    x = resample(np.asarray(speech.samples, dtype=np.float32), speech.sample_rate, sample_rate)
    x = set_speech_level(trim(x, sample_rate), sample_rate)
    ceiling = target = CUE_LOUDNESS_LUFS + CUE_PEAK_ABOVE_LOUDNESS_DB
    peak = true_peak_db(x)
    for attempt in range(4):
        over = peak - ceiling
        if over <= 0.25:
            break
        if attempt:
            # Limiting takes some loudness away with the peaks; giving it back raises them again,
            # so each further pass aims lower by what the last one overshot.
            target -= over
        x = set_speech_level(limit(x, sample_rate, target), sample_rate)
        peak = true_peak_db(x)
    return PreparedCue.measure(x, peak, sample_rate)


# BS.1770 gating: 400 ms blocks every 100 ms, an absolute gate at -70 LUFS and a relative gate
# 10 LU under the loudness of the blocks above it. The block grid is pyloudnorm's, to the sample.
BLOCK_S = 0.4
_STEP = 0.25  # of a block
_ABSOLUTE_GATE = -70.0
_RELATIVE_GATE = -10.0


@lru_cache(maxsize=8)
def k_weighting(sample_rate: int) -> np.ndarray:
    """BS.1770's K-weighting (high shelf, then high pass) at ``sample_rate`` as second-order sections.

    The coefficients are pyloudnorm's (its ``IIRfilter`` formulas, in ``dsp.biquad``; tested equal),
    so this meter and pyloudnorm filter identically; only the block arithmetic below is done
    differently.
    """
    return np.array(
        [
            dsp.biquad("high_shelf", 4.0, 1 / np.sqrt(2), 1500.0, sample_rate),
            dsp.biquad("high_pass", 0.0, 0.5, 38.0, sample_rate),
        ]
    )


#: k_weighting_tail at the MP3 sample rates, as computed below (a test recomputes each): asked for
#: on every build, and a table is free where the impulse response costs a filter pass.
_K_TAILS = {16000: 1298, 22050: 1757, 24000: 1904, 32000: 2497, 44100: 3378, 48000: 3659}


@lru_cache(maxsize=8)
def k_weighting_response(sample_rate: int) -> np.ndarray:
    """The K-weighting's impulse response until it is below 1e-18: the filter as an FIR, exact to rounding."""
    h = dsp.impulse_response(k_weighting(sample_rate), sample_rate // 2)
    return h[: int(np.flatnonzero(np.abs(h) > 1e-18)[-1]) + 1]


@lru_cache(maxsize=8)
def k_weighting_tail(sample_rate: int) -> int:
    """Samples after which the K-weighting filter's response to anything that has stopped is below 1e-9.

    Sounds separated by at least this much silence add their weighted energies exactly (to 1e-18),
    which is what lets a track's loudness be computed from its distinct sounds.
    """
    if sample_rate in _K_TAILS:
        return _K_TAILS[sample_rate]
    response = np.abs(k_weighting_response(sample_rate))
    return int(np.flatnonzero(response > 1e-9)[-1]) + 1


def block_bounds(n_samples: int, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
    """Start and end sample of every gating block of an ``n_samples`` signal (ends clipped to it).

    The same floating-point expressions as pyloudnorm's, so the same blocks to the sample.
    """
    seconds = n_samples / sample_rate
    count = int(np.round((seconds - BLOCK_S) / (BLOCK_S * _STEP))) + 1
    j = np.arange(max(count, 0), dtype=np.float64)
    lo = (BLOCK_S * (j * _STEP) * sample_rate).astype(np.int64)
    hi = (BLOCK_S * (j * _STEP + 1) * sample_rate).astype(np.int64)
    return np.minimum(lo, n_samples), np.minimum(hi, n_samples)


def gated_loudness(block_energy: np.ndarray, sample_rate: int) -> float:
    """Integrated loudness (LUFS) from each gating block's sum of K-weighted squares."""
    z = np.maximum(block_energy, 0.0) / (BLOCK_S * sample_rate)  # mean square per block
    with np.errstate(divide="ignore"):
        block_lufs = -0.691 + 10 * np.log10(z)
    above = z[block_lufs >= _ABSOLUTE_GATE]
    if not len(above):
        return -math.inf
    relative = -0.691 + 10 * math.log10(float(np.mean(above))) + _RELATIVE_GATE
    gated = z[(block_lufs > relative) & (block_lufs > _ABSOLUTE_GATE)]
    if not len(gated):
        return -math.inf
    return -0.691 + 10 * math.log10(float(np.mean(gated)))


def weighted_energy(x: Samples, sample_rate: int, *, tail: int = 0) -> np.ndarray:
    """Cumulative sum of the K-weighted squares of ``x`` followed by ``tail`` zeros, from 0.

    Entry ``i`` is the weighted energy of the first ``i`` samples, so any block's energy is a
    difference of two entries. The filter is applied as its impulse response, by FFT, in numpy
    (equal to scipy's ``sosfilt`` to 1e-13; see ``dsp``); :func:`weighted_energy_iir` is the
    recursive filter, faster on the limiter's repeated passes, where scipy is loaded anyway.
    """
    weighted = dsp.convolve(x, k_weighting_response(sample_rate), len(x) + tail)
    out = np.empty(len(weighted) + 1, dtype=np.float64)
    out[0] = 0.0
    np.cumsum(np.square(weighted, out=weighted), out=out[1:])
    return out


def weighted_energy_iir(x: Samples, sample_rate: int, *, tail: int = 0) -> np.ndarray:
    """:func:`weighted_energy` with scipy's recursive filter (8 times faster than the FFT on a cue).

    For the code that limits (preparing a cue, mastering's limiter re-measuring each limited sound
    at every gain it tries), which loads scipy anyway; results differ from the FFT's by 1e-13.
    """
    from scipy import signal  # 0.7 s to import; only builds that limit need it

    padded = np.zeros(len(x) + tail, dtype=np.float64)
    padded[: len(x)] = x
    weighted = signal.sosfilt(k_weighting(sample_rate), padded)
    out = np.empty(len(padded) + 1, dtype=np.float64)
    out[0] = 0.0
    np.cumsum(np.square(weighted, out=weighted), out=out[1:])
    return out


def loudness(x: Samples, sample_rate: int, *, recursive: bool = False) -> float:
    """Integrated loudness in LUFS (ITU-R BS.1770-4 with gating); -inf for silence.

    Equal to pyloudnorm's ``Meter.integrated_loudness`` (tested to 1e-9 LU) at a fraction of the
    cost: one filter pass, one cumulative sum, and the blocks as differences of it, where
    pyloudnorm sums every block separately in Python. ``recursive`` filters with scipy (8 times
    faster than the FFT, for code that has loaded scipy anyway: preparing a cue).
    """
    if len(x) < sample_rate // 2:
        x = np.concatenate([x, np.zeros(sample_rate // 2 - len(x), dtype=np.float32)])
    energy = (weighted_energy_iir if recursive else weighted_energy)(x, sample_rate)
    lo, hi = block_bounds(len(x), sample_rate)
    return gated_loudness(energy[hi] - energy[lo], sample_rate)


_TP_BLOCK = 1024  # samples per block when deciding where the oversampled peak must be computed


@lru_cache(maxsize=4)
def _interpolator(oversample: int) -> tuple[np.ndarray, float]:
    """The interpolation filter ``resample_poly`` uses for ``oversample``, and its worst-phase gain.

    The gain (the largest sum of absolute taps over the phases) bounds the oversampled signal:
    no interpolated value exceeds the largest nearby sample times it. Blocks whose bound is below
    what matters are skipped, which is exact, not an estimate.
    """
    half = 10 * oversample
    taps = dsp.firwin_kaiser(2 * half + 1, 1.0 / oversample, 5.0) * oversample
    worst = max(float(np.abs(taps[p::oversample]).sum()) for p in range(oversample))
    return taps, worst


def true_peak_envelope(x: Samples, *, floor: float = 0.0, oversample: int = 4) -> np.ndarray:
    """Per input sample, the largest magnitude of the ``oversample``-times upsampled signal around it.

    Where a block cannot reach above ``floor`` (silence, quiet passages), the block's upper bound
    is returned instead of being computed: never less than the true value, and never above
    ``floor``. With ``floor=0`` every block is computed.
    """
    n = len(x)
    if not n:
        return np.zeros(0)
    taps, worst = _interpolator(oversample)
    reach = len(taps) // oversample + 2  # input samples the filter looks at on each side
    blocks = -(-n // _TP_BLOCK)
    padded = np.zeros(blocks * _TP_BLOCK, dtype=np.float64)
    padded[:n] = np.abs(x)
    peaks = padded.reshape(blocks, _TP_BLOCK).max(axis=1)
    near = peaks.copy()
    near[1:] = np.maximum(near[1:], peaks[:-1])
    near[:-1] = np.maximum(near[:-1], peaks[1:])
    bound = near * worst
    env = np.repeat(bound, _TP_BLOCK)[:n]
    active = np.flatnonzero(bound > floor)
    if not len(active):
        return env
    # contiguous runs of active blocks, each upsampled in one call with enough context around it
    breaks = np.flatnonzero(np.diff(active) > 1)
    delay = (len(taps) - 1) // 2
    for first, last in zip(
        np.concatenate(([active[0]], active[breaks + 1])),
        np.concatenate((active[breaks], [active[-1]])),
        strict=True,
    ):
        start, end = int(first) * _TP_BLOCK, min(n, (int(last) + 1) * _TP_BLOCK)
        lo, hi = max(0, start - reach), min(n, end + reach)
        up = dsp.upsample(taps, x[lo:hi], oversample)
        seg = np.abs(up[delay + (start - lo) * oversample : delay + (end - lo) * oversample])
        phases = seg.reshape(end - start, oversample)
        # the largest of the phases, one ufunc call per phase: numpy reduces a short last axis
        # slowly (max(axis=1) was half the cost of the envelope)
        top = env[start:end]
        np.maximum(phases[:, 0], phases[:, 1], out=top)
        for p in range(2, oversample):
            np.maximum(top, phases[:, p], out=top)
    return env


def true_peak_reach(oversample: int = 4) -> int:
    """Input samples on each side that the true-peak interpolator looks at."""
    return len(_interpolator(oversample)[0]) // oversample + 2


def true_peak_db(x: Samples) -> float:
    """True peak in dBTP (4x oversampling, as BS.1770-4 annex 2)."""
    if not len(x):
        return -math.inf
    # the true peak is at least the sample peak, so blocks that cannot beat it need no upsampling
    env = true_peak_envelope(x, floor=float(np.abs(x).max()))
    return gain_to_db(float(env.max()))


@dataclass(frozen=True)
class Measurement:
    """What a loudness meter reads: integrated loudness (LUFS) and true peak (dBTP)."""

    loudness_lufs: float
    true_peak_dbtp: float


def measure(x: Samples, sample_rate: int) -> Measurement:
    """Integrated loudness and true peak of ``x``."""
    return Measurement(loudness(x, sample_rate), true_peak_db(x))


LIMITER_LOOKAHEAD_MS = 5.0


def limiter_half_window(sample_rate: int, lookahead_ms: float = LIMITER_LOOKAHEAD_MS) -> int:
    """Samples the limiter spreads a gain reduction over on each side of a peak."""
    return max(1, int(sample_rate * lookahead_ms / 1000))


def limit(
    x: Samples,
    sample_rate: int,
    ceiling_db: float,
    *,
    gain: float = 1.0,
    envelope: np.ndarray | None = None,
    lookahead_ms: float = LIMITER_LOOKAHEAD_MS,
) -> Samples:
    """``x`` times ``gain`` with its true peak held at or below ``ceiling_db`` by smooth gain reduction.

    The needed gain per sample is spread over ``lookahead_ms`` on both sides with a minimum
    filter, then smoothed with a moving average no wider than that spread, so the smoothed gain
    never exceeds what any sample needs: no overshoot, no clicks. ``envelope`` is
    ``true_peak_envelope(x)`` if already known (it scales with the gain, so one serves every gain
    tried). Only the stretches around peaks are filtered: elsewhere the gain is exactly 1.
    """
    ceiling = db_to_gain(ceiling_db)
    env = true_peak_envelope(x, floor=ceiling / gain) if envelope is None else envelope
    over = np.flatnonzero(env * gain > ceiling)
    out = np.asarray(x * np.float32(gain), dtype=np.float32)
    if not len(over):
        return out
    from scipy import ndimage  # a build that limits loads scipy here (0.7 s); others never do

    half = limiter_half_window(sample_rate, lookahead_ms)
    pad = 3 * half  # beyond the filters' reach, so a stretch filtered alone matches the whole
    breaks = np.flatnonzero(np.diff(over) > 2 * pad)
    firsts = np.concatenate(([over[0]], over[breaks + 1]))
    lasts = np.concatenate((over[breaks], [over[-1]]))
    for first, last in zip(firsts, lasts, strict=True):
        lo, hi = max(0, int(first) - pad), min(len(x), int(last) + pad + 1)
        need = np.minimum(1.0, ceiling / np.maximum(env[lo:hi] * gain, 1e-12))
        g = ndimage.minimum_filter1d(need, size=2 * half + 1, mode="nearest")
        g = ndimage.uniform_filter1d(g, size=half + 1, mode="nearest")
        g = np.minimum(g, ndimage.minimum_filter1d(need, size=half + 1, mode="nearest"))
        out[lo:hi] *= g.astype(np.float32)
    return out
