"""MP3 encoding: decoders get back exactly the samples that went in, at the right times."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from stretchcast.errors import UsageError
from stretchcast.sound import mp3

from .conftest import decode


def crc16_arc(data: bytes, crc: int = 0) -> int:
    """CRC-16/ARC bit by bit, as the catalogue defines it (reflected polynomial 0xA001): the reference."""
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def _click_track(rate: int, onset: int) -> np.ndarray:
    x = np.zeros(rate * 2 + 321, dtype=np.int16)
    n = rate // 20
    x[onset : onset + n] = (np.sin(np.arange(n) * 2 * np.pi * 440 / rate) * 12000).astype(np.int16)
    return x


class TestCrc16:
    """The CRC-16 in the LAME header: CRC-16/ARC, whatever the buffer's length."""

    @pytest.mark.parametrize(
        ("data", "expected"),
        [(b"", 0x0000), (b"123456789", 0xBB3D), (b"A", 0x30C0), (bytes(1), 0x0000)],
    )
    def test_known_vectors(self, data: bytes, expected: int) -> None:
        """Catalogue values of CRC-16/ARC ("123456789" gives 0xBB3D) and the bit-by-bit reference agree."""
        assert mp3.crc16(data) == expected == crc16_arc(data)

    @pytest.mark.parametrize("size", [1023, 1024, 1025, 3 * 1024, 5000, 70_001])
    def test_long_buffers_match_a_plain_loop(self, size: int) -> None:
        """Buffers over 1 KiB (computed a row at a time with numpy) give what a byte loop gives."""
        data = np.random.default_rng(size).integers(0, 256, size, dtype=np.uint8).tobytes()
        assert mp3.crc16(data) == crc16_arc(data)

    def test_continues_from_a_register(self) -> None:
        """Continuing from a register (the music CRC is gathered in batches) equals one pass."""
        data = np.random.default_rng(7).integers(0, 256, 9000, dtype=np.uint8).tobytes()
        assert mp3.crc16(data[3000:], mp3.crc16(data[:3000])) == crc16_arc(data)
        assert mp3.crc16(data[3000:], 0x1D0F) == crc16_arc(data[3000:], 0x1D0F)


class TestGapless:
    """The LAME header makes length and onsets sample-exact."""

    @pytest.mark.parametrize(("rate", "bitrate"), [(22050, 64), (44100, 64), (22050, 128), (24000, 96)])
    def test_length_and_onset_exact(self, tmp_path: Path, rate: int, bitrate: int) -> None:
        """Decoded length equals the input length and the tone starts on its sample (within 1 ms)."""
        onset = rate + 77
        x = _click_track(rate, onset)
        path = tmp_path / "t.mp3"
        with path.open("wb") as fp:
            stats = mp3.encode(x, rate, bitrate, fp)
        d = decode(path)
        assert d.sample_rate == rate
        assert len(d.samples) == len(x) == stats.samples
        found = int(np.argmax(np.abs(d.samples) > 0.05))
        assert abs(found - onset) <= rate // 1000

    def test_header_fields(self, tmp_path: Path) -> None:
        """The first frame is an Info frame with the LAME delay and padding, and both CRCs right."""
        buf = io.BytesIO()
        stats = mp3.encode(_click_track(22050, 1000), 22050, 64, buf)
        data = buf.getvalue()
        assert data[13:17] == b"Info"  # MPEG-2 mono: 4-byte header + 9 bytes of side info
        lame = 13 + 120
        assert data[lame : lame + 9] == b"LAME3.100"
        packed = int.from_bytes(data[lame + 21 : lame + 24], "big")
        assert (packed >> 12, packed & 0xFFF) == (mp3.ENCODER_DELAY, stats.padding)
        assert int.from_bytes(data[lame + 34 : lame + 36], "big") == crc16_arc(data[: lame + 34])
        assert int.from_bytes(data[lame + 28 : lame + 32], "big") == len(data)  # music length
        info_frame = 72 * 64_000 // 22050  # MPEG-2 layer III at 64 kbit/s, unpadded
        assert int.from_bytes(data[lame + 32 : lame + 34], "big") == crc16_arc(data[info_frame:])
        assert int.from_bytes(data[21:25], "big") == stats.frames  # after the 4-byte flags

    def test_streaming_matches_one_shot(self) -> None:
        """Writing in chunks gives the same bytes as writing all at once."""
        x = _click_track(22050, 5000)
        one, many = io.BytesIO(), io.BytesIO()
        mp3.encode(x, 22050, 64, one)
        writer = mp3.Mp3Writer(many, 22050, 64)
        for chunk in np.array_split(x, 7):
            writer.write(chunk)
        writer.close()
        assert one.getvalue() == many.getvalue()

    def test_formats_checked(self) -> None:
        """Unsupported sample rates and bitrates too small for the header are refused with the options."""
        with pytest.raises(UsageError, match="Use one of"):
            mp3.check_format(11025, 64)
        with pytest.raises(UsageError, match="56, 64"):
            mp3.check_format(22050, 32)
