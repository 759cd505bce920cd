"""Tracks written from frames encoded once decode, in libsndfile and FFmpeg, exactly as planned."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from stretchcast.sound import frames, mp3

#: (sample rate, bitrate): both MPEG versions, and the lowest bitrate each rate allows
FORMATS = [(16000, 40), (22050, 64), (24000, 64), (32000, 56), (44100, 64), (48000, 96)]


def tone(seconds: float, freq: float, rate: int, level: float = 0.3) -> np.ndarray:
    """A sine with a smooth rise and fall, as int16."""
    t = np.arange(int(seconds * rate)) / rate
    return np.asarray(level * np.sin(2 * np.pi * freq * t) * np.hanning(len(t)) * 32767, dtype=np.int16)


def decoders(data: bytes, tmp_path: Path) -> dict[str, np.ndarray]:
    """``data`` decoded by libsndfile and, where installed, by FFmpeg (from a file: a pipe is not
    trimmed) and by the mpg123 program (libmpg123, gapless by default), as players would."""
    out = {"libsndfile": np.asarray(sf.read(io.BytesIO(data), dtype="float32")[0])}
    if shutil.which("ffmpeg"):
        path = tmp_path / "t.mp3"
        path.write_bytes(data)
        done = subprocess.run(
            ["ffmpeg", "-v", "error", "-i", str(path), "-f", "f32le", "-ac", "1", "pipe:1"],
            capture_output=True,
            check=True,
        )
        out["ffmpeg"] = np.frombuffer(done.stdout, dtype="<f4")
    if shutil.which("mpg123"):
        path = tmp_path / "t.mp3"
        path.write_bytes(data)
        done = subprocess.run(["mpg123", "-q", "-e", "f32", "-s", str(path)], capture_output=True, check=True)
        out["mpg123"] = np.frombuffer(done.stdout, dtype="<f4")
    return out


@pytest.mark.parametrize(("rate", "bitrate"), FORMATS)
def test_blocks_play_on_the_grid(tmp_path: Path, rate: int, bitrate: int) -> None:
    """Each block sounds from frame * samples-per-frame + LEAD, and the track is exactly as long as asked."""
    cues = [tone(0.8, 300, rate), tone(0.5, 520, rate, 0.2)]
    blocks = [frames.encode_block(c, rate, bitrate) for c in cues]
    buf = io.BytesIO()
    writer = frames.FrameWriter(buf, rate, bitrate)
    placed = [(0, 3), (1, 3 + blocks[0].size + 5), (0, 3 + blocks[0].size + blocks[1].size + 40)]
    for which, frame in placed:
        writer.place(blocks[which], frame)
    last_which, last_frame = placed[-1]
    length = writer.onset(last_frame) + len(cues[last_which]) + rate // 3
    stats = writer.close(length)
    # a block restarts the encoder's padding pattern: within one byte of the CBR line
    assert abs(stats.audio_bytes - frames.expected_bytes(stats.frames, rate, bitrate)) <= 1
    for name, decoded in decoders(buf.getvalue(), tmp_path).items():
        assert len(decoded) == length, name
        expected = np.zeros(length, dtype=np.float64)
        for which, frame in placed:
            start = frame * frames.samples_per_frame(rate) + frames.LEAD
            expected[start : start + len(cues[which])] = cues[which] / 32767 * 0.95  # LAME's 0.95
        # coding noise is small; a sample out of place would be an error the size of the tone
        assert np.abs(decoded - expected).max() < 0.01, name


@pytest.mark.parametrize(("rate", "bitrate"), FORMATS)
def test_first_frame_stands_alone(rate: int, bitrate: int) -> None:
    """An independent encode's first frame takes nothing from frames before it (main_data_begin 0)."""
    block = frames.encode_block(tone(1.0, 440, rate), rate, bitrate)
    assert frames.main_data_begin(block.frames[0], rate) == 0
    assert all(f[0] == 0xFF for f in block.frames)


