"""MP3 encoding with ``lameenc`` plus the Xing/Info and LAME header that lameenc does not write.

Without that header every decoder plays LAME's encoder delay (576 samples, plus the decoder's own
529) as silence at the start and the final frame's padding at the end, so onsets come 50 ms late
and players show the wrong length. The header written here is the one LAME itself writes for CBR
files: frame count, byte count, a seek table, and the encoder delay and padding, which decoders
(mpg123/libsndfile, FFmpeg and the browsers built on it) use to trim the stream to the exact
samples that went in.
"""

from __future__ import annotations

import io
import logging
import math
import struct
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import IO

import lameenc
import numpy as np
import numpy.typing as npt

from stretchcast.errors import UsageError

log = logging.getLogger(__name__)

# LAME scales what it encodes by 0.95: decoders (FFmpeg's and mpg123, sines, noise and speech,
# 22.05 and 44.1 kHz, 56 to 160 kbit/s, lameenc and FFmpeg's libmp3lame alike) give back 0.95
# times the input, -0.446 dB. Mastering aims that much higher so the decoded track is on target.
DECODED_GAIN_DB = 20 * math.log10(0.95)
ENCODER_DELAY = 576  # samples LAME puts before the audio; the LAME header tells decoders to drop them
DECODER_DELAY = 529  # what an MP3 decoder adds on its own; decoders that honour the header drop this too
_LAME_VERSION = b"LAME3.100"

