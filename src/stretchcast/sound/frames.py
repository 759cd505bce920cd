"""MP3 tracks written from frames encoded once: the building block of the frame back end (issue 13).

Every independent ``lameenc`` encode at fixed settings starts with a self-contained frame (its
``main_data_begin`` is 0: it borrows nothing from frames before it), so a sound encoded on its
own can be dropped into any stream at a frame boundary, after silence. A track is then its
gapless header frame, the frames of each sound where it plays, and silent frames between:
no encoder runs for sounds already encoded.

The grid: a sound encoded with :data:`LEAD` zero samples in front plays, in a track whose header
gives LAME's encoder delay, exactly ``LEAD`` samples after the start of the frame its block is
placed at (``LEAD`` + LAME's 576 samples of delay + the decoder's 529 = 1,152: two frames of
576 samples at 16 to 24 kHz, one of 1,152 at 32 to 48 kHz). So onsets fall on a grid of one frame
(26 ms at 22.05 kHz) plus ``LEAD`` samples.

Byte counts: a CBR Layer III frame is ``floor(k * bitrate / rate)`` bytes or one more (the
padding bit), with ``k`` = 144,000 for MPEG-1 (32 to 48 kHz, 1,152 samples a frame) and 72,000
for MPEG-2 (16 to 24 kHz, 576 samples). An encoder pads so that after ``n`` frames the stream
holds ``floor(n * k * bitrate / rate)`` bytes, and players estimate a stream's duration from
that rate. Silent frames here choose their padding bit to keep to that line exactly; a block
encoded apart restarts the encoder's pattern and may leave the stream one byte under it (at
22.05 kHz and 64 kbit/s, 208.98 bytes a frame, a padded silent frame wins back only 0.02 bytes),
so a track stays within a few bytes of the line (at most 3 behind, back to 0 at the end, over
1,000 blocks placed at random gaps of 3 to 60 frames): under a millisecond of duration estimate.

Builds use it by default (``output.track``; split tracks are cut from its frames by
``sound.frame_split``); what is left is in docs/ARCHITECTURE.md, "The frame back end: what is
built and what is not".
"""

from __future__ import annotations

import functools
from typing import IO

import lameenc
import numpy as np
import numpy.typing as npt

from stretchcast.sound import mp3

LEAD = 47  # zero samples in front of a sound's own encode: with the delays, two MPEG-2 frames
DELAYS = mp3.ENCODER_DELAY + mp3.DECODER_DELAY  # 1,105 samples


def _format(sample_rate: int, bitrate: int) -> mp3.FrameFormat:
    mp3.check_format(sample_rate, bitrate)
    return mp3.FrameFormat(sample_rate, bitrate)


def bytes_per_frame_times(sample_rate: int) -> int:
    """``k`` of a frame's byte count ``k * bitrate / rate``: 144,000 for MPEG-1, 72,000 for MPEG-2."""
    return 144_000 if samples_per_frame(sample_rate) == 1152 else 72_000


def expected_bytes(frames: int, sample_rate: int, bitrate: int) -> int:
    """The bytes a CBR stream holds after ``frames`` frames: ``floor(frames * k * bitrate / rate)``."""
    return frames * bytes_per_frame_times(sample_rate) * bitrate // sample_rate


def samples_per_frame(sample_rate: int) -> int:
    """1,152 samples a frame for MPEG-1 (32 to 48 kHz), 576 for MPEG-2 (16 to 24 kHz)."""
    return 1152 if sample_rate >= 32000 else 576


def onset_offset(sample_rate: int) -> int:
    """Where a block's sound starts in decoded audio, after the start of the frame it is placed at."""
    spf = samples_per_frame(sample_rate)
    if (LEAD + DELAYS) % spf:
        raise ValueError(f"LEAD + delays is not whole frames at {sample_rate} Hz")
    return LEAD


def split_frames(data: bytes, sample_rate: int, bitrate: int) -> list[bytes]:
    """``data`` (a lameenc stream of this format) cut into its frames; raises if out of sync."""
    fmt = _format(sample_rate, bitrate)
    unpadded = fmt.frame_bytes()
    out, pos = [], 0
    while pos < len(data):
        if data[pos] != 0xFF or data[pos + 1] & 0xE0 != 0xE0:
            raise ValueError(f"MP3 stream out of frame sync at byte {pos}")
        size = unpadded + ((data[pos + 2] >> 1) & 1)
        out.append(data[pos : pos + size])
        pos += size
    if pos != len(data):
        raise ValueError("MP3 stream ends in the middle of a frame")
    return out


def main_data_begin(frame: bytes, sample_rate: int) -> int:
    """How many bytes of earlier frames this frame's audio data starts in (0: it stands alone)."""
    if samples_per_frame(sample_rate) == 1152:  # MPEG-1: 9 bits
        return int((frame[4] << 1) | (frame[5] >> 7))
    return int(frame[4])  # MPEG-2: 8 bits