@pytest.mark.parametrize(("rate", "bitrate"), FORMATS)
def test_silence_keeps_the_byte_rate(rate: int, bitrate: int) -> None:
    """After n silent frames the stream holds floor(n * k * bitrate / rate) bytes (k = 72,000 or 144,000)."""
    buf = io.BytesIO()
    writer = frames.FrameWriter(buf, rate, bitrate)
    start = buf.tell()
    k = 144_000 if rate >= 32000 else 72_000
    for n in range(1, 200):
        writer.silence(1)
        assert buf.tell() - start == n * k * bitrate // rate
    stats = writer.close(writer.frames * frames.samples_per_frame(rate) - frames.DELAYS - 100)
    decoded = sf.read(io.BytesIO(buf.getvalue()), dtype="float32")[0]
    assert len(decoded) == stats.samples and not np.any(decoded)


def test_silent_frame_is_a_valid_frame() -> None:
    """A silent frame carries this format's header, its padding bit as asked, and nothing else."""
    plain = frames.silent_frame(22050, 64, padded=False)
    padded = frames.silent_frame(22050, 64, padded=True)
    assert len(plain) == 208 and len(padded) == 209
    assert plain[:4] == mp3.FrameFormat(22050, 64).header() and not any(plain[4:])
    assert padded[2] & 0b10


def test_placing_into_written_frames_is_refused() -> None:
    """A block cannot start before the end of what is already written."""
    writer = frames.FrameWriter(io.BytesIO(), 22050, 64)
    block = frames.encode_block(tone(0.3, 440, 22050), 22050, 64)
    writer.place(block, 0)
    with pytest.raises(ValueError, match="already written"):
        writer.place(block, block.size - 1)


@pytest.mark.parametrize(("rate", "bitrate"), [(22050, 64), (44100, 128)])
def test_music_crc_chained_from_spans_is_the_crc_of_the_bytes(rate: int, bitrate: int) -> None:
    """The header's music CRC, chained from blocks' and silent frames' spans, is the CRC of every audio byte."""
    rng = np.random.default_rng(7)
    blocks = [frames.encode_block(tone(0.2 + 0.3 * i, 300 + 90 * i, rate), rate, bitrate) for i in range(3)]
    buf = io.BytesIO()
    writer = frames.FrameWriter(buf, rate, bitrate)
    frame = 0
    for i in range(12):
        block = blocks[i % 3]
        frame += int(rng.integers(0, 40))
        writer.place(block, frame)
        frame += block.size
    writer.close(writer.frames * frames.samples_per_frame(rate) - frames.DELAYS - 10)
    data = buf.getvalue()
    info = mp3.FrameFormat(rate, bitrate).frame_bytes()
    lame = data.index(b"LAME3.100")
    assert int.from_bytes(data[lame + 32 : lame + 34], "big") == mp3.crc16(data[info:])


def test_crc_span_gives_the_crc_from_any_register() -> None:
    """A span's effect on the CRC register is the CRC of its bytes from that register, at any length."""
    rng = np.random.default_rng(3)
    for n in (0, 1, 2, 208, 1023, 1024, 4099):
        data = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
        span = mp3.CrcSpan.of(data)
        for register in (0, 1, 0x8005, 0xFFFF, 0x1D0F):
            assert span.after(register) == mp3.crc16(data, register)


@pytest.mark.parametrize(("rate", "bitrate"), [(22050, 64), (44100, 64), (32000, 56)])
def test_silence_after_blocks_pads_as_one_frame_at_a_time_would(rate: int, bitrate: int) -> None:
    """Silent runs between blocks pad exactly as deciding frame by frame would, and end on the CBR line."""
    rng = np.random.default_rng(11)
    blocks = [frames.encode_block(tone(0.1 + 0.15 * i, 200 + 70 * i, rate), rate, bitrate) for i in range(4)]
    unpadded = len(frames.silent_frame(rate, bitrate, padded=False))
    buf = io.BytesIO()
    writer = frames.FrameWriter(buf, rate, bitrate)
    start = buf.tell()
    count = written = 0
    for i in range(60):
        gap = int(rng.integers(0, 70))
        for _ in range(gap):  # the rule, one frame at a time
            padded = frames.expected_bytes(count + 1, rate, bitrate) - written > unpadded
            written += unpadded + padded
            count += 1
        block = blocks[i % 4]
        writer.place(block, count)
        written += len(block.data)
        count += block.size
        assert buf.tell() - start == written
    writer.silence(200)
    assert buf.tell() - start == frames.expected_bytes(writer.frames, rate, bitrate)
