"""The frame back end as the default: every format, split tracks cut from its frames, and when it is not used."""

from __future__ import annotations

import dataclasses
import io
import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyloudnorm
import pytest

from stretchcast.content import Routine
from stretchcast.errors import UsageError
from stretchcast.output import track as tracks
from stretchcast.output.manifest import VoiceInfo
from stretchcast.pipeline import BuildOptions, build
from stretchcast.sound import frame_split, frame_track, frames, mp3
from stretchcast.sound import signal as audio
from stretchcast.sound.cues import CueSet
from stretchcast.sound.layout import ms_to_samples
from stretchcast.testing import FakeVoice
from stretchcast.timeline import Timeline, compile_timeline
from stretchcast.voices.cache import CueCache

from .test_frames import decoders, tone

#: every (sample rate, bitrate) the product accepts: 59 of them
#: how far a split track's decoded samples may be from the whole track's: FFmpeg gives the very same
#: floats; libsndfile's mpg123 rounds its float output a little differently in a stream that starts
#: later (seen: 1.5e-7), which can turn the mpg123 program's 16-bit output by one step (3.1e-5)
EXACT = {"ffmpeg": 0.0, "libsndfile": 1e-6, "mpg123": 2**-15}
EVERY_FORMAT = [(rate, bitrate) for rate in mp3.SAMPLE_RATES for bitrate in mp3.bitrates_for(rate)]


def all_decoders(data: bytes, tmp_path: Path) -> dict[str, np.ndarray]:
    """``decoders``, and the mpg123 program where installed (gapless by default; 16-bit output)."""
    out = decoders(data, tmp_path)
    if shutil.which("mpg123"):
        path = tmp_path / "m.mp3"
        path.write_bytes(data)
        done = subprocess.run(["mpg123", "-q", "-s", str(path)], capture_output=True, check=True)
        out["mpg123"] = np.frombuffer(done.stdout, dtype="<i2").astype(np.float32) / 32768
    return out


def first_loud(x: np.ndarray, threshold: float) -> int:
    """Index of the first sample whose magnitude reaches ``threshold``."""
    return int(np.flatnonzero(np.abs(x) >= threshold)[0])


def _short(drill: Callable[[str], Routine], rate: int = 22050) -> tuple[CueSet, Timeline]:
    cues = CueSet(FakeVoice(), rate)
    cues.prepare(compile_timeline(drill("short")).texts())
    return cues, compile_timeline(drill("short"), cues.length_ms)


@pytest.mark.parametrize(("rate", "bitrate"), EVERY_FORMAT)
def test_every_format_writes_and_cuts_from_frames(tmp_path: Path, rate: int, bitrate: int) -> None:
    """At every accepted format, blocks decode where placed and a section cut between them decodes to
    the whole track's very samples (libsndfile and FFmpeg), so auto uses frames at all of them."""
    sounds = [tone(0.3, 300, rate), tone(0.2, 520, rate, 0.2), tone(0.25, 700, rate)]
    blocks = [frames.encode_block(s, rate, bitrate) for s in sounds]
    at = [0, blocks[0].size + 4, blocks[0].size + blocks[1].size + 9]
    buf = io.BytesIO()
    writer = frames.FrameWriter(buf, rate, bitrate)
    for block, frame in zip(blocks, at, strict=True):
        writer.place(block, frame)
    onsets = [writer.onset(f) for f in at]
    length = onsets[-1] + len(sounds[-1]) + rate // 10
    writer.close(length)
    # the middle sound's section: from just before its onset to just before the last sound's
    start, end = onsets[1] - 5, onsets[2] - 3
    prepared = _prepared(blocks, sounds, at, length, rate, bitrate)
    section = frame_split.cut(prepared, start, end)
    part = io.BytesIO()
    stats = frame_split.write(prepared, section, part)
    assert stats.samples == end - start and stats.encoder_delay == section.delay
    whole, cut = decoders(buf.getvalue(), tmp_path), decoders(part.getvalue(), tmp_path)
    for name, decoded in whole.items():
        assert len(decoded) == length, name
        for sound, onset in zip(sounds, onsets, strict=True):
            played = decoded[onset : onset + len(sound)]
            x = sound / 32767
            scale = float(np.dot(played, x) / np.dot(x, x))  # LAME's: 0.95, 0.98 at 224, 1 from 256 kbit/s
            assert 0.94 < scale < 1.01, name
            assert np.abs(played - scale * x).max() < 0.01, name  # coding noise only: in place
        assert len(cut[name]) == end - start, name
        assert np.abs(cut[name] - decoded[start:end]).max() <= EXACT[name], name


