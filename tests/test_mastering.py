"""Mastering: loudness and true peak are promised for the decoded MP3, and the meters are exact."""

from __future__ import annotations

import io

import numpy as np
import pyloudnorm
import pytest
import soundfile as sf
from scipy import signal

from stretchcast import audio, mp3, render
from stretchcast.content import Collection, load_routine
from stretchcast.cues import CueSet
from stretchcast.testing import FakeVoice
from stretchcast.timeline import compile_timeline

RATE = 22050


def reference_true_peak_db(x: np.ndarray) -> float:
    """True peak the plain way: 4x ``resample_poly`` over the whole signal."""
    return float(20 * np.log10(np.abs(signal.resample_poly(x.astype(np.float64), 4, 1)).max()))


def decoded(data: bytes) -> np.ndarray:
    """An MP3 stream decoded by libsndfile, as float64."""
    samples, rate = sf.read(io.BytesIO(data), dtype="float64")
    assert rate == RATE
    return np.asarray(samples)


@pytest.fixture(scope="module")
def raw(tmp_path_factory: pytest.TempPathFactory, collection: Collection) -> np.ndarray:
    """A two-minute routine (tall cobra) assembled with the fake voice, before mastering."""
    path = tmp_path_factory.mktemp("routine") / "cobra.yaml"
    path.write_text("title: Cobra\nexercises:\n  - id: tall-cobra\n", encoding="utf-8")
    routine = load_routine(collection, path)
    cues = CueSet(FakeVoice(), RATE)
    cues.prepare(compile_timeline(routine).texts())
    return render.assemble(compile_timeline(routine, cues.length_ms), cues, RATE)


def speechy(seconds: float, seed: int) -> np.ndarray:
    """Bursts of buzzy, peaky sound with pauses between them: hard on a limiter."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    t = np.arange(n) / RATE
    buzz = np.sign(np.sin(2 * np.pi * 140 * t)) * 0.2 + rng.standard_normal(n) * 0.05
    gate = (np.sin(2 * np.pi * 0.7 * t) > 0).astype(np.float64)
    return (buzz * gate).astype(np.float32)


class TestMeters:
    """The fast meters give exactly what the plain computations give."""

    def test_envelope_matches_resample_poly(self) -> None:
        """Skipping quiet blocks changes nothing where the envelope is computed, and bounds it elsewhere."""
        x = speechy(6, seed=1)
        x[RATE : 2 * RATE] *= 0.01  # a quiet stretch the floor lets the meter skip
        full = np.abs(signal.resample_poly(x.astype(np.float64), 4, 1)).reshape(len(x), 4).max(axis=1)
        assert np.array_equal(audio.true_peak_envelope(x), full)
        skipped = audio.true_peak_envelope(x, floor=0.05)
        assert np.array_equal(skipped[full > 0.05], full[full > 0.05])
        assert np.all(skipped >= full)

    def test_true_peak_matches_reference(self) -> None:
        """true_peak_db equals the 4x-oversampled peak of the whole signal."""
        x = speechy(5, seed=2)
        assert audio.true_peak_db(x) == pytest.approx(reference_true_peak_db(x), abs=1e-9)


class TestMaster:
    """master() lands on its target with its true peak under the ceiling."""

    @pytest.mark.parametrize("ceiling", [-1.5, -4.0])
    def test_target_and_ceiling(self, ceiling: float) -> None:
        """Loudness within 0.02 LU of the target; true peak at or below the ceiling, however hard it works."""
        x = speechy(20, seed=3)
        m = render.master(x, RATE, target_lufs=-16.0, ceiling_dbtp=ceiling)
        assert audio.loudness(m.samples, RATE) == pytest.approx(-16.0, abs=0.02)
        assert reference_true_peak_db(m.samples) <= ceiling + 0.01

    def test_silence_passes_through(self) -> None:
        """Silence cannot be made loud: it comes back unchanged, measured as -inf."""
        m = render.master(np.zeros(RATE, dtype=np.float32), RATE)
        assert not np.any(m.samples) and m.loudness_lufs == -np.inf


class TestEncodeVerified:
    """The decoded MP3 is what meets the promise, not the PCM before the encoder."""

    def test_decoded_loudness_and_peak(self, raw: np.ndarray) -> None:
        """Decoded with libsndfile, the track measures -16 LUFS (within 0.1 LU) and at most -1.5 dBTP."""
        r = render.encode_verified(raw, RATE, 64)
        y = decoded(r.whole.data)
        assert pyloudnorm.Meter(RATE).integrated_loudness(y) == pytest.approx(-16.0, abs=0.1)
        assert reference_true_peak_db(y) <= -1.5
        assert len(y) == len(raw)
        assert r.whole.measured.loudness_lufs == pytest.approx(pyloudnorm.Meter(RATE).integrated_loudness(y))

    def test_sections_share_the_gain(self, raw: np.ndarray) -> None:
        """Sections are cut from one mastered track: their lengths add up, each peak is under the ceiling."""
        cut = len(raw) // 3
        r = render.encode_verified(raw, RATE, 64, sections=[(0, cut), (cut, len(raw))])
        parts = [decoded(s.data) for s in r.sections]
        assert [len(p) for p in parts] == [cut, len(raw) - cut]
        for p in parts:
            assert reference_true_peak_db(p) <= -1.5

    def test_a_missed_target_is_corrected(self, raw: np.ndarray, monkeypatch: pytest.MonkeyPatch) -> None:
        """If the decoded audio comes out 1 dB hotter than the encoder model says, a second pass fixes it."""
        real_decode = mp3.decode
        monkeypatch.setattr(mp3, "decode", lambda data: real_decode(data) * np.float32(1.122))
        r = render.encode_verified(raw, RATE, 64)
        assert r.attempts >= 2
        assert r.whole.measured.loudness_lufs == pytest.approx(-16.0, abs=0.1)
        assert r.whole.measured.true_peak_dbtp <= -1.5

    def test_encoder_gain_is_as_measured(self) -> None:
        """LAME still hands back 0.95 times its input (the model mastering relies on)."""
        t = np.arange(RATE * 3) / RATE
        pcm = np.round(0.2 * np.sin(2 * np.pi * 1000 * t) * 32767).astype(np.int16)
        buf = io.BytesIO()
        mp3.encode(pcm, RATE, 128, buf)
        y = mp3.decode(buf.getvalue())[RATE:-RATE]
        x = pcm[RATE:-RATE] / 32768.0
        gain_db = 10 * np.log10(np.mean(y.astype(np.float64) ** 2) / np.mean(x**2))
        assert gain_db == pytest.approx(mp3.DECODED_GAIN_DB, abs=0.02)
