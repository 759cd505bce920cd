"""The routine builder's state and logic: what a person chooses, and what follows from it. No widgets.

:class:`RoutineModel` holds the choices as traits: a preset to start from, a title and rounds; per
exercise whether it is in and its reps, hold, rest and sets, each within the range the content allows;
the voice, the pace factor, chimes and countdowns. On every change it recomputes the routine, its plan
(the timeline, with estimated speech), the duration and the plot data, without synthesizing anything
and without reading a file (the collection and each preset are read once). It renders the routine to
audio with :func:`stretchcast.build`, and saves it as a routine file that ``stretchcast build FILE``
builds identically.

The widgets that drive it live in :mod:`stretchcast.notebook.view`. Keeping this module free of ipywidgets
(the model/view split of the jupyter-widgets tutorial) lets tests drive every behaviour with no kernel.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import os
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from traitlets import Bool, Float, HasTraits, Instance, Int, TraitError, Tuple, Unicode, observe, validate

from stretchcast.content import (
    ADJUSTED,
    PACE_FACTOR_RANGE,
    Collection,
    Dose,
    Exercise,
    Guidance,
    Range,
    Routine,
    RoutineItem,
    load_collection,
    load_routine,
    save_routine,
    schema,
    slugify,
)
from stretchcast.errors import ContentError, UsageError, Where
from stretchcast.notebook.lengths import CachedLengths
from stretchcast.notebook.plots import PlotData, plot_data
from stretchcast.pipeline import BuildOptions, BuildResult, build, plan
from stretchcast.progress import ProgressCallback, no_progress
from stretchcast.timeline import Timeline
from stretchcast.timeline.fit import Fit, Fitter
from stretchcast.voices import Choice, choose_voice

#: Environment variables the notebooks honour. Tests set them so that notebooks run offline with the
#: fake voice and write into a temporary folder; people normally leave them unset.
VOICE_ENV = "STRETCHCAST_VOICE"
AUDIO_DIR_ENV = "STRETCHCAST_AUDIO_DIR"
ROUTINES_DIR_ENV = "STRETCHCAST_ROUTINES_DIR"

#: The dose fields a person adjusts per exercise in the builder (pace is set for all by the pace factor);
#: the limits of 'rounds' and 'title' are a routine file's. All declared in content.schema.
ADJUSTABLE = schema.ADJUSTABLE
ROUNDS_RANGE = schema.ROUNDS_RANGE
TITLE_MAX = schema.TITLE.max_len
VoiceChooser = Callable[..., Choice]


def _checkout() -> Path | None:
    """This source checkout's root, when stretchcast runs from one (not from an installed wheel)."""
    root = Path(__file__).resolve().parents[3]
    return root if (root / "pyproject.toml").is_file() and (root / "content").is_dir() else None


def voice_override() -> str | None:
    """The voice ``$STRETCHCAST_VOICE`` asks notebooks to use for everything, or None."""
    return os.environ.get(VOICE_ENV, "").strip() or None


def default_voice() -> str:
    """The voice notebooks use unless told otherwise: ``$STRETCHCAST_VOICE``, else "auto"."""
    return voice_override() or "auto"


def default_audio_dir() -> Path:
    """Where notebooks write tracks: ``$STRETCHCAST_AUDIO_DIR``, else the checkout's ``audio/``
    (where ``stretchcast build`` writes), else ``audio/`` in the current folder.
    """
    env = os.environ.get(AUDIO_DIR_ENV, "").strip()
    if env:
        return Path(env)
    root = _checkout()
    return root / "audio" if root else Path("audio")


def default_routines_dir() -> Path:
    """Where your own routine files live: ``$STRETCHCAST_ROUTINES_DIR``, else the checkout's
    ``my-routines/``, else ``my-routines/`` in the current folder. The builder saves there, and
    notebooks/03-export renders every ``.yaml`` file in it beside the presets.
    """
    env = os.environ.get(ROUTINES_DIR_ENV, "").strip()
    if env:
        return Path(env)
    root = _checkout()
    return root / "my-routines" if root else Path("my-routines")


@functools.cache
def _settle_heap() -> None:
    """Move what is alive when the first builder is made out of the garbage collector's way (once).

    A full collection walks every object the collector tracks: in a process that has imported
    numpy, scipy, matplotlib and traitlets and loaded the collection, about 40 ms. Each recompute
    leaves a new plan behind, so one comes round every hundred or so slider changes, and lands in
    one of them: the slowest change by far. What exists now (modules, the collection, the
    presets) lives as long as the process; frozen (``gc.freeze``), it is never walked again, and a
    full collection costs what the builder's own plans cost, under a millisecond. Cyclic garbage
    made before this call is collected first.
    """
    gc.collect()
    gc.freeze()


