"""Signal helpers shared by cue preparation and mastering: trim, resample, level, loudness, limiting.

All audio here is mono float32 in [-1, 1]. Nothing in this module knows about routines or files.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import pyloudnorm
from scipy import ndimage, signal

from .voices.base import Samples, Speech

# Loudness of every cue (BS.1770, gated, like the track's). Measured on the same 40 cues, levelling
# by plain active RMS left Piper 1.3 LU quieter than espeak-ng; K-weighted loudness makes engines
# and cues sound alike, and mastering then lifts the whole track to -16 LUFS.
CUE_LOUDNESS_LUFS = -20.0
# Peaks of a cue may rise this far above its loudness. Mastering lifts the track by about 4 dB to
# -16 LUFS under a -1.5 dBTP ceiling, so 14 dB leaves the master limiter next to nothing to do
# whichever engine spoke. Piper's raw peaks sit ~21 dB above its loudness: limited across the
# whole track that took four slow passes and still missed the target by 0.2 LU; limited here, on
# each short cue, it is cheap and the same for every engine.
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
    level = loudness(x, sample_rate)
    if not math.isfinite(level):
        level = speech_level_db(x, sample_rate)
    if not math.isfinite(level):
        return x
    return (x * db_to_gain(target_lufs - level)).astype(np.float32)


def prepare_cue(speech: Speech, sample_rate: int) -> Samples:
    """A synthesized cue made ready for the track: at the track's rate, trimmed, at the common loudness."""
    x = resample(np.asarray(speech.samples, dtype=np.float32), speech.sample_rate, sample_rate)
    x = set_speech_level(trim(x, sample_rate), sample_rate)
    ceiling = target = CUE_LOUDNESS_LUFS + CUE_PEAK_ABOVE_LOUDNESS_DB
    for attempt in range(4):
        over = true_peak_db(x) - ceiling
        if over <= 0.25:
            break
        if attempt:
            # Limiting takes some loudness away with the peaks; giving it back raises them again,
            # so each further pass aims lower by what the last one overshot.
            target -= over
        x = set_speech_level(limit(x, sample_rate, target), sample_rate)
    return x


@lru_cache(maxsize=8)
def _meter(sample_rate: int) -> pyloudnorm.Meter:
    return pyloudnorm.Meter(sample_rate)


def loudness(x: Samples, sample_rate: int) -> float:
    """Integrated loudness in LUFS (ITU-R BS.1770-4 with gating); -inf for silence."""
    if len(x) < sample_rate // 2:
        x = np.concatenate([x, np.zeros(sample_rate // 2 - len(x), dtype=np.float32)])
    return float(_meter(sample_rate).integrated_loudness(x.astype(np.float64)))


def true_peak_envelope(x: Samples, oversample: int = 4) -> np.ndarray:
    """Per input sample, the largest magnitude of the ``oversample``-times upsampled signal around it."""
    if not len(x):
        return np.zeros(0)
    up = np.abs(signal.resample_poly(x.astype(np.float64), oversample, 1))
    return np.asarray(up[: len(x) * oversample].reshape(len(x), oversample).max(axis=1), dtype=np.float64)


def true_peak_db(x: Samples) -> float:
    """True peak in dBTP (4x oversampling, as BS.1770-4 annex 2)."""
    env = true_peak_envelope(x)
    return gain_to_db(float(env.max())) if len(env) else -math.inf


def limit(x: Samples, sample_rate: int, ceiling_db: float, *, lookahead_ms: float = 5.0) -> Samples:
    """``x`` with its true peak held at or below ``ceiling_db`` by smooth gain reduction.

    The needed gain per sample is spread over ``lookahead_ms`` on both sides with a minimum
    filter, then smoothed with a moving average no wider than that spread, so the smoothed gain
    never exceeds what any sample needs: no overshoot, no clicks.
    """
    ceiling = db_to_gain(ceiling_db)
    env = true_peak_envelope(x)
    if not len(env) or env.max() <= ceiling:
        return x
    need = np.minimum(1.0, ceiling / np.maximum(env, 1e-12))
    half = max(1, int(sample_rate * lookahead_ms / 1000))
    gain = ndimage.minimum_filter1d(need, size=2 * half + 1, mode="nearest")
    gain = ndimage.uniform_filter1d(gain, size=half + 1, mode="nearest")
    gain = np.minimum(gain, ndimage.minimum_filter1d(need, size=half + 1, mode="nearest"))
    return np.asarray(x * gain, dtype=np.float32)
