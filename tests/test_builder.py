"""The routine builder's model, with no widgets and no kernel: choices in, routine and plan out."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import traitlets

from stretchcast.content import Collection, Routine, load_collection, load_routine, routine_yaml
from stretchcast.errors import ContentError, OutputError, UsageError, VoiceError
from stretchcast.notebook.messages import builder_words
from stretchcast.notebook.model import (
    AUDIO_DIR_ENV,
    ROUTINES_DIR_ENV,
    VOICE_ENV,
    RoutineModel,
    default_audio_dir,
    default_routines_dir,
    default_voice,
)
from stretchcast.pipeline import plan
from stretchcast.progress import Stage
from stretchcast.voices import Choice, choose_voice
from stretchcast.voices.cache import CACHE_ENV

from .conftest import CONTENT


def same_plan(model: RoutineModel, routine: Routine) -> None:
    """The model's timeline is the plan of ``routine`` in everything but the output name."""
    assert model.timeline is not None
    mine, theirs = model.timeline.to_dict(), plan(routine).to_dict()
    mine.pop("slug")
    theirs.pop("slug")
    assert mine == theirs


@pytest.fixture
def model(collection: Collection) -> RoutineModel:
    """A model over the real collection, starting from the standard preset, speaking with the fake voice."""
    return RoutineModel(collection, voice="fake")


class TestChoices:
    """Settings start from a preset and stay within what the content allows."""

    def test_starts_from_standard(self, model: RoutineModel, preset: Callable[[str], Routine]) -> None:
        """A new model is the standard preset, planned exactly as 'stretchcast plan standard' plans it."""
        assert model.preset == "standard"
        assert model.title == "SI joint routine, standard"
        same_plan(model, preset("standard"))
        assert model.duration_ms == plan(preset("standard")).duration_ms
        assert model.problem == ""

    def test_preset_switch(self, model: RoutineModel, preset: Callable[[str], Routine]) -> None:
        """Choosing another preset takes all its settings."""
        model.preset = "gentle"
        assert model.exercises["knee-sways"].reps == 4
        assert model.exercises["knee-sways"].hold == 2
        same_plan(model, preset("gentle"))

    def test_change_recomputes(self, model: RoutineModel, preset: Callable[[str], Routine]) -> None:
        """Changing a dose changes the plan and duration exactly as --set would."""
        before = model.duration_ms
        model.exercises["knee-sways"].reps = 8
        assert model.duration_ms > before
        same_plan(model, preset("standard").with_overrides(["knee-sways.reps=8"]))

    @pytest.mark.parametrize(("field", "value"), [("reps", 9), ("reps", 3), ("hold", 6), ("rest", 61)])
    def test_out_of_range_is_refused(self, model: RoutineModel, field: str, value: int) -> None:
        """A value outside the exercise's range is refused and the setting stays as it was."""
        settings = model.exercises["knee-sways"]
        before = getattr(settings, field)
        with pytest.raises(traitlets.TraitError, match="outside its allowed range"):
            setattr(settings, field, value)
        assert getattr(settings, field) == before

    def test_fixed_fields(self, model: RoutineModel) -> None:
        """Fields the source fixes are known as fixed; the others are not."""
        assert model.exercises["knee-to-chest"].fixed("reps")
        assert model.exercises["tall-cobra"].fixed("hold")
        assert model.exercises["knee-stirs"].fixed("hold")  # no holds at all
        assert not model.exercises["knee-sways"].fixed("reps")

    @pytest.mark.parametrize(
        ("trait", "value"), [("rounds", 0), ("rounds", 11), ("pace", 2.5), ("voice", "Not a name")]
    )
    def test_guidance_bounds(self, model: RoutineModel, trait: str, value: object) -> None:
        """Rounds, pace and voice take only what a routine file accepts."""
        with pytest.raises(traitlets.TraitError):
            setattr(model, trait, value)

    def test_pace_is_tidied(self, model: RoutineModel) -> None:
        """A slider's binary fraction becomes the decimal a person would write."""
        model.pace = 1.1500000000000001
        assert model.pace == 1.15

    def test_no_exercise_is_a_problem(self, model: RoutineModel) -> None:
        """With every exercise unticked the model says what to do, and refuses to render or save."""
        for settings in model.exercises.values():
            settings.include = False
        assert model.problem == "Tick at least one exercise."
        with pytest.raises(UsageError, match="Tick at least one exercise"):
            model.checked_routine()

    @pytest.mark.parametrize(
        ("title", "problem"),
        [
            ("", "must not be empty"),
            ("   ", "must not be empty"),
            ("!!!", "a letter or a digit"),
            ("x" * 81, "at most 80"),
        ],
    )
    def test_bad_title_is_a_problem(self, model: RoutineModel, title: str, problem: str) -> None:
        """A title a routine file could not hold is reported, in words."""
        model.title = title
        assert problem in model.problem

    def test_title_is_tidied(self, model: RoutineModel) -> None:
        """The routine's title has its spaces tidied, as a routine file would read it back."""
        model.title = "  Morning   back "
        assert model.routine is not None
        assert model.routine.title == "Morning back"
        assert model.routine.slug == "morning-back"

    def test_description_follows_changes(self, model: RoutineModel) -> None:
        """The preset's description is kept until a dose changes; then it says where it came from."""
        assert model.description.startswith("The four exercises")
        model.exercises["tall-cobra"].rest = 20
        assert model.description == "Adjusted from the 'standard' preset."

    def test_order_of_a_routine_file(
        self, model: RoutineModel, collection: Collection, tmp_path: Path
    ) -> None:
        """A routine in its own order is planned in that order, with the rest unticked after it."""
        path = tmp_path / "mine.yaml"
        path.write_text("title: Mine\nexercises:\n  - id: tall-cobra\n  - id: knee-sways\n    reps: 5\n")
        routine = load_routine(collection, path)
        model.apply_routine(routine)
        assert model.order == ("tall-cobra", "knee-sways", "knee-to-chest", "knee-stirs")
        assert not model.exercises["knee-stirs"].include
        same_plan(model, routine)

    def test_reset(self, model: RoutineModel, preset: Callable[[str], Routine]) -> None:
        """Start over goes back to the preset as it is in its file."""
        model.exercises["knee-sways"].reps = 8
        model.pace = 1.5
        model.reset()
        same_plan(model, preset("standard"))