class ExerciseSettings(HasTraits):
    """One exercise in the routine being built: whether it is in, and its dose within the allowed ranges."""

    include = Bool(True)
    reps = Int(1)
    hold = Int(0)
    rest = Int(0)
    sets = Int(1)

    def __init__(self, exercise: Exercise, dose: Dose | None = None, *, include: bool = True) -> None:
        self.exercise = exercise
        d = dose or exercise.default_dose
        #: Seconds given to each movement: kept from the routine; the builder's pace factor scales it.
        self.pace = d.pace
        super().__init__(include=include, reps=d.reps, hold=d.hold, rest=d.rest, sets=d.sets)

    @validate("reps", "hold", "rest", "sets")
    def _within_range(self, proposal: Mapping[str, Any]) -> int:
        field = proposal["trait"].name
        value = int(proposal["value"])
        rng = self.exercise.ranges.of(field)
        if not rng.contains(value):
            raise TraitError(
                f"{self.exercise.name}: {field} {value} is outside its allowed range, {rng.describe()}"
            )
        return value

    def range(self, field: str) -> Range:
        """The allowed range of dose field ``field``."""
        return self.exercise.ranges.of(field)

    def fixed(self, field: str) -> bool:
        """Whether the source allows only one value for ``field`` (so it cannot be adjusted)."""
        rng = self.range(field)
        return rng.min == rng.max

    @property
    def dose(self) -> Dose:
        """The dose as set."""
        return Dose(reps=self.reps, hold=self.hold, pace=self.pace, rest=self.rest, sets=self.sets)

    def set_dose(self, dose: Dose, *, include: bool = True) -> None:
        """Take ``dose`` (and whether the exercise is in) from a routine."""
        self.pace = dose.pace
        with self.hold_trait_notifications():
            self.include = include
            self.reps, self.hold, self.rest, self.sets = dose.reps, dose.hold, dose.rest, dose.sets


