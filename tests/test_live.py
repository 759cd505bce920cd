"""The builder's live preview, with no widgets and no kernel: a fake clock, the fake voice, real builds."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path
from typing import Any

import pytest
import soundfile as sf

from stretchcast.content import Collection
from stretchcast.errors import VoiceError
from stretchcast.notebook.live import PREVIEW_DELAY_S, CachedOnlyVoice, LivePreview, Preview, thread_timer
from stretchcast.notebook.model import RoutineModel
from stretchcast.pipeline import BuildOptions, BuildResult
from stretchcast.pipeline import build as real_build
from stretchcast.testing import FakeVoice
from stretchcast.voices import Choice, make_voice
from stretchcast.voices.base import Speech
from stretchcast.voices.cache import CACHE_ENV

from .conftest import FakeClock


@pytest.fixture
def model(collection: Collection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> RoutineModel:
    """The tall cobra alone, rendered once with the fake voice into a cue cache of its own, so that
    every cue of it (and of its pace and chime variants) is cached."""
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cues"))
    m = RoutineModel(collection, voice="fake")
    with m.batch():
        for ex_id in ("knee-to-chest", "knee-sways", "knee-stirs"):
            m.exercises[ex_id].include = False
        m.title = "Cobra only"
    m.render(tmp_path / "audio")
    m.remeasure()
    assert m.cached_engine() == "fake"
    return m


def live_preview(model: RoutineModel, clock: FakeClock, tmp_path: Path) -> tuple[LivePreview, list[Any]]:
    """A live preview on the fake clock, writing into tmp_path/preview; what it hands over is listed."""
    handed: list[Any] = []
    live = LivePreview(
        model,
        schedule=clock.schedule,
        folder=tmp_path / "preview",
        on_preview=handed.append,
        on_failure=handed.append,
    )
    return live, handed


def decoded_ms(mp3: bytes, tmp_path: Path) -> int:
    """The length of an MP3 as libsndfile decodes it, in whole milliseconds."""
    path = tmp_path / "decoded.mp3"
    path.write_bytes(mp3)
    frames: int = sf.info(str(path)).frames
    rate: int = sf.info(str(path)).samplerate
    return round(frames * 1000 / rate)


class TestDebounce:
    """A burst of changes gives one preview, after the last change and the delay."""

    def test_burst_renders_once(self, model: RoutineModel, clock: FakeClock, tmp_path: Path) -> None:
        """Four pace changes 0.2 s apart render nothing until 0.5 s after the last, then once: the
        routine as it is after the last change, from the cache alone, decoded as long as the exact length."""
        live, handed = live_preview(model, clock, tmp_path)
        for pace in (1.05, 1.1, 1.15, 1.2):
            model.pace = pace
            assert live.state == "updating"
            clock.advance(0.2)
        assert live.renders == 0 and handed == []
        clock.advance(PREVIEW_DELAY_S - 0.2 - 0.01)
        assert live.renders == 0
        clock.advance(0.02)
        assert live.renders == 1 and live.state == "current"
        (preview,) = handed
        assert isinstance(preview, Preview)
        assert preview.result.cues_synthesized == 0  # no voice was asked
        assert preview.result.timeline.duration_ms == model.exact_ms
        assert decoded_ms(preview.audio, tmp_path) == pytest.approx(model.exact_ms, abs=30)
        manifest = json.loads(preview.result.manifest.read_text())
        assert manifest["routine"]["guidance"]["pace"] == 1.2

    def test_writes_only_its_own_folder(self, model: RoutineModel, clock: FakeClock, tmp_path: Path) -> None:
        """A preview is written as preview.* in its own folder: the track Render wrote under the
        routine's name is untouched; the default folder is a temporary one, removed on close."""
        rendered = (tmp_path / "audio" / "cobra-only.mp3").read_bytes()
        listing = sorted(p.name for p in (tmp_path / "audio").iterdir())
        _live, handed = live_preview(model, clock, tmp_path)
        model.chimes = False
        clock.advance(1)
        assert len(handed) == 1 and handed[0].result.mp3 == tmp_path / "preview" / "preview.mp3"
        assert (tmp_path / "audio" / "cobra-only.mp3").read_bytes() == rendered
        assert sorted(p.name for p in (tmp_path / "audio").iterdir()) == listing
        own = LivePreview(model, schedule=clock.schedule)
        assert own.folder.is_dir() and not own.folder.is_relative_to(tmp_path)
        own.close()
        assert not own.folder.exists()