def _prepared(
    blocks: list[frames.Block], sounds: list[np.ndarray], at: list[int], length: int, rate: int, bitrate: int
) -> frame_track.Prepared:
    """Blocks placed by hand, as frame_track.prepare would describe them."""
    keys = [("speech", f"sound {i}", len(s), 0.0) for i, s in enumerate(sounds)]
    made = {
        key: frame_track.Sound(block, len(s), -6.0, frame_track.CumulativeEnergy.of(np.zeros(len(s) + 1)))
        for key, block, s in zip(keys, blocks, sounds, strict=True)
    }
    laid = frame_track.FramePlan(Timeline("", "", (), (), ()), tuple(zip(at, keys, strict=True)), length)
    return frame_track.Prepared(laid, made, rate, bitrate)


@pytest.mark.parametrize(("rate", "bitrate"), [(22050, 64), (44100, 96)])
def test_split_tracks_are_the_whole_tracks_samples(
    tmp_path: Path, drill: Callable[[str], Routine], rate: int, bitrate: int
) -> None:
    """By default split tracks come from the frames: each decodes (libsndfile, FFmpeg, mpg123) to the manifest's length, to the
    whole track's samples over its span, its speech where the manifest says (within 1 ms), and its
    loudness and peak as its manifest entry predicts."""
    routine = drill("short")
    options = BuildOptions(out_dir=tmp_path / "out", split=True, sample_rate=rate, bitrate=bitrate)
    result = build(routine, voice=FakeVoice(), options=options, cache=CueCache(tmp_path / "cache"))
    manifest = json.loads(result.manifest.read_text(encoding="utf-8"))
    assert manifest["audio"]["encoder"] == result.extra["encoder"] == "frames"
    assert len(manifest["split"]) == 2
    cues = CueSet(FakeVoice(), rate)
    whole = all_decoders(result.mp3.read_bytes(), tmp_path)
    ends = [e["start_ms"] for e in manifest["split"][1:]] + [manifest["duration_ms"]]
    for entry, end_ms in zip(manifest["split"], ends, strict=True):
        start, end = ms_to_samples(entry["start_ms"], rate), ms_to_samples(end_ms, rate)
        assert entry["duration_ms"] == round((end - start) * 1000 / rate)
        speech = [
            e
            for e in result.timeline.speech()
            if entry["start_ms"] <= e.start_ms < entry["start_ms"] + entry["duration_ms"]
        ]
        assert speech
        for name, decoded in all_decoders((tmp_path / "out" / entry["file"]).read_bytes(), tmp_path).items():
            assert len(decoded) == end - start, (name, entry["file"])
            assert np.abs(decoded - whole[name][start:end]).max() <= EXACT[name], (name, entry["file"])
            for event in speech:
                pcm = frame_track.master_sound(
                    frame_track.sound_of(frame_track.key_of(event, cues, rate), cues, rate), rate, bitrate
                )
                threshold = 0.1 * float(np.abs(pcm).max())
                at = ms_to_samples(event.start_ms, rate) - start
                lo = max(0, at - rate // 20)
                heard = lo + first_loud(decoded[lo : at + len(pcm)], threshold * 0.95)
                assert abs(heard - (at + first_loud(pcm, threshold))) <= rate // 1000, (name, event.text)
            lufs = pyloudnorm.Meter(rate).integrated_loudness(decoded.astype(np.float64))
            assert entry["loudness_lufs"] == pytest.approx(lufs, abs=0.1), name  # predicted from its sounds
            assert lufs == pytest.approx(-16.0, abs=1.0), name
            assert audio.true_peak_db(decoded) <= entry["true_peak_dbtp"] <= -1.0, name


def test_grid_moves_sounds_later_and_the_manifest_says_so(
    tmp_path: Path, drill: Callable[[str], Routine]
) -> None:
    """Each sound plays up to a frame (26 ms) after its planned time, or, straight after another sound
    (speech after a chime), once that sound's frames end (under 5 frames); the manifest gives the moved times."""
    routine = drill("short")
    _, planned = _short(drill)
    result = build(routine, voice=FakeVoice(), options=BuildOptions(out_dir=tmp_path))
    manifest = json.loads(result.manifest.read_text(encoding="utf-8"))
    assert manifest["duration_ms"] == planned.duration_ms
    frame_ms = 576 * 1000 / 22050
    sounding = [e for e in planned.events if e.kind != "silence"]
    played = [e for e in manifest["events"] if e["kind"] != "silence"]
    assert [e.text for e in sounding] == [e["text"] for e in played]
    after_sound = 0
    for i, (plan, moved) in enumerate(zip(sounding, played, strict=True)):
        shift = moved["start_ms"] - plan.start_ms
        gap = plan.start_ms - sounding[i - 1].end_ms if i else 10**6
        if gap >= 5 * frame_ms:
            assert 0 <= shift < frame_ms + 1, plan
        else:
            after_sound += 1
            assert 0 <= shift < 5 * frame_ms, plan
    assert after_sound == sum(1 for e in planned.events if e.kind == "tone")  # the speech after each chime
    assert [e.start_ms for e in result.timeline.events] == [e["start_ms"] for e in manifest["events"]]


def _overlapping(timeline: Timeline) -> Timeline:
    """The timeline with its first chime moved under the end of the speech before it."""
    events = list(timeline.events)
    i = next(i for i, e in enumerate(events) if e.kind == "tone")
    speech = max(j for j in range(i) if events[j].kind == "speech")
    shift = events[i].start_ms - (events[speech].end_ms - 200)
    events[i] = dataclasses.replace(
        events[i], start_ms=events[i].start_ms - shift, end_ms=events[i].end_ms - shift
    )
    return dataclasses.replace(timeline, events=tuple(events))


def test_auto_takes_pcm_when_sounds_overlap(tmp_path: Path, drill: Callable[[str], Routine]) -> None:
    """Overlapping sounds are PCM's to write: auto falls back and says why; asking for frames is refused."""
    cues, timeline = _short(drill)
    overlapping = _overlapping(timeline)
    voice = VoiceInfo("fake", "fake", "test")
    written = tracks.write(
        drill("short"),
        overlapping,
        cues,
        out_dir=tmp_path / "a",
        slug="s",
        sample_rate=22050,
        bitrate=64,
        voice=voice,
    )
    assert written.encoder == "pcm" and written.encoder_reason.startswith("auto: sounds overlap at 0:")
    assert json.loads(written.manifest.read_text(encoding="utf-8"))["audio"]["encoder"] == "pcm"
    with pytest.raises(UsageError, match="sounds overlap") as refused:
        tracks.write(
            drill("short"),
            overlapping,
            cues,
            out_dir=tmp_path / "b",
            slug="s",
            sample_rate=22050,
            bitrate=64,
            voice=voice,
            encoder="frames",
        )
    assert "auto" in (refused.value.fix or "") and not (tmp_path / "b").exists()
    plain = tracks.write(
        drill("short"),
        timeline,
        cues,
        out_dir=tmp_path / "c",
        slug="s",
        sample_rate=22050,
        bitrate=64,
        voice=voice,
    )
    assert plain.encoder == "frames" and plain.encoder_reason == "auto: no sounds overlap"


def test_cuts_only_where_the_frames_stand_alone(rate: int = 22050, bitrate: int = 64) -> None:
    """A section cannot start inside a sound, nor right after one (its decoder state would bleed in)."""
    sounds = [tone(0.3, 300, rate), tone(0.2, 520, rate, 0.2)]
    blocks = [frames.encode_block(s, rate, bitrate) for s in sounds]
    spf = frames.samples_per_frame(rate)
    length = (blocks[0].size + blocks[1].size + 20) * spf
    apart = _prepared(blocks, sounds, [0, blocks[0].size + 10], length, rate, bitrate)
    onset = (blocks[0].size + 10) * spf + frames.LEAD
    with pytest.raises(frame_split.CutError, match="plays across"):
        frame_split.cut(apart, onset + 100, length)
    section = frame_split.cut(apart, onset - 1, length)
    assert section.first == blocks[0].size + 10 and section.delay == onset - 1 + 576 - section.first * spf
    touching = _prepared(blocks, sounds, [0, blocks[0].size], length, rate, bitrate)
    with pytest.raises(frame_split.CutError, match="too close"):
        frame_split.cut(touching, blocks[0].size * spf + frames.LEAD - 1, length)


def test_auto_takes_pcm_when_a_split_track_cannot_be_cut(
    tmp_path: Path, drill: Callable[[str], Routine], monkeypatch: pytest.MonkeyPatch
) -> None:
    """If a split track could not be cut from the frames, auto writes the whole build by PCM and says
    which track and why; frames asked for are refused before anything is written."""

    def cannot(*_args: object) -> frame_split.Cut:
        raise frame_split.CutError("a sound plays across 0:45.429")

    monkeypatch.setattr(frame_split, "cut", cannot)
    options = BuildOptions(out_dir=tmp_path / "auto", split=True)
    result = build(drill("short"), voice=FakeVoice(), options=options)
    assert result.extra["encoder"] == "pcm" and len(result.split) == 2
    assert result.extra["encoder_reason"] == (
        "auto: split track 1 cannot be cut from the frames: a sound plays across 0:45.429"
    )
    with pytest.raises(UsageError, match="split track 1 cannot be cut"):
        build(
            drill("short"),
            voice=FakeVoice(),
            options=BuildOptions(out_dir=tmp_path / "f", split=True, encoder="frames"),
        )
    assert not (tmp_path / "f").exists()