class RoutineModel(HasTraits):
    """The routine builder's state: choices in, routine, plan, duration and plot data out."""

    preset = Unicode(help="the preset last started from")
    title = Unicode()
    #: The file name (without .mp3 or .yaml) the person typed; "" while it follows the title.
    file_name = Unicode("")
    description = Unicode()
    rounds = Int(1)
    voice = Unicode("auto")
    pace = Float(1.0)
    chimes = Bool(True)
    countdown = Bool(True)
    #: Exercise ids in routine order; those not ticked follow, in the collection's order.
    order = Tuple()

    # Derived: recomputed on every change above or to an exercise's settings.
    routine = Instance(Routine)
    timeline = Instance(Timeline)
    plot = Instance(PlotData)
    duration_ms = Int(0)
    #: Why the routine cannot be rendered or saved as it stands ("" when it can), in plain words.
    problem = Unicode("")
    #: Which setting ``problem`` is about: "title", "file_name" or "exercises" ("" when none).
    problem_about = Unicode("")
    #: The name the files get (``<slug>.mp3``, ``<slug>.yaml``): ``file_name``, else from the title.
    slug = Unicode("")
    #: The length a render will have, when every cue is in the cue cache for the voice; else 0.
    exact_ms = Int(0)

    def __init__(
        self,
        collection: Collection | None = None,
        *,
        preset: str | None = None,
        voice: str | None = None,
        choose: VoiceChooser = choose_voice,
        lengths: CachedLengths | None = None,
    ) -> None:
        self.collection = collection or load_collection()
        self._choose = choose
        #: Cue lengths from the cue cache, for the exact length (the view tells it what "auto" picks).
        self.lengths = lengths or CachedLengths()
        self._presets: dict[str, Routine] = {}
        self._holding = 0
        #: Held by every build the builder makes (Render, and each live preview in its own
        #: thread): two builds never run at once, so none reads files another is writing.
        self.building = threading.Lock()
        self.exercises: dict[str, ExerciseSettings] = {
            ex.id: ExerciseSettings(ex) for ex in self.collection.exercises
        }
        super().__init__()
        for settings in self.exercises.values():
            settings.observe(self._exercise_changed, names=["include", *ADJUSTABLE])
        presets = self.presets
        if not presets:
            raise ContentError(
                "this collection has no preset routines to start from",
                where=Where(self.collection.routines_dir),
                fix="Add a routine file there, like routines/standard.yaml.",
            )
        with self.batch():  # everything is computed once, at the end
            self.voice = voice or default_voice()
            # "standard" unless asked; a collection without one starts from its first preset
            self.preset = preset or ("standard" if "standard" in presets else presets[0])
        _settle_heap()

    def reset(self) -> None:
        """Go back to the preset last started from, as it is in its file."""
        self.apply_routine(self.preset_routine(self.preset))

    # -- choices -------------------------------------------------------------------------------

    @property
    def presets(self) -> list[str]:
        """The presets one can start from."""
        return self.collection.presets()

    def preset_routine(self, name: str) -> Routine:
        """Preset ``name``, read from its file the first time only."""
        if name not in self._presets:
            self._presets[name] = load_routine(self.collection, name)
        return self._presets[name]

    @validate("preset")
    def _known_preset(self, proposal: Mapping[str, Any]) -> str:
        name = str(proposal["value"])
        if name not in self.presets:
            raise TraitError(f"there is no preset called '{name}'; presets: {', '.join(self.presets)}")
        return name

    @observe("preset")
    def _preset_chosen(self, change: Mapping[str, Any]) -> None:
        self.apply_routine(self.preset_routine(change["new"]))

    @validate("rounds")
    def _rounds_in_range(self, proposal: Mapping[str, Any]) -> int:
        lo, hi = ROUNDS_RANGE
        value = int(proposal["value"])
        if not lo <= value <= hi:
            raise TraitError(f"rounds must be from {lo} to {hi}, not {value}")
        return value

    @validate("pace")
    def _pace_in_range(self, proposal: Mapping[str, Any]) -> float:
        lo, hi = PACE_FACTOR_RANGE
        # sliders send binary fractions (1.1500000000000001); a routine file should say 1.15
        value = round(float(proposal["value"]), 2)
        if not lo <= value <= hi:
            raise TraitError(f"the pace factor must be from {lo:g} to {hi:g}, not {value:g}")
        return value

    @validate("voice")
    def _voice_name(self, proposal: Mapping[str, Any]) -> str:
        value = str(proposal["value"]).strip()
        if not re.fullmatch(r"[a-z]+", value):
            raise TraitError(f"'{value}' is not a voice name")
        return value

    @validate("order")
    def _order_complete(self, proposal: Mapping[str, Any]) -> tuple[str, ...]:
        order = tuple(proposal["value"])
        if sorted(order) != sorted(self.exercises):
            raise TraitError("the order must list every exercise of the collection once")
        return order

    def apply_routine(self, routine: Routine) -> None:
        """Take every setting from ``routine`` (a preset, or a routine file loaded with load_routine)."""
        in_routine = {item.exercise.id: item.dose for item in routine.items}
        with self.batch():
            for ex_id, settings in self.exercises.items():
                dose = in_routine.get(ex_id)
                if dose is not None:
                    settings.set_dose(dose)
                else:
                    settings.set_dose(settings.exercise.default_dose, include=False)
            rest = [ex_id for ex_id in self.exercises if ex_id not in in_routine]
            self.order = (*in_routine, *rest)
            self.title = routine.title
            self.file_name = ""  # the files are named after the title again
            self.description = routine.description or ""
            self.rounds = routine.rounds
            self.pace = routine.guidance.pace
            self.chimes = routine.guidance.chimes
            self.countdown = routine.guidance.countdown
            if routine.voice:
                self.voice = routine.voice

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Change several settings and recompute once, at the end."""
        self._holding += 1
        try:
            yield
        finally:
            self._holding -= 1
            if self._holding == 0:
                self._recompute()

    # -- derived -------------------------------------------------------------------------------

    @observe("title", "file_name", "rounds", "voice", "pace", "chimes", "countdown", "order")
    def _setting_changed(self, change: Mapping[str, Any]) -> None:
        if self._holding:
            return
        if change["name"] in ("pace", "chimes", "countdown"):
            self._mark_adjusted()
        self._recompute()

    def _exercise_changed(self, _change: Mapping[str, Any]) -> None:
        if self._holding:
            return
        self._mark_adjusted()
        self._recompute()

    def _mark_adjusted(self) -> None:
        """Once a dose, the selection or the guidance changes, the preset's words no longer fit.

        The title gains " (adjusted)" as on the command line (``build standard --set ...``), so
        the builder and the CLI plan the same routine for the same changes, and a track never
        passes itself off as the preset.
        """
        if not self.preset:
            return
        self.description = f"Adjusted from the '{self.preset}' preset."
        preset_title = self.preset_routine(self.preset).title
        if self.title == preset_title:
            self._holding += 1  # the caller recomputes once, with the new title
            try:
                self.title = f"{preset_title}{ADJUSTED}"
            finally:
                self._holding -= 1

    def _title(self) -> tuple[str, str]:
        """The title as a routine file will read it back, and the problem with it ("" if none)."""
        try:
            title = schema.TITLE.check(self.title)
        except ContentError as err:
            return "My routine", f"The title {err.problem}."
        if not slugify(title):
            return title, "The title needs a letter or a digit, to name the files after it."
        return title, ""

    def _file_name(self, title: str, title_ok: bool) -> tuple[str, str]:
        """The name the files get, and the problem with the one typed ("" if none).

        While the title cannot be used (emptied to type another), the name stays as it was.
        """
        typed = self.file_name.strip()
        if not typed:
            if not title_ok and self.slug:
                return self.slug, ""
            return slugify(title) or "routine", ""
        if slugify(typed) != typed:
            example = slugify(typed) or "my-routine"
            return example, (
                f"The file name '{typed}' is not a plain name: use lower-case letters, digits and "
                f"dashes, like '{example}'."
            )
        return typed, ""

    def remeasure(self) -> None:
        """Look again for the exact length (after a render has filled the cue cache)."""
        self._recompute()

    def _recompute(self) -> None:
        title, problem = self._title()
        about = "title" if problem else ""
        slug, name_problem = self._file_name(title, title_ok=not problem)
        if name_problem and not problem:
            problem, about = name_problem, "file_name"
        items = tuple(
            RoutineItem(s.exercise, s.dose)
            for s in (self.exercises[ex_id] for ex_id in self.order)
            if s.include
        )
        if not items:
            problem, about = "Tick at least one exercise.", "exercises"
        routine = Routine(
            slug=slug,
            title=title,
            description=self.description or None,
            items=items,
            rounds=self.rounds,
            guidance=Guidance(pace=self.pace, chimes=self.chimes, countdown=self.countdown),
            voice=None if self.voice == "auto" else self.voice,
            collection=self.collection,
        )
        timeline = plan(routine)
        exact = self.lengths.exact_timeline(routine, self.voice) if items else None
        with self.hold_trait_notifications():
            self.routine = routine
            self.timeline = timeline
            self.plot = plot_data(timeline)
            self.duration_ms = timeline.duration_ms
            self.slug = slug
            self.exact_ms = exact.duration_ms if exact is not None else 0
            self.problem_about = about
            self.problem = problem

    def fit_to(self, minutes: float) -> Fit:
        """Set the sliders so the routine lasts ``minutes`` (as ``--minutes`` does: ``timeline.fit``).

        A length out of reach is a UsageError naming the shortest and longest; nothing changes then.
        """
        fit = Fitter(self.checked_routine()).fit(minutes)
        with self.batch():  # one plan, at the end
            for item in fit.routine.items:
                self.exercises[item.exercise.id].set_dose(item.dose)
            self._mark_adjusted()
        return fit

    def cached_engine(self) -> str | None:
        """The engine that would speak the routine as it stands ("auto" resolved), when the routine
        can be rendered and every cue a build asks for is in the cue cache for it; else None.

        Then a build needs no voice at all: what a live preview waits for.
        """
        # exact_ms is known only when the exact timeline's every cue was found in the cache
        if self.problem or not self.exact_ms or self.routine is None or self.timeline is None:
            return None
        engine = self.lengths.engine(self.voice)
        if engine is None or not self.lengths.plan_cached(self.routine, self.voice, self.timeline):
            return None
        return engine

    def checked_routine(self) -> Routine:
        """The routine, or a UsageError saying in plain words why it cannot be rendered or saved."""
        if self.problem:
            raise UsageError(f"this routine cannot be used yet: {self.problem}", fix=self.problem)
        assert self.routine is not None  # computed in __init__
        return self.routine

    # -- effects -------------------------------------------------------------------------------

    def render(
        self,
        out_dir: Path | None = None,
        *,
        on_progress: ProgressCallback = no_progress,
        offline: bool = False,
    ) -> BuildResult:
        """Speak, master and write the routine into ``out_dir`` (``default_audio_dir()`` if None).

        ``on_progress(stage, done, total)`` hears how far the build has got (see
        :mod:`stretchcast.progress`). Errors are StretchcastErrors with a plain message (a voice
        that cannot speak, a folder that cannot be written).
        """
        routine = self.checked_routine()
        out_dir = out_dir or default_audio_dir()
        # The choice goes to the build as it was made, as on the command line: its voice keeps its
        # threads and timeout, and a voice "auto" picked still falls back if it fails mid-build.
        choice = self._choose(self.voice, offline=offline)
        with self.building:
            return build(
                routine,
                voice=choice,
                options=BuildOptions(out_dir=out_dir, name=routine.slug),
                on_progress=on_progress,
            )

    def save(self, folder: Path | None = None, *, replace: bool = False) -> Path:
        """Write the routine to ``folder/<slug>.yaml`` (``default_routines_dir()`` if None).

        An existing file is replaced only if ``replace`` is true; otherwise that is a UsageError
        and nothing is written.
        """
        routine = self.checked_routine()
        folder = folder or default_routines_dir()
        return save_routine(routine, folder / f"{routine.slug}.yaml", overwrite=replace)


__all__ = [
    "ADJUSTABLE",
    "AUDIO_DIR_ENV",
    "ROUTINES_DIR_ENV",
    "VOICE_ENV",
    "ExerciseSettings",
    "RoutineModel",
    "default_audio_dir",
    "default_routines_dir",
    "default_voice",
    "voice_override",
]
