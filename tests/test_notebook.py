"""The routine builder driven through its widgets, as a person would, and the export helpers of 03."""

from __future__ import annotations

import json
import re
import shutil
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from stretchcast.cli.main import main
from stretchcast.content import Collection, load_routine
from stretchcast.content.words import clock
from stretchcast.content.words import clock as clock_text
from stretchcast.errors import VoiceError
from stretchcast.notebook.model import RoutineModel
from stretchcast.notebook.serving import ServingPanel
from stretchcast.notebook.view import (
    RoutineBuilder,
    RoutineSource,
    export_routines,
    output_files,
    routine_sources,
    tracks_table,
)
from stretchcast.pipeline import BuildOptions
from stretchcast.serve.server import start_background
from stretchcast.voices import Choice, EngineStatus
from stretchcast.voices.cache import CACHE_ENV

from ._library import manifest as library_manifest
from .conftest import FakeClock

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
#: The engines as a machine without the network sees them (what the Voice list is built from).
HERE = (
    EngineStatus("gtts", False, "gTTS unreachable: no network (could not look up translate.google.com)"),
    EngineStatus("piper", True, "Piper 1.8.0, voice en_US-joe-medium"),
    EngineStatus("espeak", True, "espeak-ng 1.52"),
)


def read_notebook(path: Path) -> dict[str, Any]:
    """A notebook file as data (format 4, as nbformat writes it)."""
    nb: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    assert nb["nbformat"] == 4
    return nb