class TestWhenNot:
    """No preview when a cue is missing, when it is off, or when Render came first."""

    def test_missing_cue(self, model: RoutineModel, clock: FakeClock, tmp_path: Path) -> None:
        """A second set needs cues never spoken ("Set 2 of 2"): nothing is scheduled or built, and
        the preview says the player is behind and why; back to one set, the player is current again."""
        live, handed = live_preview(model, clock, tmp_path)
        model.pace = 1.1
        clock.advance(1)
        assert live.state == "current"
        model.exercises["tall-cobra"].sets = 2
        assert clock.pending == [] and live.state == "behind"
        assert live.why.startswith("Your change needs cues not spoken yet: press Render")
        clock.advance(10)
        assert live.renders == 1 and len(handed) == 1
        model.exercises["tall-cobra"].sets = 1
        assert live.state == "current" and clock.pending == []

    def test_plan_cue_missing(
        self, collection: Collection, tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """With a voice quicker than the estimate (as real ones are), a change can leave the exact
        timeline cached while the plan's welcome ("about twelve minutes") was never spoken: a build
        would ask the voice for it, so no preview is made."""
        monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cues"))
        hum = FakeVoice.synthesize

        def quicker(self: FakeVoice, text: str) -> Speech:
            speech = hum(self, text)
            return Speech(speech.samples[: len(speech.samples) * 9 // 10], speech.sample_rate)

        monkeypatch.setattr(FakeVoice, "synthesize", quicker)
        model = RoutineModel(collection, voice="fake")
        model.title = "Mornings"  # a title of one's own: not marked "(adjusted)" by the changes below
        model.render(tmp_path / "audio")
        live, _ = live_preview(model, clock, tmp_path)
        settings = model.exercises["knee-to-chest"]
        settings.rest = 30  # exact and estimated both "about eleven minutes": spoken by the render
        assert model.cached_engine() == "fake" and live.state == "updating"
        settings.rest = 40  # exact still "about eleven"; the estimate (half a minute longer) "twelve"
        assert model.exact_ms > 0 and model.cached_engine() is None
        assert live.state == "empty" and clock.pending == []
        needs_voice = Choice(CachedOnlyVoice(make_voice("fake")), "from the cache only")
        assert model.routine is not None
        with pytest.raises(VoiceError, match="about twelve minutes"):
            real_build(model.routine, voice=needs_voice, options=BuildOptions(out_dir=tmp_path / "tried"))

    def test_nothing_in_the_player(self, model: RoutineModel, clock: FakeClock, tmp_path: Path) -> None:
        """With nothing in the player yet, a change with a cue missing leaves it empty (not "behind")."""
        live, _ = live_preview(model, clock, tmp_path)
        model.exercises["tall-cobra"].sets = 2
        assert live.state == "empty" and clock.pending == []

    def test_problem(self, model: RoutineModel, clock: FakeClock, tmp_path: Path) -> None:
        """A routine that cannot be rendered (no title) is not previewed; the player is said to be behind."""
        live, _ = live_preview(model, clock, tmp_path)
        model.pace = 1.1
        clock.advance(1)
        model.title = ""
        clock.advance(10)
        assert live.renders == 1 and live.state == "behind"
        assert live.why == "Your change cannot be rendered as it stands: see the message above."

    def test_toggle(self, model: RoutineModel, clock: FakeClock, tmp_path: Path) -> None:
        """Turned off, changes render nothing and the player is said to be behind; turned on again,
        the routine as it is then is previewed after the delay."""
        live, handed = live_preview(model, clock, tmp_path)
        model.pace = 1.1
        clock.advance(1)
        live.enabled = False
        assert live.state == "current"  # the player still has the routine as it is
        model.pace = 1.2
        clock.advance(10)
        assert live.renders == 1 and live.state == "behind"
        assert live.why == "Live preview is off: press Render to hear your change."
        live.enabled = True
        assert live.state == "updating"
        clock.advance(1)
        assert live.renders == 2 and live.state == "current"
        assert handed[-1].result.timeline.duration_ms == model.exact_ms

    def test_turned_off_while_waiting(self, model: RoutineModel, clock: FakeClock, tmp_path: Path) -> None:
        """Turning it off while a preview waits calls the preview off."""
        live, _ = live_preview(model, clock, tmp_path)
        model.pace = 1.1
        live.enabled = False
        clock.advance(10)
        assert live.renders == 0 and live.state == "empty"

    def test_render_supersedes(self, model: RoutineModel, clock: FakeClock, tmp_path: Path) -> None:
        """A Render pressed while a preview waits calls it off, and the player is current after it."""
        live, handed = live_preview(model, clock, tmp_path)
        model.pace = 1.1
        ticket = live.supersede()
        model.render(tmp_path / "audio")
        live.rendered(ticket)
        clock.advance(10)
        assert live.renders == 0 and handed == [] and live.state == "current"


class TestNewestWins:
    """A preview of an older state never replaces a newer one in the player."""

    def test_change_during_a_render(
        self, model: RoutineModel, clock: FakeClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The person moves the pace slider again while the first preview is being built: that
        preview is thrown away, and the one shown is the newer state's."""
        live, handed = live_preview(model, clock, tmp_path)
        paces: list[float] = []

        def build_and_move(*args: Any, **kwargs: Any) -> BuildResult:
            result = real_build(*args, **kwargs)
            paces.append(json.loads(result.manifest.read_text())["routine"]["guidance"]["pace"])
            if len(paces) == 1:
                model.pace = 1.2  # a change arriving while this build runs
            return result

        monkeypatch.setattr("stretchcast.notebook.live.build", build_and_move)
        model.pace = 1.1
        clock.advance(1)
        assert paces == [1.1] and handed == [] and live.state == "updating"
        clock.advance(1)
        assert paces == [1.1, 1.2] and len(handed) == 1 and live.state == "current"
        assert json.loads(handed[0].result.manifest.read_text())["routine"]["guidance"]["pace"] == 1.2
        assert handed[0].result.timeline.duration_ms == model.exact_ms

    def test_threads_never_build_at_once(
        self, model: RoutineModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """With real timer threads, a build held up while two more changes come: builds run one at a
        time, and only the newest state reaches the player."""
        release = threading.Event()
        shown = threading.Event()
        running = 0
        most = 0
        count = threading.Lock()

        def slow_build(*args: Any, **kwargs: Any) -> BuildResult:
            nonlocal running, most
            with count:
                running += 1
                most = max(most, running)
            try:
                release.wait(timeout=60)  # held until the test has made its changes
                return real_build(*args, **kwargs)
            finally:
                with count:
                    running -= 1

        monkeypatch.setattr("stretchcast.notebook.live.build", slow_build)
        handed: list[Preview] = []

        def on_preview(preview: Preview) -> None:
            handed.append(preview)
            shown.set()

        live = LivePreview(
            model, schedule=thread_timer, folder=tmp_path / "preview", delay_s=0, on_preview=on_preview
        )
        model.pace = 1.1
        model.pace = 1.15
        model.pace = 1.2
        release.set()
        assert shown.wait(timeout=120)
        while live.state != "current":  # the newest build may still be handing over
            shown.wait(timeout=1)
        assert most == 1
        assert [json.loads(p.result.manifest.read_text())["routine"]["guidance"]["pace"] for p in handed] == [
            1.2
        ]


class TestFailure:
    """A preview that fails says why, and the player is emptied."""

    def test_cue_gone_from_cache(self, model: RoutineModel, clock: FakeClock, tmp_path: Path) -> None:
        """A cue removed from the cache after it was looked up: the preview asks no voice; it fails
        with a plain message saying to press Render, and the state says the player was emptied."""
        live, handed = live_preview(model, clock, tmp_path)
        model.pace = 1.1
        clock.advance(1)
        shutil.rmtree(tmp_path / "cues")
        model.pace = 1.2
        clock.advance(1)
        assert live.state == "failed"
        error = handed[-1]
        assert isinstance(error, Exception)
        assert "missing from the cue cache" in str(error) and "Press Render" in str(error)

    def test_unwritable_folder(self, model: RoutineModel, clock: FakeClock, tmp_path: Path) -> None:
        """A preview folder that cannot be written: the error is handed over, nothing is shown."""
        blocker = tmp_path / "file"
        blocker.write_text("")
        handed: list[Any] = []
        live = LivePreview(
            model, schedule=clock.schedule, folder=blocker / "preview", on_failure=handed.append
        )
        model.pace = 1.1
        clock.advance(1)
        assert live.state == "failed" and len(handed) == 1 and "cannot write" in str(handed[0])