class Block:
    """A sound encoded on its own, as whole frames that depend on no frame before them.

    Made from its frames (``Block(frames, samples)``), or from their bytes as the frame cache keeps
    them (``Block.joined``): a warm build only writes a block's bytes and counts its frames, so
    they are cut into frames only if something asks (a split track cut inside a block).
    """

    def __init__(self, frames: tuple[bytes, ...], samples: int, crc: mp3.CrcSpan | None = None) -> None:
        self._frames: tuple[bytes, ...] | None = frames
        self._data: bytes | None = None
        self._format: tuple[int, int] | None = None
        self.size = len(frames)  # frames in the block
        self.samples = samples  # the sound's own samples (not counting LEAD)
        self.crc = crc  # what its bytes do to the music CRC (computed when first needed)

    @classmethod
    def joined(
        cls,
        data: bytes,
        count: int,
        samples: int,
        *,
        sample_rate: int,
        bitrate: int,
        crc: mp3.CrcSpan | None = None,
    ) -> Block:
        """A block of ``count`` frames of this format, one after another in ``data``."""
        block = cls((), samples, crc)
        block._frames, block._data, block._format, block.size = None, data, (sample_rate, bitrate), count
        return block

    @property
    def frames(self) -> tuple[bytes, ...]:
        """The block's frames."""
        if self._frames is None:
            assert self._data is not None and self._format is not None
            self._frames = tuple(split_frames(self._data, *self._format))
        return self._frames

    @functools.cached_property
    def data(self) -> bytes:
        """The block's frames, one after another."""
        return self._data if self._data is not None else b"".join(self.frames)

    @functools.cached_property
    def crc_span(self) -> mp3.CrcSpan:
        """What the block's bytes do to the music CRC."""
        return self.crc if self.crc is not None else mp3.CrcSpan.of(self.data)


def encode_block(samples: npt.NDArray[np.int16], sample_rate: int, bitrate: int, quality: int = 5) -> Block:
    """``samples`` (int16, mono) encoded alone, behind ``LEAD`` zeros, as in ``mp3.Mp3Writer``."""
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(bitrate)
    encoder.set_in_sample_rate(sample_rate)
    encoder.set_out_sample_rate(sample_rate)
    encoder.set_channels(1)
    encoder.set_quality(quality)
    lead = np.zeros(LEAD, dtype=np.int16)
    data = bytes(encoder.encode(np.concatenate([lead, samples]))) + bytes(encoder.flush())
    frames = split_frames(data, sample_rate, bitrate)
    if not frames or main_data_begin(frames[0], sample_rate) != 0:
        raise ValueError("the encoder's first frame borrows from earlier frames: it cannot stand alone")
    return Block(tuple(frames), len(samples))


def silent_frame(sample_rate: int, bitrate: int, *, padded: bool) -> bytes:
    """A frame that decodes to zeros: no audio data at all (side information all zero)."""
    fmt = _format(sample_rate, bitrate)
    header = bytearray(fmt.header())
    if padded:
        header[2] |= 0b10
    return bytes(header) + bytes(fmt.frame_bytes(padded) - 4)


@functools.lru_cache(maxsize=16)
def _silence(sample_rate: int, bitrate: int) -> tuple[tuple[bytes, bytes], tuple[mp3.CrcSpan, mp3.CrcSpan]]:
    """The unpadded and padded silent frames of a format, and their CRC spans (made once)."""
    frames = (
        silent_frame(sample_rate, bitrate, padded=False),
        silent_frame(sample_rate, bitrate, padded=True),
    )
    return frames, (mp3.CrcSpan.of(frames[0]), mp3.CrcSpan.of(frames[1]))


@functools.lru_cache(maxsize=16)
def _silent_tables(sample_rate: int, bitrate: int) -> tuple[list[int], list[int]]:
    """The CRC register after an unpadded and after a padded silent frame, for every register
    (two 65,536-entry tables: one lookup a frame, ~90,000 silent frames in an hour)."""
    register = np.arange(1 << 16, dtype=np.int64)
    out: list[list[int]] = []
    for span in _silence(sample_rate, bitrate)[1]:
        lo, hi = np.array(span.lo, dtype=np.int64), np.array(span.hi, dtype=np.int64)
        out.append((lo[register & 0xFF] ^ hi[register >> 8] ^ span.zero_crc).tolist())
    return out[0], out[1]


