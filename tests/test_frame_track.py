"""A routine written from frames decodes to its timeline: length, onsets, loudness and peaks."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyloudnorm
import pytest

from stretchcast.content import Routine
from stretchcast.pipeline import BuildOptions, build
from stretchcast.sound import frame_cache, frame_track, frames
from stretchcast.sound import signal as audio
from stretchcast.sound.cues import CueSet
from stretchcast.sound.layout import ms_to_samples
from stretchcast.testing import FakeVoice
from stretchcast.timeline import Timeline, compile_timeline
from stretchcast.voices.cache import CueCache

from .test_frames import decoders

FORMATS = [(16000, 40), (22050, 64), (24000, 64), (32000, 56), (44100, 64), (48000, 96)]


def first_loud(x: np.ndarray, threshold: float) -> int:
    """Index of the first sample whose magnitude reaches ``threshold``."""
    return int(np.flatnonzero(np.abs(x) >= threshold)[0])


@pytest.mark.parametrize(("rate", "bitrate"), FORMATS)
def test_decodes_as_its_timeline(
    tmp_path: Path, drill: Callable[[str], Routine], rate: int, bitrate: int
) -> None:
    """Length to the sample, every speech onset within 1 ms of its time, -16 LUFS +-1, peaks under -1 dBTP."""
    routine = drill("short")
    cues = CueSet(FakeVoice(), rate)
    cues.prepare(compile_timeline(routine).texts())
    timeline = compile_timeline(routine, cues.length_ms)
    buf = io.BytesIO()
    written = frame_track.write(timeline, cues, rate, bitrate, buf)
    played = written.timeline
    assert written.stats.samples == ms_to_samples(played.duration_ms, rate)
    assert abs(played.duration_ms - timeline.duration_ms) < 30  # moved by less than a frame or so
    assert [e.text for e in played.speech()] == [e.text for e in timeline.speech()]
    for name, decoded in decoders(buf.getvalue(), tmp_path).items():
        assert len(decoded) == written.stats.samples, name
        lufs = pyloudnorm.Meter(rate).integrated_loudness(decoded.astype(np.float64))
        assert lufs == pytest.approx(-16.0, abs=1.0), name
        assert lufs == pytest.approx(written.measured.loudness_lufs, abs=0.2), name
        assert audio.true_peak_db(decoded) <= -1.0, name
        for event in played.speech():
            pcm = frame_track.master_sound(
                frame_track.sound_of(frame_track.key_of(event, cues, rate), cues, rate), rate, bitrate
            )
            threshold = 0.1 * float(np.abs(pcm).max())
            at = ms_to_samples(event.start_ms, rate)
            lo = max(0, at - rate // 20)
            heard = lo + first_loud(decoded[lo : at + len(pcm)], threshold * 0.95)
            expected = at + first_loud(pcm, threshold)  # if the event time is the onset
            assert abs(heard - expected) <= rate // 1000, (name, event.text)


def test_sounds_are_made_once(drill: Callable[[str], Routine]) -> None:
    """Each distinct sound is mastered and encoded once, however often it plays, and reused when given."""
    routine = drill("short")
    cues = CueSet(FakeVoice(), 22050)
    cues.prepare(compile_timeline(routine).texts())
    timeline = compile_timeline(routine, cues.length_ms)
    sounds: dict[frame_track.SoundKey, frame_track.Sound] = {}
    first = io.BytesIO()
    written = frame_track.write(timeline, cues, 22050, 64, first, sounds=sounds)
    sounding = [e for e in timeline.events if e.kind != "silence"]
    assert written.sounds == len(sounds) < len(sounding)
    made = dict(sounds)
    second = io.BytesIO()
    frame_track.write(timeline, cues, 22050, 64, second, sounds=sounds)
    assert all(sounds[k] is made[k] for k in made) and first.getvalue() == second.getvalue()


def test_grid_times() -> None:
    """The onset of a block at frame k is k * samples-per-frame + 47, for both MPEG versions."""
    assert frames.onset_offset(22050) == frames.onset_offset(44100) == frames.LEAD == 47
    assert frames.samples_per_frame(22050) == 576 and frames.samples_per_frame(48000) == 1152


def _short(drill: Callable[[str], Routine], cache: CueCache) -> tuple[CueSet, Timeline]:
    cues = CueSet(FakeVoice(), 22050, cache=cache)
    cues.prepare(compile_timeline(drill("short")).texts())
    return cues, compile_timeline(drill("short"), cues.length_ms)


def _build(
    cues: CueSet, timeline: Timeline, cache: CueCache, monkeypatch: pytest.MonkeyPatch
) -> tuple[bytes, int]:
    """The track's bytes, and how many sounds had to be mastered and encoded."""
    made = 0
    real = frame_track.make_sound

    def counting(*args: Any) -> frame_track.Sound:
        nonlocal made
        made += 1
        return real(*args)

    monkeypatch.setattr("stretchcast.sound.frame_cache.make_sound", counting)
    buf = io.BytesIO()
    frame_track.write(
        timeline, cues, 22050, 64, buf, make=frame_cache.maker(cache, cues.identity, cues, 22050, 64)
    )
    return buf.getvalue(), made