class TestCost:
    """Changes are cheap: computed once, from content read once."""

    def test_content_read_once(self, collection: Collection, monkeypatch: pytest.MonkeyPatch) -> None:
        """Slider changes read no file, and each preset file is read the first time it is chosen only."""
        calls: list[str] = []

        def counting(c: Collection, ref: str | Path) -> Routine:
            calls.append(str(ref))
            return load_routine(c, ref)

        monkeypatch.setattr("stretchcast.notebook.model.load_routine", counting)
        model = RoutineModel(collection, voice="fake")
        for reps in (4, 5, 6, 7, 8):
            model.exercises["knee-sways"].reps = reps
        for name in ("gentle", "standard", "full", "gentle", "standard"):
            model.preset = name
        assert calls == ["standard", "gentle", "full"]

    def test_batch_computes_once(self, model: RoutineModel) -> None:
        """Changes made together in a batch are planned once, at its end."""
        seen: list[Any] = []
        model.observe(lambda change: seen.append(change["new"]), names="timeline")
        with model.batch():
            model.exercises["knee-sways"].reps = 8
            model.exercises["knee-stirs"].reps = 8
            model.pace = 1.2
        assert len(seen) == 1


class TestEnvironment:
    """Notebooks follow the environment: under test, the fake voice and temporary folders."""

    def test_defaults(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Unset, the voice is auto and files go to the checkout's audio/ and my-routines/."""
        for name in (VOICE_ENV, AUDIO_DIR_ENV, ROUTINES_DIR_ENV):
            monkeypatch.delenv(name, raising=False)
        root = Path(__file__).resolve().parents[1]  # this checkout
        assert default_voice() == "auto"
        assert default_audio_dir() == root / "audio"
        assert default_routines_dir() == root / "my-routines"

    def test_set(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, collection: Collection) -> None:
        """Set, they are used, and a new model speaks with that voice."""
        monkeypatch.setenv(VOICE_ENV, "fake")
        monkeypatch.setenv(AUDIO_DIR_ENV, str(tmp_path / "a"))
        monkeypatch.setenv(ROUTINES_DIR_ENV, str(tmp_path / "r"))
        assert default_audio_dir() == tmp_path / "a"
        assert default_routines_dir() == tmp_path / "r"
        assert RoutineModel(collection).voice == "fake"

    def test_model_imports_no_widgets(self) -> None:
        """The model is usable without ipywidgets: importing it does not import them."""
        code = "import sys, stretchcast.notebook.model; print('ipywidgets' in sys.modules)"
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        assert out.stdout.strip() == "False"


class TestSave:
    """Save writes a routine file that loads back to the same routine, and never overwrites silently."""

    def test_round_trip(self, model: RoutineModel, collection: Collection, tmp_path: Path) -> None:
        """Every setting survives the trip through the file: doses, selection, order, guidance, voice."""
        model.title = 'Tuesday: "sore" day #2 — ünïcode'
        model.exercises["knee-sways"].hold = 5
        model.exercises["knee-stirs"].include = False
        model.exercises["tall-cobra"].sets = 2
        model.rounds = 2
        model.pace = 1.35
        model.chimes = False
        path = model.save(tmp_path)
        assert path == tmp_path / "tuesday-sore-day-2-n-code.yaml"  # slugify keeps ASCII only
        loaded = load_routine(collection, path)
        assert model.routine is not None
        for field in ("title", "description", "items", "rounds", "guidance", "voice", "slug"):
            assert getattr(loaded, field) == getattr(model.routine, field), field
        same_plan(model, loaded)

    def test_file_is_readable(self, model: RoutineModel) -> None:
        """The file says how to build it and writes every dose out."""
        assert model.routine is not None
        text = routine_yaml(model.routine, "standard-copy.yaml")
        assert text.startswith("# A stretchcast routine.")
        assert "stretchcast build standard-copy.yaml" in text
        assert "  reps: 8\n  hold: 2\n  rest: 15\n  sets: 1\n  pace: 3\n" in text
        assert "voice: fake" in text

    def test_auto_voice_is_left_out(self, model: RoutineModel) -> None:
        """With the voice on auto the file names none, so it builds with the best voice wherever it goes."""
        model.voice = "auto"
        assert model.routine is not None
        assert "voice" not in routine_yaml(model.routine)

    def test_never_overwrites(self, model: RoutineModel, tmp_path: Path) -> None:
        """Saving over a file is an error that leaves the file as it was, unless replace is asked."""
        model.exercises["knee-sways"].reps = 7  # the title is now "... (adjusted)" and stays so
        path = model.save(tmp_path)
        first = path.read_text()
        model.exercises["knee-sways"].reps = 8
        with pytest.raises(UsageError, match="already exists; nothing was written") as err:
            model.save(tmp_path)
        assert str(path) in err.value.message
        assert path.read_text() == first
        assert model.save(tmp_path, replace=True) == path
        assert path.read_text() != first
        assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]

    def test_unwritable_folder(self, model: RoutineModel, tmp_path: Path) -> None:
        """A folder that cannot be made is an OutputError in plain words."""
        blocker = tmp_path / "file"
        blocker.write_text("")
        with pytest.raises(OutputError, match="cannot write"):
            model.save(blocker / "routines")