class FrameWriter:
    """A gapless MP3 at ``fp`` from blocks placed on the frame grid, with silence between them.

    ``place(block, frame)`` puts a block's first frame at audio frame ``frame`` (counted from 0
    after the header frame); the gap before it is filled with silent frames. ``close(samples)``
    ends the stream with enough silence for decoders to finish the last sound and writes the
    header frame that trims the stream to exactly ``samples`` decoded samples.

    Nothing here runs per byte: a run of silent frames is written in one piece, its padding
    worked out for the whole run at once, and the music CRC is chained from each block's and
    each silent frame's :class:`mp3.CrcSpan` (an hour's track: ~90,000 silent frames and ~1,000
    blocks, 28 MB, its CRC in ~20 ms where running it over the bytes took ~160 ms).
    """

    def __init__(self, fp: IO[bytes], sample_rate: int, bitrate: int) -> None:
        self._fp = fp
        self._rate = sample_rate
        self._bitrate = bitrate
        self._format = _format(sample_rate, bitrate)
        self._spf = samples_per_frame(sample_rate)
        self._k = bytes_per_frame_times(sample_rate) * bitrate
        self._silent, self._silent_crc = _silence(sample_rate, bitrate)
        self._info_at = fp.tell()
        fp.write(bytes(self._format.frame_bytes()))
        self._frames = 0
        self._bytes = 0
        self._crc = 0
        self._line: npt.NDArray[np.int8] = np.zeros(0, dtype=np.int8)  # per frame: 1 where the
        # CBR line gains its extra byte
        self._silent_tables = _silent_tables(sample_rate, bitrate)

    @property
    def frames(self) -> int:
        """Audio frames written so far."""
        return self._frames

    def onset(self, frame: int) -> int:
        """The decoded sample at which a block placed at ``frame`` starts to sound."""
        return frame * self._spf + onset_offset(self._rate)

    def _expected(self, frames: int) -> int:
        return frames * self._k // self._rate

    def _padding(self, count: int) -> npt.NDArray[np.int8]:
        """Whether each of the next ``count`` silent frames is padded, keeping to the CBR line.

        A frame is padded when the stream would otherwise stay short of the line after it. On
        the line, a frame is padded exactly when the line gains its extra byte there. A block
        can leave the stream a byte or two off the line: behind it, every frame is padded until
        the line's unpadded frames (1 in 50 at 22.05 kHz, 64 kbit/s) let it catch up; ahead of it,
        none is until the line's extra bytes catch up with it. Worked out for the run at once.
        """
        first = self._frames
        pattern = self._line_padding(first, count)
        off = self._expected(first) - self._bytes  # bytes behind the line (ahead if negative)
        if off:
            caught = np.cumsum(1 - pattern) if off > 0 else np.cumsum(pattern)
            k = int(np.searchsorted(caught, abs(off)))  # the frame after which it is on the line
            pattern = pattern.copy()
            pattern[: k + 1] = 1 if off > 0 else 0
        return pattern

    def _line_padding(self, first: int, count: int) -> npt.NDArray[np.int8]:
        """Whether frames ``first`` to ``first + count`` gain a byte on the CBR line (0 or 1 each),
        worked out for the whole stream so far at once and kept (one numpy call per doubling)."""
        end = first + count
        if end > len(self._line):
            n = np.arange(max(end, 2 * len(self._line), 4096) + 1, dtype=np.int64) * self._k // self._rate
            self._line = (np.diff(n) - len(self._silent[0])).astype(np.int8)
        return self._line[first:end]

    def silence(self, frames: int) -> None:
        """``frames`` silent frames, each padded or not so the byte count keeps to the CBR rate."""
        if frames <= 0:
            return
        pattern = self._padding(frames).tolist()
        silent = self._silent
        self._fp.write(b"".join([silent[p] for p in pattern]))
        tables = self._silent_tables
        crc = self._crc
        for p in pattern:
            crc = tables[p][crc]
        self._crc = crc
        self._frames += frames
        self._bytes += frames * len(silent[0]) + sum(pattern)

    def place(self, block: Block, frame: int) -> None:
        """``block`` starting at audio frame ``frame`` (not before the end of what is written)."""
        if frame < self._frames:
            raise ValueError(f"frame {frame} is already written (at {self._frames})")
        self.silence(frame - self._frames)
        data = block.data
        self._fp.write(data)
        self._crc = block.crc_span.after(self._crc)
        self._frames += block.size
        self._bytes += len(data)

    def close(self, samples: int, delay: int = mp3.ENCODER_DELAY) -> mp3.Mp3Stats:
        """End the stream at ``samples`` decoded samples and write its header frame.

        ``delay``: the samples decoders drop before their own 529; LAME's 576 unless the stream
        starts inside a longer one (``sound.frame_split``).
        """
        spf = self._spf
        # the decoder's own delay must be in the stream after the last sample, in whole frames
        need = -(-(samples + delay + mp3.DECODER_DELAY) // spf)
        if need < self._frames:
            raise ValueError(f"{samples} samples end before the last block does")
        self.silence(need - self._frames)
        padding = self._frames * spf - delay - samples
        if not 0 <= padding < 4096:
            raise RuntimeError(f"unexpected padding of {padding} samples")
        end = self._fp.tell()
        self._fp.seek(self._info_at)
        self._fp.write(self._info_frame(padding, delay))
        self._fp.seek(end)
        return mp3.Mp3Stats(self._frames, samples, self._bytes, delay, padding, self._rate)

    def _info_frame(self, padding: int, delay: int = mp3.ENCODER_DELAY) -> bytes:
        return mp3.info_frame(self._format, self._frames, self._bytes, self._crc, padding, delay=delay)


__all__ = [
    "LEAD",
    "Block",
    "FrameWriter",
    "encode_block",
    "expected_bytes",
    "main_data_begin",
    "onset_offset",
    "samples_per_frame",
    "silent_frame",
    "split_frames",
]