def test_frame_cache_round_trip_and_damage(
    tmp_path: Path, drill: Callable[[str], Routine], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Kept frames give the same track byte for byte; a damaged or stale file is noticed and remade."""
    cache = CueCache(tmp_path / "cache")
    cues, timeline = _short(drill, cache)
    first, made_first = _build(cues, timeline, cache, monkeypatch)
    kept = sorted(cache.root.rglob("*.frames*"))
    assert kept and made_first > len(kept)  # every cue kept; the chimes are made each time
    second, made_second = _build(cues, timeline, cache, monkeypatch)
    assert second == first and made_second == made_first - len(kept)  # only the chimes made again
    # a flipped byte in the frames, and a prepared cue made again: each file is remade, same track
    damaged = bytearray(kept[0].read_bytes())
    damaged[-10] ^= 0xFF
    kept[0].write_bytes(bytes(damaged))
    prepared = next(p for p in cache.root.rglob("*.f32") if not kept[0].name.startswith(p.name.split(".")[0]))
    prepared.write_bytes(prepared.read_bytes() + b"\0")  # no longer what its frames were made from
    third, made_third = _build(cues, timeline, cache, monkeypatch)
    assert third == first
    assert made_third >= made_second + 2
    assert all(p.read_bytes() for p in cache.root.rglob("*.frames*"))


def test_frame_cache_files_are_the_caches(
    tmp_path: Path, drill: Callable[[str], Routine], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cue cache counts the kept frames as space and clears them with its entries."""
    cache = CueCache(tmp_path / "cache")
    cues, timeline = _short(drill, cache)
    _build(cues, timeline, cache, monkeypatch)
    before = cache.info()
    frames_bytes = sum(p.stat().st_size for p in cache.root.rglob("*.frames*"))
    assert frames_bytes > 0 and before.size_bytes >= frames_bytes
    cache.clear()
    assert not list(cache.root.rglob("*.frames*"))


def test_build_with_the_frame_back_end(tmp_path: Path, drill: Callable[[str], Routine]) -> None:
    """A build asked for frames says so in its manifest, whose length and speech times the decoders play."""
    routine = drill("short")
    options = BuildOptions(out_dir=tmp_path / "out", encoder="frames")
    result = build(routine, voice=FakeVoice(), options=options, cache=CueCache(tmp_path / "cache"))
    manifest = json.loads(result.manifest.read_text(encoding="utf-8"))
    assert manifest["audio"]["encoder"] == "frames" and result.extra["encoder"] == "frames"
    rate = manifest["audio"]["sample_rate"]
    assert manifest["audio"]["samples"] == ms_to_samples(manifest["duration_ms"], rate)
    assert manifest["audio"]["loudness_lufs"] == pytest.approx(-16.0, abs=1.0)
    cues = CueSet(FakeVoice(), rate)
    speech = list(result.timeline.speech())
    assert [e["start_ms"] for e in manifest["events"] if e["kind"] == "speech"] == [
        e.start_ms for e in speech
    ]
    captions = result.captions.read_text(encoding="utf-8") if result.captions else ""
    first = speech[0].start_ms
    assert f"00:00:{first // 1000:02d}.{first % 1000:03d} -->" in captions
    for name, decoded in decoders(result.mp3.read_bytes(), tmp_path).items():
        assert len(decoded) == manifest["audio"]["samples"], name
        for event in speech:
            pcm = frame_track.master_sound(
                frame_track.sound_of(frame_track.key_of(event, cues, rate), cues, rate), rate, 64
            )
            threshold = 0.1 * float(np.abs(pcm).max())
            at = ms_to_samples(event.start_ms, rate)
            lo = max(0, at - rate // 20)
            heard = lo + first_loud(decoded[lo : at + len(pcm)], threshold * 0.95)
            assert abs(heard - (at + first_loud(pcm, threshold))) <= rate // 1000, (name, event.text)
    # and the same routine built again takes every cue's frames from the cache: the same bytes
    again = build(
        routine,
        voice=FakeVoice(),
        options=BuildOptions(out_dir=tmp_path / "again", encoder="frames"),
        cache=CueCache(tmp_path / "cache"),
    )
    assert again.mp3.read_bytes() == result.mp3.read_bytes()