class TestRender:
    """Render builds the routine as planned, reporting progress, with the voice it chose."""

    def test_manifest_matches_plan(
        self, collection: Collection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The manifest has the plan's chapters, holds, rests and cues, and progress reaches the end."""
        # an empty cue cache, so that every cue is spoken and reported one by one
        monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cue-cache"))
        model = RoutineModel(collection, voice="fake", preset="gentle")
        for ex_id in ("knee-to-chest", "knee-sways", "knee-stirs"):
            model.exercises[ex_id].include = False
        progress: list[tuple[Stage, int, int]] = []
        result = model.render(tmp_path, on_progress=lambda *report: progress.append(report))
        manifest = json.loads(result.manifest.read_text())
        assert model.timeline is not None
        planned = model.timeline
        assert [(c["title"], c["exercise"]) for c in manifest["chapters"]] == [
            (c.title, c.exercise) for c in planned.chapters
        ]
        assert [(s["kind"], s["end_ms"] - s["start_ms"]) for s in manifest["spans"]] == [
            (s.kind, s.duration_ms) for s in planned.spans
        ]
        assert [(e["kind"], e["role"], e["text"]) for e in manifest["events"]] == [
            (e.kind, e.role, e.text) for e in planned.events
        ]
        assert manifest["voice"]["engine"] == "fake" and manifest["voice"]["reason"] == "asked for fake"
        # every planned cue is spoken; the build may speak one more while it settles the welcome's
        # "about N minutes" with real lengths, in a short pass of its own
        speak = [(done, total) for stage, done, total in progress if stage == "speak"]
        assert speak[0] == (0, len(planned.texts()))
        assert speak[-1][0] == speak[-1][1] >= len(planned.texts())
        assert [done for done, _ in speak] == sorted(done for done, _ in speak)
        assert progress[-2:] == [("write", 0, 1), ("write", 1, 1)]
        assert result.mp3 == tmp_path / "si-joint-routine-gentle-adjusted.mp3"  # exercises were unticked

    def test_voice_unavailable(self, collection: Collection, tmp_path: Path) -> None:
        """A voice that cannot speak is a VoiceError and nothing is written."""

        def unavailable(name: str, *, offline: bool = False) -> Choice:
            raise VoiceError("espeak-ng could not be loaded", fix="Reinstall stretchcast.")

        model = RoutineModel(collection, voice="espeak", choose=unavailable)
        with pytest.raises(VoiceError):
            model.render(tmp_path / "out")
        assert not (tmp_path / "out").exists()

    def test_unknown_voice(self, collection: Collection, tmp_path: Path) -> None:
        """A voice name nobody knows is a plain error naming the voices there are."""
        model = RoutineModel(collection, voice="nosuchvoice", choose=choose_voice)
        with pytest.raises(UsageError, match="there is no voice called 'nosuchvoice'"):
            model.render(tmp_path)


class TestOtherCollections:
    """The builder works with any collection, not only the SI joint one."""

    def _collection(self, tmp_path: Path, presets: dict[str, str]) -> Collection:
        shutil.copytree(CONTENT, tmp_path / "c")
        for old in (tmp_path / "c" / "routines").iterdir():
            old.unlink()
        for name, text in presets.items():
            (tmp_path / "c" / "routines" / f"{name}.yaml").write_text(text)
        return load_collection(tmp_path / "c")

    def test_first_preset_without_standard(self, tmp_path: Path) -> None:
        """A collection with no 'standard' preset starts from its first one."""
        collection = self._collection(
            tmp_path, {"evening": "title: Evening\nexercises:\n  - id: tall-cobra\n"}
        )
        model = RoutineModel(collection, voice="fake")
        assert model.preset == "evening" and model.order[0] == "tall-cobra"

    def test_no_preset(self, tmp_path: Path) -> None:
        """A collection with no preset at all is a plain error naming its routines folder."""
        collection = self._collection(tmp_path, {})
        with pytest.raises(ContentError, match="no preset routines"):
            RoutineModel(collection, voice="fake")


class TestNamingAndLength:
    """Issue 20 in the model: a file name of one's own, the problem's place, and the exact length."""

    def test_file_name_follows_title(self, model: RoutineModel) -> None:
        """With no file name typed, the files are named after the title."""
        model.title = "Evening, gently"
        assert model.slug == "evening-gently" and model.routine is not None
        assert model.routine.slug == "evening-gently"

    def test_emptied_title_keeps_file_name(self, model: RoutineModel) -> None:
        """While the title is emptied to type another, the file name stays as it was."""
        model.title = "Evening"
        model.title = ""
        assert model.slug == "evening" and model.problem_about == "title"
        model.title = "Night"
        assert model.slug == "night"

    def test_typed_file_name_kept(self, model: RoutineModel, tmp_path: Path) -> None:
        """A typed file name names the files whatever the title; a preset brings the title's back."""
        model.file_name = "evening"
        model.title = "Something else"
        assert model.slug == "evening"
        assert model.save(tmp_path) == tmp_path / "evening.yaml"
        model.preset = "gentle"
        assert model.file_name == "" and model.slug == "si-joint-routine-gentle"

    def test_bad_file_name(self, model: RoutineModel) -> None:
        """A file name that is not plain is a problem about the file name, suggesting a plain one."""
        model.file_name = "My Evening"
        assert model.problem_about == "file_name" and "like 'my-evening'" in model.problem
        with pytest.raises(UsageError):
            model.checked_routine()

    @pytest.mark.parametrize(
        ("change", "about"),
        [({"title": ""}, "title"), ({"file_name": "A B"}, "file_name"), ({}, "")],
    )
    def test_problem_says_what_it_is_about(
        self, model: RoutineModel, change: dict[str, str], about: str
    ) -> None:
        """Each problem names the setting it is about, so the view can show it beside that control."""
        for name, value in change.items():
            setattr(model, name, value)
        assert model.problem_about == about and bool(model.problem) == bool(about)

    def test_nothing_ticked_is_about_exercises(self, model: RoutineModel) -> None:
        """With no exercise ticked, the problem is about the exercises."""
        with model.batch():
            for settings in model.exercises.values():
                settings.include = False
        assert model.problem_about == "exercises"

    def test_exact_length_from_cache(
        self, collection: Collection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Once every cue is in the cue cache, the model knows the exact length without speaking,
        and it is the length the render has."""
        monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cues"))
        model = RoutineModel(collection, voice="fake", preset="gentle")
        for ex_id in ("knee-to-chest", "knee-sways", "knee-stirs"):
            model.exercises[ex_id].include = False
        assert model.exact_ms == 0
        result = model.render(tmp_path / "audio")
        model.remeasure()
        assert model.exact_ms == result.timeline.duration_ms
        spoken: list[str] = []
        monkeypatch.setattr(
            "stretchcast.testing.FakeVoice.synthesize", lambda _self, text: spoken.append(text)
        )
        again = RoutineModel(collection, voice="fake", preset="gentle")
        for ex_id in ("knee-to-chest", "knee-sways", "knee-stirs"):
            again.exercises[ex_id].include = False
        assert again.exact_ms == result.timeline.duration_ms and spoken == []

    def test_auto_uses_the_engine_it_would_pick(
        self, collection: Collection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """For "auto" the exact length is the one of the engine auto would pick; unknown, no exact length."""
        monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cues"))
        model = RoutineModel(collection, voice="fake", preset="gentle")
        model.render(tmp_path / "audio")
        model.voice = "auto"
        assert model.exact_ms == 0  # what auto picks is not known yet
        model.lengths.auto_engine = "fake"
        model.remeasure()
        assert model.exact_ms > 0


class TestBuilderWords:
    """Messages from the stages below are put into the builder's words."""

    @pytest.mark.parametrize(
        ("cli", "builder"),
        [
            (
                "Choose another name, or replace it on purpose ('--force', or 'Replace' in the builder).",
                "Choose another name, or replace it on purpose (tick 'Replace if it exists').",
            ),
            (
                "Check the connection, or use --voice piper (offline).",
                "Check the connection, or choose piper in the Voice list (it works offline).",
            ),
            ("Try again, or use --voice piper.", "Try again, or choose piper in the Voice list."),
            ("Try another voice with --voice.", "Try another voice from the Voice list."),
            (
                "Voices: auto, gtts, piper, espeak ('stretchcast voices' shows which work here).",
                "Choose a voice from the Voice list.",
            ),
            ("Rename it with --force", "Rename it with 'Replace if it exists'"),
        ],
    )
    def test_translated(self, cli: str, builder: str) -> None:
        """Each command-line option becomes the control that does the same."""
        assert builder_words(cli) == builder

    def test_every_voice_and_force_fix_translated(self) -> None:
        """No fix a stage gives names --voice or --force once put into the builder's words."""
        src = Path(__file__).resolve().parents[1] / "src" / "stretchcast"
        stages = [*src.glob("voices/*.py"), *src.glob("sound/*.py"), src / "content" / "files.py"]
        fixes = [
            m for p in stages for m in re.findall(r'fix=f?"([^"]*--(?:voice|force)\b[^"]*)"', p.read_text())
        ]
        assert len(fixes) >= 5  # the stages do speak the command line's language
        assert [builder_words(f) for f in fixes if re.search(r"--(voice|force)\b", builder_words(f))] == []
