"""Chimes made from sine partials with a bell-like decay: no sample files, the same bytes every time."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from stretchcast.voices.base import Samples

# (seconds after the start, frequency in Hz) of each note; "start" rises, "end" settles.
_NOTES = {
    "start": ((0.0, 659.25), (0.16, 987.77)),  # E5, B5
    "end": ((0.0, 987.77), (0.22, 783.99), (0.44, 659.25)),  # B5, G5, E5
}
_PARTIALS = ((1.0, 1.0), (2.0, 0.35), (3.01, 0.12))  # (multiple of the note, relative amplitude)
_PEAK = 0.3
#: Raised whenever :func:`chime` changes what it makes: chimes kept as MP3 frames are named by
#: :func:`fingerprint`, so a build need not make a chime only to check the one it kept.
TONES_VERSION = 1


def fingerprint(name: str, n_samples: int, sample_rate: int) -> int:
    """A CRC-32 naming what ``chime(name, n_samples, sample_rate)`` makes: its recipe, not its samples."""
    import json
    import zlib

    recipe = [TONES_VERSION, name, _NOTES[name], _PARTIALS, _PEAK, n_samples, sample_rate]
    return zlib.crc32(json.dumps(recipe).encode("ascii"))


@lru_cache(maxsize=16)
def chime(name: str, n_samples: int, sample_rate: int) -> Samples:
    """The chime called ``name`` ("start" or "end"), exactly ``n_samples`` long (read-only: it is shared).

    Made once per length and rate: a track places the same chime at every exercise.
    """
    t = np.arange(n_samples, dtype=np.float64) / sample_rate
    out = np.zeros(n_samples, dtype=np.float64)
    for onset, freq in _NOTES[name]:
        first = int(np.searchsorted(t, onset))  # silent before its onset: computed from there on
        local = t[first:] - onset
        env = np.exp(-local / 0.32)
        env *= np.minimum(1.0, local / 0.004)  # 4 ms attack: soft, no click
        for mult, amp in _PARTIALS:
            out[first:] += amp * env * np.sin(2 * np.pi * freq * mult * local)
    fade = min(n_samples, sample_rate // 20)
    if fade:
        out[-fade:] *= np.linspace(1.0, 0.0, fade)
    peak = np.abs(out).max() if n_samples else 0.0
    samples = (out * (_PEAK / peak if peak else 0.0)).astype(np.float32)
    samples.setflags(write=False)
    return samples