# Layer III tables, by MPEG version: bitrates in kbit/s by index, sample rates by index.
_BITRATES = {
    1: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    2: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_RATES = {44100: (1, 0), 48000: (1, 1), 32000: (1, 2), 22050: (2, 0), 24000: (2, 1), 16000: (2, 2)}
SAMPLE_RATES = tuple(sorted(_RATES))
_INFO_MIN_BYTES = 4 + 17 + 120 + 36  # header, side info (MPEG-1 mono), Xing part, LAME part
_CRC_BATCH = 1 << 22  # bytes of MP3 gathered before they are added to the music CRC


def bitrates_for(sample_rate: int) -> tuple[int, ...]:
    """Bitrates (kbit/s) usable at ``sample_rate``: large enough frames to carry the LAME header."""
    version = _RATES[sample_rate][0]
    per_frame = 144 if version == 1 else 72
    return tuple(b for b in _BITRATES[version][1:] if per_frame * b * 1000 // sample_rate >= _INFO_MIN_BYTES)


def check_format(sample_rate: int, bitrate: int) -> None:
    """Raise a UsageError unless ``sample_rate`` and ``bitrate`` make a valid mono MP3."""
    if sample_rate not in _RATES:
        raise UsageError(
            f"sample rate {sample_rate} Hz is not supported",
            fix=f"Use one of {', '.join(str(r) for r in SAMPLE_RATES)} (22050 is the default).",
        )
    allowed = bitrates_for(sample_rate)
    if bitrate not in allowed:
        raise UsageError(
            f"bitrate {bitrate} kbit/s is not available at {sample_rate} Hz",
            fix=f"Use one of {', '.join(map(str, allowed))} (64 is the default).",
        )


def _crc_table() -> list[int]:
    table = []
    for i in range(256):
        crc = i
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC_TABLE = _crc_table()
_CRC_ROW = 1024  # bytes per row when the CRC of a long buffer is computed row by row, all rows at once


def _crc16_loop(data: bytes | memoryview, crc: int) -> int:
    table = _CRC_TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc


@lru_cache(maxsize=1)
def _crc_word_table() -> npt.NDArray[np.uint16]:
    """The register after two bytes, for every register-xor-word value: two bytes per step."""
    table = np.array(_CRC_TABLE, dtype=np.uint16)
    x = np.arange(1 << 16, dtype=np.uint16)
    x = table[x & 0xFF] ^ (x >> 8)
    return np.asarray(table[x & 0xFF] ^ (x >> 8), dtype=np.uint16)


@lru_cache(maxsize=1)
def _crc_skip_tables() -> tuple[list[int], list[int]]:
    """The register after ``_CRC_ROW`` zero bytes, split by its low and high byte (the map is linear).

    Two zero bytes move the register through ``_crc_word_table()`` (its entry for the register
    itself); composing that map with itself doubles the bytes it skips, so nine compositions of a
    65,536-entry table give the 1,024-byte map (a byte-at-a-time loop took 8 ms of every build).
    """
    skip = _crc_word_table()  # two zero bytes
    for _ in range(_CRC_ROW.bit_length() - 2):  # 2 -> 1024 bytes
        skip = skip[skip]
    byte = np.arange(256, dtype=np.uint16)
    return [int(v) for v in skip[byte]], [int(v) for v in skip[byte << 8]]


def crc16(data: bytes | memoryview, crc: int = 0) -> int:
    """CRC-16 (polynomial 0x8005, reflected; the one the LAME header uses), continuing from ``crc``.

    A byte-at-a-time loop in Python costs ~0.1 us a byte (0.6 s for the MP3 of a 10-minute
    track), so long buffers are cut into rows whose CRCs are computed together with numpy, two
    bytes a step, and chained: the CRC is linear, so the register carried into a row is the one
    before it pushed through the row's length of zero bytes (a fixed map, tabulated once).
    """
    view = memoryview(data).cast("B")
    head = len(view) % _CRC_ROW
    crc = _crc16_loop(view[:head], crc)
    rows = len(view) // _CRC_ROW
    if not rows:
        return crc
    words = np.frombuffer(view[head:], dtype="<u2").reshape(rows, _CRC_ROW // 2).T.copy()
    table = _crc_word_table()
    reg = np.zeros(rows, dtype=np.uint16)
    for column in words:
        reg = table[reg ^ column]
    lo, hi = _crc_skip_tables()
    for row_crc in reg.tolist():
        crc = lo[crc & 0xFF] ^ hi[crc >> 8] ^ row_crc
    return crc


@cache
def _zero_power(j: int) -> tuple[int, ...]:
    """The register after ``2**j`` zero bytes, as the images of its 16 bits (the map is linear)."""
    if j == 0:
        return tuple(_CRC_TABLE[(1 << b) & 0xFF] ^ ((1 << b) >> 8) for b in range(16))
    half = _zero_power(j - 1)
    return tuple(_apply_map(half, column) for column in half)


def _apply_map(columns: tuple[int, ...], register: int) -> int:
    out, bit = 0, 0
    while register:
        if register & 1:
            out ^= columns[bit]
        register >>= 1
        bit += 1
    return out


def _byte_tables(columns: tuple[int, ...]) -> tuple[list[int], list[int]]:
    """The map as two 256-entry tables, by the register's low and high byte."""
    lo, hi = [0], [0]
    for bit in range(8):
        lo += [x ^ columns[bit] for x in lo]
        hi += [x ^ columns[bit + 8] for x in hi]
    return lo, hi


def zero_skip(n: int) -> tuple[int, ...]:
    """The register after ``n`` zero bytes, as the images of its 16 bits (powers of one map, so
    ``n``'s binary digits pick which to compose, in any order)."""
    columns = tuple(1 << b for b in range(16))
    j = 0
    while n:
        if n & 1:
            power = _zero_power(j)
            columns = tuple(_apply_map(power, c) for c in columns)
        n >>= 1
        j += 1
    return columns


class CrcSpan:
    """A run of bytes as what it does to the CRC-16 register: ``crc16(data, r)`` for any ``r``
    without reading ``data`` again (the CRC is linear: ``r`` pushed through ``len(data)`` zero
    bytes, xor ``crc16(data, 0)``). A track written from frames chains the spans of its blocks
    and silent frames instead of running the CRC over every byte it writes."""

    __slots__ = ("columns", "hi", "lo", "zero_crc")

    def __init__(self, zero_crc: int, columns: tuple[int, ...]) -> None:
        if len(columns) != 16:
            raise ValueError("a CRC-16 map has 16 columns")
        self.zero_crc = zero_crc
        self.columns = columns
        self.lo, self.hi = _byte_tables(columns)

    @classmethod
    def of(cls, data: bytes | memoryview) -> CrcSpan:
        """The span of ``data``."""
        return cls(crc16(data), zero_skip(len(memoryview(data).cast("B"))))

    def after(self, crc: int) -> int:
        """The register after the span's bytes, starting from ``crc``."""
        return self.lo[crc & 0xFF] ^ self.hi[crc >> 8] ^ self.zero_crc


@dataclass(frozen=True)
class FrameFormat:
    """A mono Layer III format: its frame header and sizes."""

    sample_rate: int
    bitrate: int

    @property
    def version(self) -> int:
        return _RATES[self.sample_rate][0]

    @property
    def samples_per_frame(self) -> int:
        return 1152 if self.version == 1 else 576

    @property
    def side_info_bytes(self) -> int:
        return 17 if self.version == 1 else 9  # mono

    def header(self) -> bytes:
        """The 4-byte header of an unpadded frame: Layer III, no CRC, mono, 'original'."""
        version_bits = 0b11 if self.version == 1 else 0b10
        b1 = 0xE0 | (version_bits << 3) | (0b01 << 1) | 1
        b2 = (_BITRATES[self.version].index(self.bitrate) << 4) | (_RATES[self.sample_rate][1] << 2)
        b3 = (0b11 << 6) | (1 << 2)
        return bytes((0xFF, b1, b2, b3))

    def frame_bytes(self, padded: bool = False) -> int:
        per_frame = 144 if self.version == 1 else 72
        return per_frame * self.bitrate * 1000 // self.sample_rate + int(padded)


@dataclass(frozen=True)
class Mp3Stats:
    """What was written: audio frames (not counting the header frame), samples in, bytes out."""

    frames: int
    samples: int
    audio_bytes: int
    encoder_delay: int
    padding: int
    sample_rate: int


class Mp3Writer:
    """Stream int16 mono PCM into an MP3 at ``fp``; ``close()`` fills in the gapless header.

    ``fp`` must be seekable: the header frame is reserved first and written last, when the frame
    count and padding are known.
    """

    def __init__(self, fp: IO[bytes], sample_rate: int, bitrate: int, quality: int = 5) -> None:
        check_format(sample_rate, bitrate)
        self._fp = fp
        self._format = FrameFormat(sample_rate, bitrate)
        self._encoder = lameenc.Encoder()
        self._encoder.set_bit_rate(bitrate)
        self._encoder.set_in_sample_rate(sample_rate)
        self._encoder.set_out_sample_rate(sample_rate)
        self._encoder.set_channels(1)
        self._encoder.set_quality(quality)
        self._info_at = fp.tell()
        fp.write(bytes(self._format.frame_bytes()))
        self._samples = 0
        self._frames = 0
        self._audio_bytes = 0
        self._music_crc = 0
        self._unchecked: list[bytes] = []  # written, not yet in the CRC
        self._unchecked_bytes = 0
        self._pending = b""  # bytes of a frame whose end has not arrived yet
        self._closed = False

    def write(self, samples: npt.NDArray[np.int16]) -> None:
        """Encode ``samples`` (int16, mono)."""
        if samples.dtype != np.int16 or samples.ndim != 1:
            raise TypeError("Mp3Writer.write takes a 1-D int16 array")
        if len(samples):
            self._samples += len(samples)
            self._emit(bytes(self._encoder.encode(samples)))

    def _emit(self, data: bytes) -> None:
        if not data:
            return
        self._fp.write(data)
        self._audio_bytes += len(data)
        # The CRC is cheapest over long buffers (see crc16), so a few MB are gathered first.
        self._unchecked.append(data)
        self._unchecked_bytes += len(data)
        if self._unchecked_bytes >= _CRC_BATCH:
            self._update_crc()
        self._count_frames(data)

    def _update_crc(self) -> None:
        self._music_crc = crc16(b"".join(self._unchecked), self._music_crc)
        self._unchecked = []
        self._unchecked_bytes = 0

    def _count_frames(self, data: bytes) -> None:
        buf = self._pending + data if self._pending else data
        pos, end, frames = 0, len(buf), 0
        unpadded = self._format.frame_bytes()
        # one step per frame (~40,000 in a 30-minute track): kept to plain integer operations
        while pos + 4 <= end:
            if buf[pos] != 0xFF or buf[pos + 1] & 0xE0 != 0xE0:
                raise RuntimeError(f"lameenc produced a byte stream out of frame sync at {pos}")
            size = unpadded + ((buf[pos + 2] >> 1) & 1)
            if pos + size > end:
                break
            frames += 1
            pos += size
        self._frames += frames
        self._pending = buf[pos:]

    def close(self) -> Mp3Stats:
        """Flush the encoder and write the header frame; returns what was written."""
        if self._closed:
            raise RuntimeError("Mp3Writer is already closed")
        self._closed = True
        self._emit(bytes(self._encoder.flush()))
        self._update_crc()
        if self._pending:
            raise RuntimeError(f"lameenc left {len(self._pending)} bytes of a partial frame")
        spf = self._format.samples_per_frame
        padding = self._frames * spf - ENCODER_DELAY - self._samples
        if not 0 <= padding < 4096:
            raise RuntimeError(f"unexpected MP3 padding of {padding} samples")
        end = self._fp.tell()
        self._fp.seek(self._info_at)
        self._fp.write(self._info_frame(padding))
        self._fp.seek(end)
        log.debug("MP3: %d frames, %d samples, padding %d", self._frames, self._samples, padding)
        return Mp3Stats(
            self._frames, self._samples, self._audio_bytes, ENCODER_DELAY, padding, self._format.sample_rate
        )

    def _info_frame(self, padding: int) -> bytes:
        return info_frame(self._format, self._frames, self._audio_bytes, self._music_crc, padding)


def info_frame(
    fmt: FrameFormat,
    frames: int,
    audio_bytes: int,
    music_crc: int,
    padding: int,
    *,
    delay: int = ENCODER_DELAY,
) -> bytes:
    """The Xing/Info and LAME header frame for a CBR stream of ``frames`` frames after it.

    ``delay`` is the encoder delay decoders drop (before their own 529 samples): LAME's 576, or
    another where a stream starts inside a longer one (a split track cut from frames).
    """
    if not (0 <= delay < 4096 and 0 <= padding < 4096):
        raise ValueError(f"encoder delay {delay} or padding {padding} does not fit in 12 bits")
    size = fmt.frame_bytes()
    total_bytes = size + audio_bytes
    toc = bytes(min(255, i * 256 // 100) for i in range(100))  # CBR: byte position is linear
    xing = b"Info" + struct.pack(">III", 0x0F, frames, total_bytes) + toc + struct.pack(">I", 50)
    lowpass_hz = min(fmt.sample_rate // 2, 17000 if fmt.sample_rate >= 32000 else 10000)
    lame = (
        _LAME_VERSION
        + bytes((0x01, lowpass_hz // 100))  # info tag revision 0, method 1 = CBR; lowpass / 100
        + struct.pack(">f", 0.0)  # peak amplitude: not computed
        + bytes(4)  # replay gain (radio, audiophile): not set
        + bytes((0x00, min(fmt.bitrate, 255)))  # encoding flags and ATH type; bitrate
        + struct.pack(">I", (delay << 12) | padding)[1:]  # 12 bits delay, 12 bits padding
        + bytes((0x00, 0x00))  # misc (noise shaping, stereo mode, source rate); MP3 gain
        + bytes(2)  # preset and surround info
        + struct.pack(">I", total_bytes)  # music length, header frame included
        + struct.pack(">H", music_crc)
    )
    frame = bytearray(size)
    body = fmt.header() + bytes(fmt.side_info_bytes) + xing + lame
    frame[: len(body)] = body
    frame[len(body) : len(body) + 2] = struct.pack(">H", crc16(bytes(frame[: len(body)])))
    return bytes(frame)


def encode(samples: npt.NDArray[np.int16], sample_rate: int, bitrate: int, fp: IO[bytes]) -> Mp3Stats:
    """Encode a whole int16 mono array into ``fp`` in one call."""
    writer = Mp3Writer(fp, sample_rate, bitrate)
    writer.write(samples)
    return writer.close()


def decode(data: bytes) -> npt.NDArray[np.float32]:
    """Decode an MP3 stream as a player would (libsndfile's mpg123, gapless header honoured)."""
    import soundfile  # libsndfile: only for decoding, which a build never does (6 ms to load)

    samples, _rate = soundfile.read(io.BytesIO(data), dtype="float32", always_2d=False)
    return np.asarray(samples, dtype=np.float32)
