"""The few filters a build needs, in numpy alone, so that a warm build does not import scipy.

Importing ``scipy.signal`` (and pyloudnorm, which imports it) took 0.7 s of a 3.3 s warm build
(1.7 s on a loaded machine), to run small things: the K-weighting filter (two biquads), the
true-peak interpolator's taps and the 4x upsampling.
They are here as numpy, equal to scipy's to rounding (tests compare them with
``scipy.signal.sosfilt``, ``firwin``, ``upfirdn`` and pyloudnorm's coefficients). Code that
limits (preparing a cue, the master limiter) imports scipy where it is called and uses its
faster recursive filter and running minimum: a warm build where nothing needs limiting (the
fake voice; a frame back end with its mastered sounds cached, once builds use one) never loads it.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]


def biquad(kind: str, gain_db: float, q: float, fc: float, rate: int) -> Floats:
    """One second-order section ``[b0, b1, b2, 1, a1, a2]``: pyloudnorm's ``IIRfilter`` formulas.

    The RBJ cookbook's high shelf and high pass, written exactly as pyloudnorm writes them, so
    the K-weighting here and pyloudnorm's meter filter alike.
    """
    a_ = 10 ** (gain_db / 40.0)
    w0 = 2.0 * np.pi * (fc / rate)
    alpha = np.sin(w0) / (2.0 * q)
    cos = np.cos(w0)
    if kind == "high_shelf":
        b0 = a_ * ((a_ + 1) + (a_ - 1) * cos + 2 * np.sqrt(a_) * alpha)
        b1 = -2 * a_ * ((a_ - 1) + (a_ + 1) * cos)
        b2 = a_ * ((a_ + 1) + (a_ - 1) * cos - 2 * np.sqrt(a_) * alpha)
        a0 = (a_ + 1) - (a_ - 1) * cos + 2 * np.sqrt(a_) * alpha
        a1 = 2 * ((a_ - 1) - (a_ + 1) * cos)
        a2 = (a_ + 1) - (a_ - 1) * cos - 2 * np.sqrt(a_) * alpha
    elif kind == "high_pass":
        b0 = (1 + cos) / 2
        b1 = -(1 + cos)
        b2 = (1 + cos) / 2
        a0 = 1 + alpha
        a1 = -2 * cos
        a2 = 1 - alpha
    else:
        raise ValueError(f"unknown filter {kind!r}")
    return np.concatenate([np.array([b0, b1, b2]) / a0, np.array([a0, a1, a2]) / a0])


def firwin_kaiser(numtaps: int, cutoff: float, beta: float) -> Floats:
    """``scipy.signal.firwin(numtaps, cutoff, window=("kaiser", beta))``: a low pass, unit gain at 0 Hz.

    ``cutoff`` is a fraction of the Nyquist frequency.
    """
    m = np.arange(numtaps, dtype=np.float64) - (numtaps - 1) / 2
    h = cutoff * np.sinc(cutoff * m) * np.kaiser(numtaps, beta)
    return np.asarray(h / h.sum(), dtype=np.float64)


def upsample(taps: Floats, x: npt.ArrayLike, up: int) -> Floats:
    """``scipy.signal.upfirdn(taps, x, up=up)``: ``x`` with ``up - 1`` zeros after each sample, filtered.

    Done as ``up`` short convolutions (one per phase of the taps), never touching the zeros.
    """
    x = np.asarray(x, dtype=np.float64)
    if not len(x):
        return np.zeros(0)
    length = (len(x) - 1) * up + len(taps)
    out = np.zeros(length, dtype=np.float64)
    for phase in range(up):
        part = np.convolve(x, taps[phase::up]) if len(taps[phase::up]) else np.zeros(0)
        slots = out[phase::up]
        k = min(len(slots), len(part))
        slots[:k] = part[:k]
    return out


def impulse_response(sos: Floats, length: int) -> Floats:
    """The first ``length`` samples of the response of ``sos`` to a unit impulse.

    A plain loop over the samples (a few thousand, once per sample rate): each section's
    difference equation exactly as ``sosfilt`` runs it (direct form II transposed).
    """
    y = [1.0] + [0.0] * (length - 1)
    for b0, b1, b2, _a0, a1, a2 in np.asarray(sos, dtype=np.float64).tolist():
        z1 = z2 = 0.0
        out = []
        for x in y:
            v = b0 * x + z1
            z1 = b1 * x - a1 * v + z2
            z2 = b2 * x - a2 * v
            out.append(v)
        y = out
    return np.array(y, dtype=np.float64)


def convolve(x: npt.ArrayLike, h: Floats, length: int) -> Floats:
    """The first ``length`` samples of ``x`` convolved with ``h`` (zeros after ``x``), by FFT.

    Overlap-add in blocks of a few tens of thousands of samples, a few blocks at a time, so a
    whole decoded hour never needs more than a few MB of spectra.
    """
    x = np.asarray(x, dtype=np.float64)
    out = np.zeros(length, dtype=np.float64)
    if not len(x) or not length:
        return out
    x = x[:length]
    block = 1 << max(12, (len(h) - 1).bit_length(), min(15, (len(x) - 1).bit_length()))
    size = 2 * block  # a block convolved with h fits: len(h) <= block
    spectrum = np.fft.rfft(h, size)
    blocks = -(-len(x) // block)
    step = max(1, (1 << 20) // block)  # blocks transformed together
    for first in range(0, blocks, step):
        last = min(blocks, first + step)
        piece = np.zeros((last - first) * block, dtype=np.float64)
        seg = x[first * block : last * block]
        piece[: len(seg)] = seg
        rows = np.fft.irfft(np.fft.rfft(piece.reshape(-1, block), size, axis=1) * spectrum, size, axis=1)
        lo = first * block
        head = rows[:, :block].reshape(-1)
        tail = rows[:, block:].reshape(-1)
        a = min(length, lo + len(head))
        if a > lo:
            out[lo:a] += head[: a - lo]
        b = min(length, lo + block + len(tail))
        if b > lo + block:
            out[lo + block : b] += tail[: b - lo - block]
    return out
