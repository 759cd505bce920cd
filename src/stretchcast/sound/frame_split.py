"""Split tracks cut from a frame-written track: one MP3 per section, the same samples as the whole.

A track written by ``frames.FrameWriter`` is blocks on the frame grid with silent frames between
them; a silent frame carries no audio data, and a block's first frame borrows nothing from frames
before it. A decoder keeps two things from one frame to the next: the second half of each
granule's inverse MDCT (added to the next granule) and the synthesis filterbank's last 1,024
values (16 subband-sample times). After two silent frames both are zero at every rate (a frame
is at least one granule of 18 subband-sample times), so decoding from audio frame ``f`` on, when
frames ``f - 2`` and ``f - 1`` are silent, gives the very samples the whole track decodes to.

A section from decoded sample ``S`` to ``E`` of the whole track is then its frames ``f`` to
``g`` behind a header frame of its own. Decoders drop ``delay + 529`` samples, and the first
sample frame ``f`` decodes to is sample ``f * spf - 1,105`` of the whole track (its decoders drop
LAME's 576 + 529), so ``delay = S + 576 - f * spf``; it must fit the LAME header's 12 bits
(at most 4,095). ``g`` is the fewest frames that decode past ``E`` (the padding, at least 529,
trims the rest). Frames after ``E`` may hold the start of the next section's first block: its
sound starts at or after ``E`` and the padding trims it, but a player that ignores the header
plays up to one frame (26 ms at 22.05 kHz) of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO

from stretchcast.sound import frame_track, frames, mp3
from stretchcast.sound import signal as audio


class CutError(ValueError):
    """A section cannot be cut from the track's frames (the reason says why)."""


@dataclass(frozen=True)
class Cut:
    """Where a section lies in the whole track's frames, and the header that trims it."""

    start: int  # first decoded sample of the whole track in the section
    end: int  # one past its last
    first: int  # first audio frame of the whole track in the section
    frames: int  # audio frames in the section
    delay: int  # encoder delay its header gives

    @property
    def samples(self) -> int:
        """Decoded samples in the section."""
        return self.end - self.start


def _spans(prepared: frame_track.Prepared) -> list[tuple[int, int, int, int]]:
    """(first frame, one past the last frame, onset sample, sound samples) of each block, in order."""
    spf = frames.samples_per_frame(prepared.sample_rate)
    lead = frames.onset_offset(prepared.sample_rate)
    return [
        (f, f + sound.block.size, f * spf + lead, sound.samples)
        for f, sound in ((f, prepared.sounds[key]) for f, key in prepared.plan.placements)
    ]


def cut(prepared: frame_track.Prepared, start: int, end: int) -> Cut:
    """The frames of decoded samples ``start`` to ``end``; raises CutError if they cannot stand alone."""
    rate = prepared.sample_rate
    spf = frames.samples_per_frame(rate)
    if not 0 <= start < end <= prepared.plan.length:
        raise CutError(f"samples {start} to {end} are not inside the track")
    spans = _spans(prepared)
    for _, _, onset, samples in spans:
        for edge in (start, end):
            if onset < edge < onset + samples:
                raise CutError(f"a sound plays across {_clock(edge, rate)}")
    first = (start + mp3.ENCODER_DELAY) // spf
    moved = True
    while moved:  # back past any block that plays in the two frames before it, or into it
        moved = False
        for block_first, block_end, _, _ in spans:
            if block_first < first < block_end + 2:
                first, moved = block_first, True
    delay = start + mp3.ENCODER_DELAY - first * spf
    if delay >= 4096:
        raise CutError(f"the sound before {_clock(start, rate)} ends too close to it to cut there")
    count = -(-(end + mp3.ENCODER_DELAY + mp3.DECODER_DELAY) // spf) - first
    return Cut(start, end, first, count, delay)


def _clock(sample: int, rate: int) -> str:
    seconds = sample / rate
    return f"{int(seconds // 60)}:{seconds % 60:06.3f}"


def write(prepared: frame_track.Prepared, section: Cut, fp: IO[bytes]) -> mp3.Mp3Stats:
    """The section as an MP3 into ``fp`` (after whatever ``fp`` holds: tags)."""
    writer = frames.FrameWriter(fp, prepared.sample_rate, prepared.bitrate)
    stop = section.first + section.frames
    for f, key in prepared.plan.placements:
        block = prepared.sounds[key].block
        if f + block.size <= section.first:
            continue
        if f >= stop:
            break
        if f + block.size > stop:  # the next section's first frames: decoded past the end, trimmed
            block = frames.Block(block.frames[: stop - f], block.samples)
        writer.place(block, f - section.first)
    return writer.close(section.samples, delay=section.delay)


def measurement(prepared: frame_track.Prepared, section: Cut) -> audio.Measurement:
    """What a decoder will measure on the section (as ``frame_track.measurement`` on the whole)."""
    rate = prepared.sample_rate
    spf = frames.samples_per_frame(rate)
    lead = frames.onset_offset(rate)
    inside = [
        (f * spf + lead - section.start, key)
        for f, key in prepared.plan.placements
        if section.start <= f * spf + lead < section.end
    ]
    return frame_track.measure_placed(inside, section.samples, prepared.sounds, rate, prepared.bitrate)


__all__ = ["Cut", "CutError", "cut", "measurement", "write"]
