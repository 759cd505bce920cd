"""Feed the encoders: one pass over a mastered track writes the whole MP3 and its split sections."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from stretchcast.sound import mp3
from stretchcast.sound import signal as audio
from stretchcast.sound.layout import CHUNK_SAMPLES
from stretchcast.sound.master import MasteredTrack


@dataclass(frozen=True)
class Encoded:
    """One MP3 stream written (tag apart) and what its decoded audio will measure."""

    stats: mp3.Mp3Stats
    measured: audio.Measurement

    @property
    def duration_ms(self) -> float:
        """Decoded length in milliseconds (the header makes it exactly the samples encoded)."""
        return self.stats.samples * 1000 / self.stats.sample_rate


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
