"""Building a track: decode what was written and check it against the plan, not the other way round."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyloudnorm
import pytest
from mutagen.id3 import ID3
from scipy import signal

from stretchcast.content import Collection, Routine, load_routine
from stretchcast.pipeline import BuildOptions, BuildResult, build
from stretchcast.testing import FakeVoice

from .conftest import Decoded, decode, rms_db, write


@pytest.fixture(scope="module")
def built(
    tmp_path_factory: pytest.TempPathFactory, preset: Callable[[str], Routine]
) -> tuple[BuildResult, Decoded, dict]:  # type: ignore[type-arg]
    """The standard routine built once with the fake voice, decoded, and its manifest."""
    out = tmp_path_factory.mktemp("audio")
    result = build(preset("standard"), voice=FakeVoice(), options=BuildOptions(out_dir=out))
    return result, decode(result.mp3), json.loads(result.manifest.read_text())


class TestTrack:
    """The MP3 plays as the manifest says."""

    def test_files_written(self, built: tuple[BuildResult, Decoded, dict]) -> None:  # type: ignore[type-arg]
        """The MP3 and manifest are there, and nothing else (no temporary files)."""
        result, _, _ = built
        assert sorted(p.name for p in result.mp3.parent.iterdir()) == [
            "standard.json",
            "standard.mp3",
        ]

    def test_duration_matches_manifest(self, built: tuple[BuildResult, Decoded, dict]) -> None:  # type: ignore[type-arg]
        """The decoded length is within 50 ms of the manifest's (in practice, within a sample)."""
        _, decoded, manifest = built
        assert abs(decoded.duration_ms - manifest["duration_ms"]) < 50
        assert decoded.sample_rate == manifest["audio"]["sample_rate"] == 22050

    def test_sound_in_every_speech_event(self, built: tuple[BuildResult, Decoded, dict]) -> None:  # type: ignore[type-arg]
        """Every speech event has audible sound in it."""
        _, decoded, manifest = built
        quiet = [
            e["text"]
            for e in manifest["events"]
            if e["kind"] == "speech" and rms_db(decoded.between(e["start_ms"], e["end_ms"])) < -40
        ]
        assert quiet == []

    def test_silence_in_holds(self, built: tuple[BuildResult, Decoded, dict]) -> None:  # type: ignore[type-arg]
        """Every hold of 1 s or more is silent (below -50 dBFS) apart from its countdown words."""
        _, decoded, manifest = built
        holds = [s for s in manifest["spans"] if s["kind"] == "hold" and s["end_ms"] - s["start_ms"] >= 1000]
        assert len(holds) == 31
        for e in manifest["events"]:
            if e["kind"] == "silence" and e["role"] == "hold":
                assert rms_db(decoded.between(e["start_ms"], e["end_ms"])) < -50, e

    def test_countdown_audible_in_long_holds(self, built: tuple[BuildResult, Decoded, dict]) -> None:  # type: ignore[type-arg]
        """The countdown in each 10-second hold is there to hear, on its seconds."""
        _, decoded, manifest = built
        words = [e for e in manifest["events"] if e["role"] == "countdown"]
        assert len(words) == 9
        for e in words:
            assert rms_db(decoded.between(e["start_ms"], e["end_ms"])) > -40

    def test_loudness_and_peak(self, built: tuple[BuildResult, Decoded, dict]) -> None:  # type: ignore[type-arg]
        """The decoded track measures -16 LUFS (within 1 LU) with its true peak at or below -1 dBTP."""
        _, decoded, _ = built
        lufs = pyloudnorm.Meter(decoded.sample_rate).integrated_loudness(decoded.samples.astype(np.float64))
        assert -17 <= lufs <= -15
        true_peak = 20 * np.log10(np.abs(signal.resample_poly(decoded.samples, 4, 1)).max())
        assert true_peak <= -1.0

    def test_chapters_in_tags(self, built: tuple[BuildResult, Decoded, dict]) -> None:  # type: ignore[type-arg]
        """ID3 chapters match the manifest's, listed in time order by the table of contents."""
        result, _, manifest = built
        tags = ID3(result.mp3)
        toc = tags.getall("CTOC")[0]
        chaps = {c.element_id: c for c in tags.getall("CHAP")}
        ordered = [chaps[i] for i in toc.child_element_ids]
        assert [(c.start_time, c.end_time, c.sub_frames["TIT2"].text[0]) for c in ordered] == [
            (c["start_ms"], c["end_ms"], c["title"]) for c in manifest["chapters"]
        ]
        assert tags["TIT2"].text[0] == "SI joint routine, standard"

    def test_manifest_events(self, built: tuple[BuildResult, Decoded, dict]) -> None:  # type: ignore[type-arg]
        """The manifest lists every event with kind, role, times, text and exercise, and the voice."""
        _, _, manifest = built
        assert set(manifest["events"][0]) >= {
            "kind",
            "role",
            "start_ms",
            "end_ms",
            "text",
            "exercise",
        }
        assert manifest["voice"]["engine"] == "fake"
        assert manifest["events"][-1]["end_ms"] == manifest["duration_ms"]


class TestEspeak:
    """The offline last-resort voice makes a real track."""

    def test_espeak_builds_a_short_routine(self, tmp_path: Path, collection: Collection) -> None:
        """A one-exercise routine spoken by espeak decodes to the manifest's length with speech in it."""
        path = write(tmp_path, "cobra.yaml", "title: Cobra only\nexercises:\n  - id: tall-cobra\n")
        result = build(
            load_routine(collection, path),
            voice="espeak",
            options=BuildOptions(out_dir=tmp_path / "out"),
        )
        decoded = decode(result.mp3)
        assert abs(decoded.duration_ms - result.timeline.duration_ms) < 50
        first = next(result.timeline.speech())
        assert rms_db(decoded.between(first.start_ms, first.end_ms)) > -35
        assert "espeak-ng" in result.voice


class TestAtomic:
    """Output appears whole or not at all."""

    def test_failed_build_leaves_old_track(self, tmp_path: Path, preset: Callable[[str], Routine]) -> None:
        """If synthesis fails midway, the previous files stay as they were and no temporary file remains."""
        out = tmp_path / "audio"
        routine = preset("gentle")
        build(routine, voice=FakeVoice(), options=BuildOptions(out_dir=out))
        before = {p.name: p.read_bytes() for p in out.iterdir()}

        class Broken(FakeVoice):
            def synthesize(self, text: str):  # type: ignore[no-untyped-def]
                if self.calls.total() > 20:
                    raise RuntimeError("engine crashed")
                return super().synthesize(text)

        with pytest.raises(RuntimeError):
            # no cue cache: it would answer every cue the first build spoke, and nothing would break
            build(routine, voice=Broken(), options=BuildOptions(out_dir=out), cache=False)
        assert {p.name: p.read_bytes() for p in out.iterdir()} == before

    def test_reproducible(self, tmp_path: Path, preset: Callable[[str], Routine]) -> None:
        """The same routine and voice give byte-identical files."""
        a = build(preset("gentle"), voice=FakeVoice(), options=BuildOptions(out_dir=tmp_path / "a"))
        b = build(preset("gentle"), voice=FakeVoice(), options=BuildOptions(out_dir=tmp_path / "b"))
        assert a.mp3.read_bytes() == b.mp3.read_bytes()
        assert a.manifest.read_text() == b.manifest.read_text()
