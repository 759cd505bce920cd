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
from stretchcast.content.pronunciation import NONE, Pronunciations
from stretchcast.pipeline import BuildOptions, build
from stretchcast.sound import frame_cache, frame_track, frames, master, mp3
from stretchcast.sound import signal as audio
from stretchcast.sound.cues import CueSet
from stretchcast.sound.layout import Layout, ms_to_samples
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


def _short(
    drill: Callable[[str], Routine], cache: CueCache, pronunciations: Pronunciations = NONE
) -> tuple[CueSet, Timeline]:
    cues = CueSet(FakeVoice(), 22050, cache=cache, pronunciations=pronunciations)
    cues.prepare(compile_timeline(drill("short")).texts())
    return cues, compile_timeline(drill("short"), cues.length_ms)


def _build(
    drill: Callable[[str], Routine],
    cache: CueCache,
    monkeypatch: pytest.MonkeyPatch,
    pronunciations: Pronunciations = NONE,
) -> tuple[bytes, int, CueSet]:
    """The track's bytes as a fresh build makes them, how many sounds it made, and its cues."""
    cues, timeline = _short(drill, cache, pronunciations)
    made = _count_made(monkeypatch)
    buf = io.BytesIO()
    frame_track.write(timeline, cues, 22050, 64, buf, make=frame_cache.maker(cache, cues, 22050, 64))
    return buf.getvalue(), made[0], cues


def _count_made(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A counter (its one item) of the sounds the frame cache has made from now on."""
    made = [0]
    real = frame_track.make_sound

    def counting(*args: Any, **kwargs: Any) -> frame_track.Sound:
        made[0] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr("stretchcast.sound.frame_cache.make_sound", counting)
    return made


def test_frame_cache_round_trip_and_damage(
    tmp_path: Path, drill: Callable[[str], Routine], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Kept frames give the same track byte for byte with nothing made; a damaged or stale file is remade."""
    cache = CueCache(tmp_path / "cache")
    first, made_first, _ = _build(drill, cache, monkeypatch)
    kept = sorted(cache.root.rglob("*.frames*"))
    assert len(kept) == made_first  # every sound kept, the chimes too
    assert sum(1 for p in kept if p.parent.parent.name == "tone") == 2
    second, made_second, cues = _build(drill, cache, monkeypatch)
    assert second == first and made_second == 0  # a warm build masters and encodes nothing
    assert cues.samples_read == 0  # nor read any cue's samples
    # a flipped byte in one file's frames: that sound alone is made again, and the track is the same
    damaged = bytearray(kept[0].read_bytes())
    damaged[-10] ^= 0xFF
    kept[0].write_bytes(bytes(damaged))
    third, made_third, _ = _build(drill, cache, monkeypatch)
    assert third == first and made_third == 1
    # a prepared cue whose content changed: the frames made from the old one are stale, made again
    speech = next(p for p in kept if p.parent.parent.name != "tone")
    prepared = speech.with_name(speech.name.split(".frames")[0] + ".f32")
    data = bytearray(prepared.read_bytes())
    data[-4:] = b"\0\0\0\0"  # the last sample made silent: another cue, its CRC no longer holds
    prepared.write_bytes(bytes(data))
    fourth, made_fourth, _ = _build(drill, cache, monkeypatch)
    assert fourth == first and made_fourth == 0  # a damaged prepared cue is remade as it was
    assert all(p.read_bytes() for p in cache.root.rglob("*.frames*"))


def test_frames_are_kept_under_the_spoken_text(
    tmp_path: Path, drill: Callable[[str], Routine], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cue whose words are said another way (SI as 'S I') keeps its frames, and a rebuild makes none."""
    cache = CueCache(tmp_path / "cache")
    table = Pronunciations((("Rest", "Rest now"),))
    _, made_first, cues = _build(drill, cache, monkeypatch, table)
    assert any(cues.spoken(e.text) != e.text for e in _short(drill, cache)[1].speech() if e.text)
    _, made, _ = _build(drill, cache, monkeypatch, table)
    assert made_first > 0 and made == 0


def test_frame_cache_files_are_the_caches(
    tmp_path: Path, drill: Callable[[str], Routine], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cue cache counts the kept frames as space and clears them with its entries."""
    cache = CueCache(tmp_path / "cache")
    _build(drill, cache, monkeypatch)
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


def test_sparse_energy_gives_the_loudness_of_the_full_energy(drill: Callable[[str], Routine]) -> None:
    """The loudness read from energies kept every 16 samples is within 0.001 LU of the one from every sample."""
    routine = drill("short")
    cues = CueSet(FakeVoice(), 22050)
    cues.prepare(compile_timeline(routine).texts())
    timeline = compile_timeline(routine, cues.length_ms)
    prepared = frame_track.prepare(timeline, cues, 22050, 64)
    sparse = frame_track.measurement(prepared.plan, prepared.sounds, 22050, 64).loudness_lufs
    keys = list(dict.fromkeys(key for _, key in prepared.plan.placements))
    full = [
        audio.weighted_energy_iir(
            frame_track.master_sound(frame_track.sound_of(k, cues, 22050), 22050, 64),
            22050,
            tail=audio.k_weighting_tail(22050),
        )
        for k in keys
    ]
    lay = Layout(
        22050,
        prepared.plan.length,
        tuple(np.zeros(prepared.sounds[k].samples, dtype=np.float32) for k in keys),
        tuple(prepared.sounds[k].true_peak_dbtp for k in keys),
        np.array([f * 576 + frames.LEAD for f, _ in prepared.plan.placements], dtype=np.int64),
        np.array([keys.index(k) for _, k in prepared.plan.placements], dtype=np.int64),
    )
    dense = master.placed_loudness(lay, lambda s, positions: full[s][positions])
    assert sparse == pytest.approx(dense + mp3.DECODED_GAIN_DB, abs=0.001)


def test_voices_lifted_differently_keep_their_own_sounds(
    tmp_path: Path, drill: Callable[[str], Routine], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sounds made at another lift (Piper's) are kept apart, chimes too: switching voices back remakes nothing."""
    assert frame_track.lift_for("piper") < frame_track.lift_for("espeak") == frame_track.FRAME_GAIN_DB
    cache = CueCache(tmp_path / "cache")
    cues, timeline = _short(drill, cache)
    made = _count_made(monkeypatch)
    counts = []
    for lift in (5.5, 5.0, 5.5, 5.0):
        made[0] = 0
        maker = frame_cache.maker(cache, cues, 22050, 64, lift_db=lift)
        written = frame_track.write(timeline, cues, 22050, 64, io.BytesIO(), make=maker, lift_db=lift)
        counts.append(made[0])
        assert written.measured.loudness_lufs == pytest.approx(-16.0, abs=1.0)
    assert counts[0] == counts[1] > 0 and counts[2:] == [0, 0]