def cli_plan(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    """What 'stretchcast plan ARGS --json' prints, as data."""
    assert main(["plan", *args, "--json"]) == 0
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    return data


def assert_same_plan(builder: RoutineBuilder, data: dict[str, Any]) -> None:
    """The builder's plan is the CLI's in everything but the output name."""
    assert builder.model.timeline is not None
    mine = json.loads(json.dumps(builder.model.timeline.to_dict()))
    for key in ("title", "duration_ms", "chapters", "spans", "events"):
        assert mine[key] == data[key], key
    assert builder.model.duration_ms == data["duration_ms"]
    assert f"<b>{clock(data['duration_ms'])}</b>" in builder.controls.summary.value


def output_text(builder: RoutineBuilder) -> str:
    """The one message the builder shows now, as plain text ("" when none)."""
    shown = builder.message()
    return shown[1] if shown else ""


def shown_at(builder: RoutineBuilder) -> str | None:
    """Where the builder's message is shown now (the control it is about), or None."""
    shown = builder.message()
    return shown[0] if shown else None


@pytest.fixture
def builder(
    collection: Collection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: FakeClock
) -> RoutineBuilder:
    """A builder over the real content with the fake voice, writing into a temporary folder, with a
    cue cache of its own (so whether its length is exact never depends on another test), its live
    preview on a fake clock (it renders only when a test moves the clock on)."""
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cues"))
    return RoutineBuilder(
        RoutineModel(collection, voice="fake"),
        out_dir=tmp_path / "audio",
        routines_dir=tmp_path / "my-routines",
        statuses=HERE,
        schedule=clock.schedule,
    )


def only_cobra(builder: RoutineBuilder, title: str = "Cobra only") -> None:
    """Untick everything but the tall cobra (a short track, quick to render) and retitle."""
    for ex_id in ("knee-to-chest", "knee-sways", "knee-stirs"):
        builder.controls.exercises[ex_id].include.value = False
    builder.controls.title.value = title


class TestControls:
    """The widgets show the model and stay within the content's ranges."""

    def test_sliders_bounded_by_ranges(self, builder: RoutineBuilder, collection: Collection) -> None:
        """Each slider runs over its exercise's allowed range and starts at the preset's value."""
        for ex in collection.exercises:
            for field, slider in builder.controls.exercises[ex.id].sliders.items():
                rng = ex.ranges.of(field)
                assert (slider.min, slider.max) == (rng.min, rng.max), (ex.id, field)
                assert slider.value == getattr(builder.model.exercises[ex.id], field)

    def test_fixed_values_shown_disabled(self, builder: RoutineBuilder) -> None:
        """A value the source fixes is shown, disabled, with a note saying so."""
        k2c = builder.controls.exercises["knee-to-chest"]
        assert k2c.sliders["reps"].disabled and k2c.sliders["reps"].value == 8
        assert k2c.sliders["hold"].disabled and not k2c.sliders["rest"].disabled
        assert "Fixed by the source: reps 8, hold 2 s." in k2c.note.value
        stirs = builder.controls.exercises["knee-stirs"]
        assert stirs.sliders["hold"].disabled and "No holds" in stirs.note.value

    def test_untick_disables(self, builder: RoutineBuilder) -> None:
        """Unticking takes an exercise out of the plan and disables its sliders; ticking brings both back."""
        sways = builder.controls.exercises["knee-sways"]
        sways.include.value = False
        assert builder.model.routine is not None
        assert "knee-sways" not in [i.exercise.id for i in builder.model.routine.items]
        assert all(s.disabled for s in sways.sliders.values())
        sways.include.value = True
        assert not sways.sliders["reps"].disabled and sways.sliders["sets"].disabled is False

    def test_preset_dropdown(self, builder: RoutineBuilder) -> None:
        """Choosing a preset moves every control to its values."""
        builder.controls.preset.value = "full"
        assert builder.controls.exercises["knee-sways"].sliders["hold"].value == 5
        assert builder.controls.exercises["knee-stirs"].sliders["reps"].value == 8
        assert builder.controls.title.value == "SI joint routine, full"

    def test_start_over(self, builder: RoutineBuilder, capsys: pytest.CaptureFixture[str]) -> None:
        """Start over brings back the preset as it is in its file."""
        builder.controls.exercises["knee-sways"].sliders["reps"].value = 8
        builder.controls.pace.value = 2.0
        builder.controls.start_over.click()
        assert builder.controls.pace.value == 1.0
        assert_same_plan(builder, cli_plan(capsys, "standard"))


class TestPlanFollowsSliders:
    """Every change shows the length and plan that 'stretchcast plan' computes for the same settings."""

    def test_same_as_plan_with_set(self, builder: RoutineBuilder, capsys: pytest.CaptureFixture[str]) -> None:
        """Sliders and guidance give exactly the plan of --set, --pace, --no-chimes and --no-countdown."""
        assert_same_plan(builder, cli_plan(capsys, "standard"))
        before = builder.model.duration_ms
        c = builder.controls
        c.exercises["knee-sways"].sliders["reps"].value = 8
        c.exercises["knee-sways"].sliders["hold"].value = 5
        c.exercises["knee-stirs"].sliders["rest"].value = 30
        c.exercises["tall-cobra"].sliders["sets"].value = 2
        c.pace.value = 1.5
        c.chimes.value = False
        c.countdown.value = False
        assert builder.model.duration_ms != before
        assert_same_plan(
            builder,
            cli_plan(
                capsys,
                "standard",
                "--set=knee-sways.reps=8",
                "--set=knee-sways.hold=5",
                "--set=knee-stirs.rest=30",
                "--set=tall-cobra.sets=2",
                "--pace=1.5",
                "--no-chimes",
                "--no-countdown",
            ),
        )

    def test_same_as_plan_of_saved_file(
        self, builder: RoutineBuilder, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        """Rounds, a new title and a smaller selection give the plan of the saved routine file."""
        c = builder.controls
        c.preset.value = "gentle"
        c.title.value = "Sore Tuesday"
        c.rounds.value = 2
        c.exercises["knee-stirs"].include.value = False
        c.exercises["knee-to-chest"].sliders["rest"].value = 45
        c.save.click()
        saved = tmp_path / "my-routines" / "sore-tuesday.yaml"
        assert saved.is_file(), output_text(builder)
        assert_same_plan(builder, cli_plan(capsys, str(saved)))

    def test_plot_follows(self, builder: RoutineBuilder) -> None:
        """The plot is redrawn when the timeline changes, and not when nothing it shows has changed."""
        first = builder.controls.plot.value
        assert bytes(first).startswith(b"\x89PNG")
        builder.controls.exercises["knee-sways"].sliders["reps"].value = 4
        second = builder.controls.plot.value
        assert bytes(second) != bytes(first)
        builder.controls.voice.value = "espeak"  # the plan is the same: no redraw
        assert builder.controls.plot.value is second

    def test_problem_disables_actions(self, builder: RoutineBuilder) -> None:
        """With nothing ticked, or no title, the message beside that control says what to do and
        Render and Save are disabled."""
        builder.controls.title.value = ""
        assert builder.message() == ("title", "The title must not be empty.")
        assert builder.controls.render.disabled and builder.controls.save.disabled
        builder.controls.title.value = "Mine"
        assert builder.message() is None
        for ex in builder.controls.exercises.values():
            ex.include.value = False
        assert builder.message() == ("exercises", "Tick at least one exercise.")
        assert builder.controls.render.disabled
        builder.controls.exercises["tall-cobra"].include.value = True
        assert not builder.controls.render.disabled and builder.message() is None


class TestRenderAndSave:
    """Render plays the routine as planned; Save writes a file the CLI builds identically."""

    def test_render(self, builder: RoutineBuilder, tmp_path: Path) -> None:
        """Render fills the player, the chapters and the links, and its manifest matches the plan."""
        only_cobra(builder)
        builder.controls.render.click()
        c = builder.controls
        assert output_text(builder) == ""
        mp3 = tmp_path / "audio" / "cobra-only.mp3"
        assert bytes(c.audio.value) == mp3.read_bytes() and c.audio.layout.display is None
        assert c.progress.value == c.progress.max and c.progress.bar_style == "success"
        assert "Rendered" in c.status.value and "fake voice" in c.status.value
        assert "Tall cobra" in c.chapters.value and "Welcome" in c.chapters.value
        (links,) = c.downloads.outputs
        assert 'download="cobra-only.mp3"' in links["data"]["text/html"]
        assert f"Manifest: {tmp_path / 'audio' / 'cobra-only.json'}" in links["data"]["text/plain"]
        manifest = json.loads((tmp_path / "audio" / "cobra-only.json").read_text())
        assert builder.model.timeline is not None
        assert [e["text"] for e in manifest["events"]] == [e.text for e in builder.model.timeline.events]
        assert [(s["kind"], s["end_ms"] - s["start_ms"]) for s in manifest["spans"]] == [
            (s.kind, s.duration_ms) for s in builder.model.timeline.spans
        ]

    def test_saved_file_builds_identically(
        self, builder: RoutineBuilder, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """'stretchcast build FILE' of the saved routine writes the very same MP3 as Render did."""
        only_cobra(builder)
        builder.controls.pace.value = 1.25
        builder.controls.exercises["tall-cobra"].sliders["rest"].value = 40
        builder.controls.exercises["tall-cobra"].sliders["sets"].value = 2
        builder.controls.render.click()
        builder.controls.save.click()
        assert "Saved" in output_text(builder)
        saved = tmp_path / "my-routines" / "cobra-only.yaml"
        assert main(["build", str(saved), "-o", str(tmp_path / "cli"), "-q"]) == 0
        capsys.readouterr()
        rendered = (tmp_path / "audio" / "cobra-only.mp3").read_bytes()
        assert (tmp_path / "cli" / "cobra-only.mp3").read_bytes() == rendered
        built = json.loads((tmp_path / "cli" / "cobra-only.json").read_text())
        mine = json.loads((tmp_path / "audio" / "cobra-only.json").read_text())
        assert built == mine

    def test_save_never_overwrites(self, builder: RoutineBuilder, tmp_path: Path) -> None:
        """Saving twice says the file exists and keeps it; with Replace ticked it is replaced."""
        builder.controls.exercises["knee-sways"].sliders["reps"].value = 5  # now "... (adjusted)"
        builder.controls.save.click()
        path = tmp_path / "my-routines" / "si-joint-routine-standard-adjusted.yaml"
        first = path.read_text()
        builder.controls.exercises["knee-sways"].sliders["reps"].value = 7
        builder.controls.save.click()
        assert "already exists" in output_text(builder) and "replace" in output_text(builder)
        assert path.read_text() == first
        builder.controls.replace.value = True
        builder.controls.save.click()
        assert "Saved" in output_text(builder) and "reps: 7" in path.read_text()


class TestErrorsShown:
    """Problems are shown in the builder in plain words, never lost."""

    def test_voice_unavailable(self, collection: Collection, tmp_path: Path) -> None:
        """A voice that cannot speak is explained, the bar turns red, and nothing is written."""

        def unavailable(name: str, *, offline: bool = False) -> Choice:
            raise VoiceError("the piper voice is not installed", fix="Choose another voice.")

        builder = RoutineBuilder(
            RoutineModel(collection, choose=unavailable), out_dir=tmp_path / "audio", statuses=HERE
        )
        builder.controls.render.click()
        assert output_text(builder) == "the piper voice is not installed\n  Choose another voice."
        assert builder.controls.progress.bar_style == "danger"
        assert "Not rendered" in builder.controls.status.value
        assert not builder.controls.render.disabled
        assert not (tmp_path / "audio").exists()

    def test_unknown_voice(self, builder: RoutineBuilder, collection: Collection, tmp_path: Path) -> None:
        """A routine file naming a voice this machine lacks shows it, and Render explains the problem."""
        path = tmp_path / "r.yaml"
        path.write_text("title: R\nvoice: nosuchvoice\nexercises:\n  - id: tall-cobra\n")
        builder.model.apply_routine(load_routine(collection, path))
        assert builder.controls.voice.value == "nosuchvoice"
        assert [e for e, ec in builder.controls.exercises.items() if ec.include.value] == ["tall-cobra"]
        assert builder._exercise_list.children[0] is builder.controls.exercises["tall-cobra"].box
        builder.controls.render.click()
        assert output_text(builder).startswith("there is no voice called 'nosuchvoice'")

    def test_unwritable_audio_folder(self, builder: RoutineBuilder, tmp_path: Path) -> None:
        """A folder that cannot be written is named, with what to do."""
        blocker = tmp_path / "blocker"
        blocker.write_text("")
        builder.out_dir = blocker / "audio"
        only_cobra(builder)
        builder.controls.render.click()
        assert "cannot write" in output_text(builder) and str(blocker) in output_text(builder)

    def test_unwritable_save_folder(self, builder: RoutineBuilder, tmp_path: Path) -> None:
        """Saving into a folder that cannot be made is explained; an empty folder box too."""
        blocker = tmp_path / "blocker"
        blocker.write_text("")
        builder.controls.folder.value = str(blocker / "routines")
        builder.controls.save.click()
        assert "cannot write" in output_text(builder)
        builder.controls.folder.value = "  "
        builder.controls.save.click()
        assert output_text(builder) == "there is no folder to save in\n  Type a folder into 'Save in'."

    def test_unexpected_error(self, builder: RoutineBuilder, monkeypatch: pytest.MonkeyPatch) -> None:
        """A bug is reported in words, with its traceback below for whoever fixes it."""

        def broken(*_args: object, **_kwargs: object) -> None:
            raise RuntimeError("the mixer fell over")

        monkeypatch.setattr(builder.model, "render", broken)
        builder.controls.render.click()
        text = output_text(builder)
        assert text.startswith("Something went wrong while rendering: the mixer fell over")
        assert "Traceback" in text and "RuntimeError" in text

    def test_new_action_clears_old_messages(self, builder: RoutineBuilder, tmp_path: Path) -> None:
        """Each Render or Save replaces the message shown before it."""
        builder.controls.folder.value = ""
        builder.controls.save.click()
        builder.controls.folder.value = str(tmp_path / "ok")
        builder.controls.save.click()
        assert output_text(builder).startswith("Saved")
        assert "no folder" not in output_text(builder)


def walk(widget: Any) -> list[Any]:
    """``widget`` and every widget inside it, depth first."""
    found = [widget]
    for child in getattr(widget, "children", ()):
        found += walk(child)
    return found


class TestAsAPersonMeetsIt:
    """Issue 20: messages beside their cause in the builder's words, no stale track, visible naming."""

    def test_message_beside_title_replaces_saved(self, builder: RoutineBuilder) -> None:
        """A bad title is reported beside the Title field, and the older "Saved" message is gone."""
        builder.controls.save.click()
        assert shown_at(builder) == "save" and output_text(builder).startswith("Saved")
        builder.controls.title.value = "x" * 500
        assert builder.message() == (
            "title",
            "The title text is 500 characters long; at most 80 are allowed.",
        )
        assert all(not area.outputs for name, area in builder.controls.messages.items() if name != "title")
        builder.controls.title.value = ""
        assert builder.message() == ("title", "The title must not be empty.")
        builder.controls.title.value = "Fine again"
        assert builder.message() is None

    def test_replace_in_builder_words(self, builder: RoutineBuilder) -> None:
        """Saving over a file names the "Replace if it exists" tick box, never a command-line option."""
        builder.controls.save.click()
        builder.controls.save.click()
        where, text = builder.message() or ("", "")
        assert where == "save" and "already exists" in text
        assert "tick 'Replace if it exists'" in text and "--" not in text

    def test_voice_failure_in_builder_words(self, builder: RoutineBuilder) -> None:
        """A voice that fails points at the Voice list (no "--voice piper"), beside the Render button."""

        def offline(name: str, *, offline: bool = False) -> Choice:
            raise VoiceError(
                "gTTS unreachable: no network (could not look up translate.google.com)",
                fix="Check the connection, or use --voice piper (offline).",
            )

        builder.model._choose = offline
        builder.controls.render.click()
        where, text = builder.message() or ("", "")
        assert where == "render"
        assert text.endswith("Check the connection, or choose piper in the Voice list (it works offline).")
        assert "--" not in text

    def test_failed_render_clears_previous_track(self, builder: RoutineBuilder) -> None:
        """After a render fails, the earlier track's player, chapters and links are gone, and the
        reason is shown right under the Render button."""
        c = builder.controls
        only_cobra(builder)
        c.render.click()
        assert c.audio.value and c.chapters.value and c.downloads.outputs

        def broken(name: str, *, offline: bool = False) -> Choice:
            raise VoiceError("the piper voice is not installed", fix="Choose another voice.")

        builder.model._choose = broken
        c.render.click()
        assert bytes(c.audio.value) == b"" and c.audio.layout.display == "none"
        assert c.chapters.value == "" and c.downloads.outputs == ()
        assert "Not rendered" in c.status.value and c.progress.bar_style == "danger"
        assert builder.message() == ("render", "the piper voice is not installed\n  Choose another voice.")
        children = list(builder.children)
        render_row = next(i for i, w in enumerate(children) if c.render in getattr(w, "children", ()))
        assert children[render_row + 1] is c.messages["render"]

    def test_unavailable_engines_marked(self, builder: RoutineBuilder) -> None:
        """The Voice list marks an engine that cannot work here, with the reason, and says what auto uses;
        choosing it explains, beside the list."""
        labels = {value: label for label, value in builder.controls.voice.options}
        assert labels["gtts"] == (
            "gtts: unavailable (gTTS unreachable: no network (could not look up translate.google.com))"
        )
        assert labels["piper"] == "piper" and labels["auto"] == "auto (uses piper here)"
        builder.controls.voice.value = "gtts"
        where, text = builder.message() or ("", "")
        assert where == "guidance" and text.startswith("The gtts voice cannot speak here: gTTS unreachable")
        builder.controls.voice.value = "piper"
        assert builder.message() is None

    def test_offline_builder_never_asks_google(self, collection: Collection, tmp_path: Path) -> None:
        """A builder made offline checks the engines without Google and says so in the Voice list."""
        builder = RoutineBuilder(RoutineModel(collection, voice="fake"), out_dir=tmp_path, offline=True)
        labels = {value: label for label, value in builder.controls.voice.options}
        assert labels["gtts"] == "gtts: unavailable (not tried: the builder was made offline)"
        assert builder.model.lengths.auto_engine in ("piper", "espeak")

    def test_file_name_follows_title_until_typed(self, builder: RoutineBuilder, tmp_path: Path) -> None:
        """The file name follows the title until typed; then render and save use it; emptied, it
        follows the title again."""
        c = builder.controls
        only_cobra(builder)
        assert c.file_name.value == "cobra-only"
        c.file_name.value = "cobra-slow"
        c.title.value = "Cobra, slowly"
        assert c.file_name.value == "cobra-slow" and builder.model.slug == "cobra-slow"
        c.render.click()
        c.save.click()
        assert (tmp_path / "audio" / "cobra-slow.mp3").is_file()
        assert (tmp_path / "my-routines" / "cobra-slow.yaml").is_file()
        assert "cobra-slow.mp3" in c.naming.value
        c.file_name.value = ""
        assert c.file_name.value == "cobra-slowly"

    def test_bad_file_name_beside_it(self, builder: RoutineBuilder) -> None:
        """A file name that is not a plain name is explained beside it, with one that would do."""
        builder.controls.file_name.value = "My Slow"
        where, text = builder.message() or ("", "")
        assert where == "title" and "like 'my-slow'" in text
        assert builder.controls.render.disabled and builder.controls.save.disabled

    def test_adjusted_only_when_not_named(self, builder: RoutineBuilder) -> None:
        """Moving a slider marks a preset's title "(adjusted)" and says so beside it; a title of one's
        own is left alone."""
        c = builder.controls
        c.exercises["knee-sways"].sliders["reps"].value = 5
        assert c.title.value == "SI joint routine, standard (adjusted)"
        assert "(adjusted)" in c.naming.value and "si-joint-routine-standard-adjusted.mp3" in c.naming.value
        c.start_over.click()
        c.title.value = "My mornings"
        c.exercises["knee-sways"].sliders["reps"].value = 5
        assert c.title.value == "My mornings" and "adjusted" not in c.naming.value

    def test_each_slider_shows_its_range(self, builder: RoutineBuilder, collection: Collection) -> None:
        """Beside every slider is the range it allows, as the content gives it."""
        for ex in collection.exercises:
            texts = [w.value for w in walk(builder.controls.exercises[ex.id].box) if hasattr(w, "value")]
            for field in ("reps", "rest"):
                rng = ex.ranges.of(field)
                unit = " s" if field == "rest" else ""
                want = f"{rng.min:g}{unit}" if rng.min == rng.max else f"{rng.min:g} to {rng.max:g}{unit}"
                assert any(isinstance(t, str) and f">{want}<" in t for t in texts), (ex.id, field, want)
        all_text = " ".join(str(getattr(w, "value", "")) for w in walk(builder))
        assert ">1 to 10<" in all_text and ">0.5 to 2<" in all_text

    def test_length_exact_once_cached(self, builder: RoutineBuilder, tmp_path: Path) -> None:
        """The length is labelled an estimate until every cue is cached; then it is the render's exact one."""
        only_cobra(builder)
        c = builder.controls
        assert f"<b>{clock(builder.model.duration_ms)}</b></span> estimated" in c.summary.value
        c.render.click()
        manifest = json.loads((tmp_path / "audio" / "cobra-only.json").read_text())
        assert builder.model.exact_ms == manifest["duration_ms"]
        assert f"<b>{clock(manifest['duration_ms'])}</b></span> exact" in c.summary.value
        c.exercises["tall-cobra"].sliders["sets"].value = 2  # new cues ("Set 2 of 2"): not all cached
        assert builder.model.exact_ms == 0 and "</span> estimated" in c.summary.value


class TestLivePreview:
    """Once every cue is cached, the player follows the sliders without Render."""

    def test_player_follows_a_slider(self, builder: RoutineBuilder, clock: FakeClock, tmp_path: Path) -> None:
        """After a Render, moving the pace slider updates the player, the chapters and the status by
        itself after the delay; the rendered track in the audio folder is left as it was."""
        c = builder.controls
        only_cobra(builder)
        c.render.click()
        rendered = (tmp_path / "audio" / "cobra-only.mp3").read_bytes()
        c.pace.value = 1.2
        assert "Updating the player" in c.status.value and bytes(c.audio.value) == rendered
        clock.advance(1)
        preview = (builder.live.folder / "preview.mp3").read_bytes()
        assert bytes(c.audio.value) == preview != rendered and c.audio.layout.display is None
        assert c.status.value.startswith(f"Live preview: {clock_text(builder.model.exact_ms)}, made in ")
        assert "Tall cobra" in c.chapters.value
        (note,) = c.downloads.outputs
        assert "press Render to write cobra-only.mp3" in note["data"]["text/plain"]
        assert (tmp_path / "audio" / "cobra-only.mp3").read_bytes() == rendered
        assert builder.message() is None and not c.render.disabled

    def test_behind_when_a_cue_is_missing(self, builder: RoutineBuilder, clock: FakeClock) -> None:
        """A change that needs a cue never spoken leaves the player as it was, says so beside Render,
        and Render is there to press."""
        c = builder.controls
        only_cobra(builder)
        c.render.click()
        before = bytes(c.audio.value)
        c.exercises["tall-cobra"].sliders["sets"].value = 2
        clock.advance(10)
        assert bytes(c.audio.value) == before and builder.live.renders == 0
        assert "The player has the routine from before your last change." in c.status.value
        assert "Your change needs cues not spoken yet: press Render" in c.status.value
        assert not c.render.disabled
        c.exercises["tall-cobra"].sliders["sets"].value = 1
        assert c.status.value.startswith("Rendered")  # changed back: the player has it after all

    def test_toggle(self, builder: RoutineBuilder, clock: FakeClock) -> None:
        """The "Live preview" box is ticked to begin with; unticked, the player stays and says why."""
        c = builder.controls
        assert c.live.description == "Live preview" and c.live.value is True
        assert any(c.live in getattr(w, "children", ()) and c.render in w.children for w in builder.children)
        only_cobra(builder)
        c.render.click()
        c.live.value = False
        c.pace.value = 1.2
        clock.advance(10)
        assert builder.live.renders == 0
        assert "Live preview is off: press Render to hear your change." in c.status.value
        c.live.value = True
        clock.advance(1)
        assert builder.live.renders == 1 and c.status.value.startswith("Live preview:")

    def test_failure_beside_the_control(
        self, builder: RoutineBuilder, clock: FakeClock, tmp_path: Path
    ) -> None:
        """A live preview that fails takes the earlier track off the screen and says why beside the
        control that was changed, in plain words."""
        c = builder.controls
        only_cobra(builder)
        c.render.click()
        shutil.rmtree(tmp_path / "cues")  # the cache emptied behind the builder's back
        c.pace.value = 1.2
        clock.advance(1)
        assert bytes(c.audio.value) == b"" and c.audio.layout.display == "none"
        assert c.chapters.value == "" and c.downloads.outputs == ()
        assert "The player was not updated." in c.status.value
        where, text = builder.message() or ("", "")
        assert where == "guidance" and "missing from the cue cache" in text and "Press Render" in text

    def test_failure_goes_once_a_preview_works(
        self, builder: RoutineBuilder, clock: FakeClock, tmp_path: Path
    ) -> None:
        """A preview that could not be written says so beside the exercise changed; the next one that
        works fills the player again and takes the message away."""
        c = builder.controls
        only_cobra(builder)
        c.render.click()
        folder = builder.live.folder
        blocker = tmp_path / "file"
        blocker.write_text("")
        builder.live.folder = blocker / "preview"
        c.exercises["tall-cobra"].sliders["rest"].value = 20
        c.pace.value = 1.2  # the last change made is the one the message sits beside
        c.exercises["tall-cobra"].sliders["rest"].value = 25
        clock.advance(1)
        where, text = builder.message() or ("", "")
        assert where == "exercise:tall-cobra" and "cannot write" in text and c.audio.value == b""
        builder.live.folder = folder
        c.pace.value = 1.1
        clock.advance(1)
        assert builder.message() is None and c.audio.layout.display is None
        assert c.status.value.startswith("Live preview:")


class TestServingPanel:
    """notebooks/03 serves until Stop is pressed, and shows a link only while it works."""

    def test_serves_until_stopped(self, tmp_path: Path) -> None:
        """The link answers while the panel runs; after Stop the port is closed and no link is shown."""
        (tmp_path / "audio").mkdir()
        panel = ServingPanel(start_background(tmp_path / "audio"), folder=str(tmp_path / "audio"))
        url = panel.server.url
        assert f'href="{url}/"' in panel.link.value and "Stop serving" in panel.link.value
        with urllib.request.urlopen(url + "/", timeout=10) as answer:
            assert answer.status == 200
        panel.stop_button.click()
        assert "http" not in panel.link.value and panel.link.value.startswith("Stopped")
        assert panel.stop_button.disabled
        with pytest.raises(OSError):
            urllib.request.urlopen(url + "/", timeout=10)
        panel.stop()  # a second stop does nothing

    def test_notebook_never_stops_it_itself(self) -> None:
        """notebooks/03 shows the panel and has no cell that stops the server behind the user's back."""
        cells = read_notebook(REPO / "notebooks" / "03-export.ipynb")["cells"]
        code = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
        assert any("ServingPanel(start_background(" in source for source in code)
        assert not any(".stop()" in source for source in code)


class TestExport:
    """notebooks/03: every routine rendered, a bad one reported, a table of what was made."""

    def test_sources(self, collection: Collection, tmp_path: Path) -> None:
        """Presets come first, then the folder's files in name order; a broken file carries its error."""
        (tmp_path / "b.yaml").write_text("title: B\nexercises:\n  - id: tall-cobra\n")
        (tmp_path / "a.yml").write_text("title: A\nexercises:\n  - id: knee-sway\n")
        (tmp_path / "notes.txt").write_text("not a routine")
        sources = routine_sources(collection, tmp_path)
        assert [s.name for s in sources] == ["gentle", "standard", "full", "a.yml", "b.yaml"]
        assert sources[3].routine is None and sources[3].error is not None
        assert "Did you mean 'knee-sways'" in sources[3].error
        assert sources[4].routine is not None and sources[4].error is None

    def test_missing_folder(self, collection: Collection, tmp_path: Path) -> None:
        """A routines folder that does not exist yet just means the presets."""
        assert [s.name for s in routine_sources(collection, tmp_path / "none")] == collection.presets()

    def test_export(self, collection: Collection, tmp_path: Path) -> None:
        """Good routines become tracks; a broken file and a clashing name are reported, not fatal."""
        routines = tmp_path / "routines"
        routines.mkdir()
        (routines / "cobra.yaml").write_text("title: Cobra\nexercises:\n  - id: tall-cobra\n")
        (routines / "typo.yaml").write_text("title: T\nexercises:\n  - id: knee-sway\n")
        sources = [s for s in routine_sources(collection, routines) if s.path.parent == routines]
        clash = RoutineSource(
            "other.yaml", routines / "other.yaml", load_routine(collection, routines / "cobra.yaml")
        )
        lines: list[str] = []
        tracks = export_routines(
            [*sources, clash], BuildOptions(out_dir=tmp_path / "audio"), voice="fake", report=lines.append
        )
        cobra, typo, other = tracks
        assert cobra.error is None and cobra.mp3 == tmp_path / "audio" / "cobra.mp3"
        assert cobra.duration_ms == json.loads((tmp_path / "audio" / "cobra.json").read_text())["duration_ms"]
        assert cobra.size_bytes == sum(p.stat().st_size for p in (tmp_path / "audio").iterdir())
        assert typo.error is not None and "knee-sway" in typo.error
        assert other.error is not None and "would write cobra.mp3 over the track of cobra.yaml" in other.error
        assert lines[0] == "Rendering cobra.yaml: Cobra\u2026"
        html = tracks_table(tracks)
        assert "cobra.mp3" in html and clock(cobra.duration_ms) in html and "Did you mean" in html

    def test_output_files(self, tmp_path: Path) -> None:
        """Captions, cover, playlist and split tracks named in a manifest are listed if they exist in its
        folder (here no cover and one split track are missing, and one lies outside)."""
        for name in ("r.mp3", "r.vtt", "r.m3u8", "r-01.mp3"):
            (tmp_path / name).write_text("x")
        manifest = tmp_path / "r.json"
        data = library_manifest(
            "r", "R", 1000, playlist="r.m3u8", split=("r-01.mp3", "r-02.mp3", "../outside.mp3")
        )
        manifest.write_text(json.dumps(data))
        (tmp_path.parent / "outside.mp3").write_text("x")
        assert [(label, p.name) for label, p in output_files(manifest)] == [
            ("MP3", "r.mp3"),
            ("Manifest", "r.json"),
            ("Captions (WebVTT)", "r.vtt"),
            ("Playlist (M3U8)", "r.m3u8"),
            ("Track", "r-01.mp3"),
        ]


class TestNotebookFiles:
    """The notebooks are committed clean and thin, and run in this project's kernel."""

    @pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
    def test_committed_without_outputs(self, path: Path) -> None:
        """No outputs and no execution counts are committed; the kernel is python3."""
        nb = read_notebook(path)
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                assert cell["outputs"] == [] and cell["execution_count"] is None, cell["source"][:40]
        assert nb["metadata"]["kernelspec"]["name"] == "python3"

    @pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
    def test_thin(self, path: Path) -> None:
        """Logic lives in the library: no notebook defines a function or a class."""
        for cell in read_notebook(path)["cells"]:
            if cell["cell_type"] == "code":
                source = "".join(cell["source"])
                assert "def " not in source and "class " not in source

    def test_all_there(self) -> None:
        """The notebooks are there, in order."""
        assert [p.name for p in NOTEBOOKS] == [
            "01-exercises.ipynb",
            "02-routine-builder.ipynb",
            "03-export.ipynb",
            "04-programme.ipynb",
            "05-progress.ipynb",
        ]


class TestDocumentedExamples:
    """The routine files shown to people load as shown."""

    @pytest.mark.parametrize(
        "path",
        [REPO / "my-routines" / "README.md", REPO / "notebooks" / "03-export.ipynb"],
        ids=lambda p: p.name,
    )
    def test_example_loads(self, path: Path, collection: Collection, tmp_path: Path) -> None:
        """Every YAML example in the file is a valid routine."""
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".ipynb":
            text = "\n".join("".join(c["source"]) for c in read_notebook(path)["cells"])
        examples = re.findall(r"```yaml\n(.*?)```", text, re.S)
        assert examples
        for i, example in enumerate(examples):
            routine_file = tmp_path / f"example-{i}.yaml"
            routine_file.write_text(example, encoding="utf-8")
            assert load_routine(collection, routine_file).items
