"""What the notebooks use: the routine builder widget, and rendering several routines as tracks.

``RoutineBuilder()`` is the whole of notebooks/02: a preset to start from, per exercise a checkbox
and sliders bounded by the content's ranges, the voice and guidance, then the length and a timeline
plot that follow every change (planned, nothing spoken), a Render button with a progress bar, the
audio player, the chapters and download links, and Save, which writes a routine file that
``stretchcast build FILE`` builds identically. Once every cue is cached, the player follows each
change by itself (*Live preview*, :mod:`stretchcast.notebook.live`).

The state and logic are in :class:`stretchcast.notebook.model.RoutineModel`; this module only lays out
widgets and connects them to it. Every callback reports its errors in the builder's output area in
plain words (a traceback too, for the unexpected ones): JupyterLab would otherwise swallow them.
"""

from __future__ import annotations

import contextlib
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

import ipywidgets as widgets
from traitlets import TraitError

from stretchcast.content import (
    ADJUSTED,
    PACE_FACTOR_RANGE,
    Collection,
    Exercise,
    Routine,
    load_routine,
    words,
)
from stretchcast.content.schema import dose_field
from stretchcast.errors import StretchcastError, UsageError
from stretchcast.handout import routine_sheet, write_handout
from stretchcast.notebook.cards import chapters_table, file_link, size_text, table
from stretchcast.notebook.figures import figure_html
from stretchcast.notebook.live import LivePreview, Preview, Schedule, thread_timer
from stretchcast.notebook.messages import SLOTS, builder_words, slot_for
from stretchcast.notebook.model import (
    ADJUSTABLE,
    ROUNDS_RANGE,
    ExerciseSettings,
    RoutineModel,
    default_audio_dir,
    default_routines_dir,
    default_voice,
    voice_override,
)
from stretchcast.notebook.plots import PlotData, figure_png, plot_timeline
from stretchcast.output.manifest import Manifest
from stretchcast.pipeline import BuildOptions, BuildResult, build
from stretchcast.progress import Stage
from stretchcast.voices import ENGINES, Choice, EngineStatus, choose_voice, engine_statuses

_NARROW = {"description_width": "64px"}
_DOT = " \u00b7 "
_WIDE = {"description_width": "86px"}
_GREY = "color:var(--jp-content-font-color2,#5a5a5a);font-size:12px"
_PROBLEM = "#a4262c"


def slider_range(settings: ExerciseSettings, field: str) -> tuple[int, int]:
    """The range a dose slider runs over: what the content allows for ``field`` (one place to read it)."""
    rng = settings.range(field)
    return int(rng.min), int(rng.max)


def _range_label(lo: float, hi: float, unit: str = "") -> widgets.HTML:
    """The range beside a slider, so what it allows is visible before it is moved."""
    text = f"{lo:g}{unit}" if lo == hi else f"{lo:g} to {hi:g}{unit}"
    return widgets.HTML(f"<span style='{_GREY}'>{escape(text)}</span>", layout=widgets.Layout(width="auto"))


def _voice_options(current: str, statuses: Sequence[EngineStatus] = ()) -> list[tuple[str, str]]:
    """The Voice list: each engine, marked unavailable with the reason where it cannot work here."""
    by_name = {s.name: s for s in statuses}
    working = [s.name for s in statuses if s.available]
    if not statuses:
        auto = "auto (the best that works here)"
    elif working:
        auto = f"auto (uses {working[0]} here)"
    else:
        auto = "auto (no voice works here)"
    options = [(auto, "auto")]
    for name in ENGINES:
        status = by_name.get(name)
        label = (
            name
            if status is None or status.available
            else f"{name}: unavailable ({builder_words(status.detail)})"
        )
        options.append((label, name))
    if current not in {value for _, value in options}:
        options.append((current, current))  # e.g. "fake" under test, or a routine file's voice
    return options


def voice_statuses(*, offline: bool = False) -> list[EngineStatus]:
    """Which engines work here. Google gets one short probe (two seconds at most), none if ``offline``."""
    return engine_statuses(offline=offline)


@dataclass(frozen=True)
class ExerciseControls:
    """The widgets for one exercise: whether it is in, a slider per adjustable dose field, its messages."""

    include: widgets.Checkbox
    sliders: Mapping[str, widgets.IntSlider]
    note: widgets.HTML
    message: widgets.Output
    box: widgets.VBox


@dataclass(frozen=True)
class Controls:
    """Every widget of the builder, by what it does (tests and power users drive them in code)."""

    preset: widgets.Dropdown
    start_over: widgets.Button
    title: widgets.Text
    file_name: widgets.Text
    naming: widgets.HTML
    rounds: widgets.IntSlider
    exercises: Mapping[str, ExerciseControls]
    voice: widgets.Dropdown
    pace: widgets.FloatSlider
    chimes: widgets.Checkbox
    countdown: widgets.Checkbox
    summary: widgets.HTML
    plot: widgets.Image
    render: widgets.Button
    #: "Live preview": the player follows each change by itself when every cue is cached.
    live: widgets.Checkbox
    progress: widgets.IntProgress
    status: widgets.HTML
    audio: widgets.Audio
    chapters: widgets.HTML
    downloads: widgets.Output
    folder: widgets.Text
    replace: widgets.Checkbox
    save: widgets.Button
    #: The message areas, each beside the controls it speaks about (see messages.SLOTS), and one
    #: per exercise ("exercise:<id>", inside that exercise's box).
    messages: Mapping[str, widgets.Output]


class RoutineBuilder(widgets.VBox):  # type: ignore[misc]  # ipywidgets ships no type hints
    """Build a routine with widgets: adjust it, see its length and timeline, hear it, save it."""

    def __init__(
        self,
        model: RoutineModel | None = None,
        *,
        out_dir: Path | None = None,
        routines_dir: Path | None = None,
        statuses: Sequence[EngineStatus] | None = None,
        offline: bool = False,
        schedule: Schedule = thread_timer,
        **kwargs: Any,
    ) -> None:
        self.model = model or RoutineModel()
        self.out_dir = out_dir or default_audio_dir()
        self.statuses = list(voice_statuses(offline=offline) if statuses is None else statuses)
        working = [s.name for s in self.statuses if s.available]
        self.model.lengths.auto_engine = working[0] if working else None
        self.model.remeasure()  # now that "auto" is known, the length may be exact
        self.controls = self._make_controls(routines_dir or default_routines_dir())
        self._last_plot: PlotData | None = None
        self._shown_problem: tuple[str, str] | None = None
        #: The message area beside the control changed last: where a failed live preview says why.
        self._changed_at = "render"
        #: Renders the routine by itself after each change when every cue is cached (notebook/live.py);
        #: ``schedule`` is its clock (tests give a fake one).
        self.live = LivePreview(
            self.model, schedule=schedule, on_preview=self._show_preview, on_failure=self._preview_failed
        )
        c = self.controls
        msg = c.messages
        self._exercise_list = widgets.VBox([c.exercises[ex_id].box for ex_id in self.model.order])
        # the time you have: sets the sliders (stretchcast.timeline.fit, the same rule as --minutes)
        self.target = widgets.BoundedIntText(
            value=10,
            min=1,
            max=600,
            description="Minutes",
            style=_NARROW,
            layout=widgets.Layout(width="160px"),
        )
        self.fit_button = widgets.Button(
            description="Fit to length",
            icon="clock-o",
            tooltip="Set the sliders so the track lasts this long",
        )
        self.figure = widgets.HTML()  # the figure of the exercise last adjusted (notebook/figures.py)
        self._show_figure(self.model.exercises[self.model.order[0]].exercise)
        super().__init__(
            children=[
                widgets.HTML(
                    "<h3 style='margin:4px 0'>Build a routine</h3>"
                    "<div style='margin-bottom:6px'>Start from a preset, then adjust it to how your back "
                    "feels today. The length and the timeline follow every change; nothing is spoken "
                    "until you press <b>Render</b>. Once every cue has been spoken, the player follows "
                    "your changes too (<i>Live preview</i>). Every slider stays within what the "
                    "exercise allows (its range is shown beside it).</div>"
                ),
                widgets.HBox([c.preset, c.start_over], layout=_row()),
                widgets.HBox([c.title, c.file_name, c.naming], layout=_row(align="center")),
                msg["title"],
                widgets.HTML("<b>Exercises</b>"),
                msg["exercises"],
                widgets.HBox([self.target, self.fit_button], layout=_row(align="center")),
                msg["fit"],
                self._exercise_list,
                self.figure,
                widgets.HTML("<b>Guidance</b>"),
                widgets.HBox(
                    [c.voice, c.pace, _range_label(*PACE_FACTOR_RANGE)], layout=_row(align="center")
                ),
                widgets.HBox([c.rounds, _range_label(*ROUNDS_RANGE)], layout=_row(align="center")),
                widgets.HBox([c.chimes, c.countdown], layout=_row()),
                msg["guidance"],
                c.summary,
                msg["plan"],
                c.plot,
                widgets.HBox([c.render, c.live, c.progress, c.status], layout=_row(align="center")),
                msg["render"],
                c.audio,
                c.chapters,
                c.downloads,
                widgets.HTML("<b>Save as a routine file</b>"),
                widgets.HBox([c.folder, c.replace, c.save], layout=_row(align="center")),
                msg["save"],
            ],
            **kwargs,
        )
        self._connect()
        self._refresh()
        self._voice_note()

    # -- layout --------------------------------------------------------------------------------

    def _make_controls(self, routines_dir: Path) -> Controls:
        m = self.model
        lo, hi = PACE_FACTOR_RANGE
        exercises = {ex_id: self._exercise_controls(s) for ex_id, s in m.exercises.items()}
        messages = {slot: _message_area() for slot in SLOTS}
        messages.update({f"exercise:{ex_id}": ec.message for ex_id, ec in exercises.items()})
        return Controls(
            preset=widgets.Dropdown(options=m.presets, value=m.preset, description="Start from", style=_WIDE),
            start_over=widgets.Button(
                description="Start over", icon="undo", tooltip="Back to the preset as it is in its file"
            ),
            title=widgets.Text(
                value=m.title,
                description="Title",
                style={"description_width": "40px"},
                layout=widgets.Layout(width="380px"),
            ),
            file_name=widgets.Text(
                value=m.slug,
                description="File name",
                continuous_update=False,
                tooltip="The MP3 and the routine file are named after this; it follows the title until you "
                "type your own",
                style={"description_width": "70px"},
                layout=widgets.Layout(width="300px"),
            ),
            naming=widgets.HTML(),
            rounds=widgets.IntSlider(
                value=m.rounds,
                min=ROUNDS_RANGE[0],
                max=ROUNDS_RANGE[1],
                description="Rounds",
                continuous_update=False,
                style=_NARROW,
                tooltip="How many times the whole routine is repeated",
            ),
            exercises=exercises,
            voice=widgets.Dropdown(
                options=_voice_options(m.voice, self.statuses),
                value=m.voice,
                description="Voice",
                style=_WIDE,
                layout=widgets.Layout(width="340px"),
            ),
            pace=widgets.FloatSlider(
                value=m.pace,
                min=lo,
                max=hi,
                step=0.05,
                description="Pace \u00d7",
                readout_format=".2f",
                continuous_update=False,
                style=_NARROW,
                tooltip="Stretches (above 1) or shortens (below 1) the time for each movement",
            ),
            chimes=widgets.Checkbox(value=m.chimes, description="Chime at each exercise", indent=False),
            countdown=widgets.Checkbox(
                value=m.countdown, description="Count down the last seconds of long holds", indent=False
            ),
            summary=widgets.HTML(),
            plot=widgets.Image(format="png", layout=widgets.Layout(width="100%", max_width="1056px")),
            render=widgets.Button(
                description="Render",
                icon="play",
                button_style="primary",
                tooltip="Speak the routine and write the MP3",
            ),
            live=widgets.Checkbox(
                value=True,
                description="Live preview",
                indent=False,
                tooltip="The player follows each change by itself, once every cue has been spoken "
                "(is in the cue cache): no voice is asked and nothing is written to your audio folder",
                layout=widgets.Layout(width="auto", margin="0 8px"),
            ),
            progress=widgets.IntProgress(
                value=0, min=0, max=1, layout=widgets.Layout(width="220px", visibility="hidden")
            ),
            status=widgets.HTML(),
            audio=widgets.Audio(
                format="mp3",
                autoplay=False,
                controls=True,
                layout=widgets.Layout(width="100%", display="none"),
            ),
            chapters=widgets.HTML(),
            # an output area, not an HTML widget: Jupyter resolves relative links in outputs to the
            # server's download URLs (relative to the notebook), and leaves an HTML widget's alone
            downloads=widgets.Output(),
            folder=widgets.Text(
                value=str(routines_dir),
                description="Save in",
                style={"description_width": "56px"},
                layout=widgets.Layout(width="460px"),
            ),
            replace=widgets.Checkbox(
                value=False,
                description="Replace if it exists",
                indent=False,
                layout=widgets.Layout(width="auto"),
            ),
            save=widgets.Button(description="Save", icon="save", tooltip="Write the routine as a YAML file"),
            messages=messages,
        )

    def _exercise_controls(self, settings: ExerciseSettings) -> ExerciseControls:
        ex = settings.exercise
        include = widgets.Checkbox(
            value=settings.include,
            description=ex.name,
            indent=False,
            style={"description_width": "0px"},
            layout=widgets.Layout(width="240px"),
        )
        sliders = {}
        cells = []
        fixed = []
        for field in ADJUSTABLE:
            lo, hi = slider_range(settings, field)
            is_fixed = settings.fixed(field)
            sliders[field] = widgets.IntSlider(
                value=getattr(settings, field),
                min=lo,
                max=hi,
                description=dose_field(field).label,
                disabled=is_fixed or not settings.include,
                continuous_update=False,
                style=_NARROW,
                layout=widgets.Layout(width="230px"),
            )
            unit = dose_field(field).spaced_unit
            cells.append(
                widgets.HBox(
                    [sliders[field], _range_label(lo, hi, unit)],
                    layout=widgets.Layout(align_items="center", margin="0 10px 0 0"),
                )
            )
            if is_fixed and not (field == "hold" and hi == 0):
                fixed.append(f"{field} {lo:g}{unit}")
        notes = []
        if fixed:
            notes.append(f"Fixed by the source: {', '.join(fixed)}.")
        if slider_range(settings, "hold")[1] == 0:
            notes.append("No holds: the movement is continuous.")
        reps_unit = f"Reps count {ex.reps_unit}." if ex.reps_unit != "times" else ""
        note = widgets.HTML(
            "<span style='color:var(--jp-content-font-color2,#5a5a5a);font-size:12.5px'>"
            + escape(" ".join([ex.summary, reps_unit, *notes]).strip())
            + "</span>"
        )
        message = _message_area()
        box = widgets.VBox(
            [
                widgets.HBox([include, note], layout=widgets.Layout(align_items="center")),
                widgets.HBox(cells, layout=_row()),
                message,
            ],
            layout=widgets.Layout(border="1px solid #dddddd", padding="2px 8px", margin="2px 0"),
        )
        return ExerciseControls(include=include, sliders=sliders, note=note, message=message, box=box)

    # -- wiring --------------------------------------------------------------------------------

    def _connect(self) -> None:
        m, c = self.model, self.controls
        # before the links: a voice the dropdown does not offer yet (a routine file's) is added
        # to its options first, so that showing it cannot fail
        m.observe(self._voice_changed, names="voice")
        pairs: list[tuple[Any, str, widgets.Widget, str]] = [
            (m, "preset", c.preset, "title"),
            (m, "title", c.title, "title"),
            (m, "rounds", c.rounds, "guidance"),
            (m, "voice", c.voice, "guidance"),
            (m, "pace", c.pace, "guidance"),
            (m, "chimes", c.chimes, "guidance"),
            (m, "countdown", c.countdown, "guidance"),
        ]
        for ex_id, settings in m.exercises.items():
            ec = c.exercises[ex_id]
            slot = f"exercise:{ex_id}"
            pairs.append((settings, "include", ec.include, slot))
            pairs += [(settings, field, ec.sliders[field], slot) for field in ADJUSTABLE]
            for widget in (ec.include, *ec.sliders.values()):
                widget.observe(lambda _c, ex=settings.exercise: self._show_figure(ex), names="value")
        for owner, name, widget, slot in pairs:
            # model -> widget directly; widget -> model through a handler that reports errors,
            # because an exception in a widget's own link would be lost in the kernel's log
            widgets.dlink((owner, name), (widget, "value"))
            widget.observe(self._setter(owner, name, slot), names="value")
        widgets.link((self.live, "enabled"), (c.live, "value"))
        self.live.observe(self._live_state, names=["state", "why"])
        widgets.dlink((m, "slug"), (c.file_name, "value"))
        c.file_name.observe(self._file_name_typed, names="value")
        for settings in m.exercises.values():
            settings.observe(self._include_changed, names="include")
        m.observe(self._order_changed, names="order")
        m.observe(lambda _change: self._refresh(), names=["timeline", "problem", "exact_ms", "slug"])
        c.start_over.on_click(self._start_over)
        self.fit_button.on_click(self._fit)
        c.render.on_click(self._render)
        c.save.on_click(self._save)

    def _show_figure(self, exercise: Exercise) -> None:
        self.figure_shown = exercise.id
        self.figure.value = f"<b>{escape(exercise.name)}</b>{figure_html(exercise, width=300)}"

    def _setter(self, owner: Any, name: str, slot: str) -> Callable[[Mapping[str, Any]], None]:
        def set_value(change: Mapping[str, Any]) -> None:
            self._changed_at = slot
            with self._reporting(f"changing {name}", slot):
                setattr(owner, name, change["new"])

        return set_value

    def _file_name_typed(self, change: Mapping[str, Any]) -> None:
        """A name typed into File name is kept; an emptied field follows the title again."""
        with self._reporting("changing the file name", "title"):
            typed = str(change["new"]).strip()
            if typed != self.model.slug:
                self.model.file_name = typed
            if self.controls.file_name.value != self.model.slug:
                self.controls.file_name.value = self.model.slug  # refilled from the title

    def _include_changed(self, change: Mapping[str, Any]) -> None:
        settings: ExerciseSettings = change["owner"]
        for field, slider in self.controls.exercises[settings.exercise.id].sliders.items():
            slider.disabled = settings.fixed(field) or not change["new"]

    def _voice_changed(self, change: Mapping[str, Any]) -> None:
        dropdown = self.controls.voice
        if change["new"] not in {value for _, value in dropdown.options}:
            dropdown.options = _voice_options(change["new"], self.statuses)
            dropdown.value = change["new"]
        self._voice_note()

    def _voice_note(self) -> None:
        """Beside the Voice list: why the chosen engine cannot work here, if it cannot."""
        status = next((s for s in self.statuses if s.name == self.model.voice), None)
        if status is not None and not status.available:
            self._tell(
                "guidance",
                f"The {status.name} voice cannot speak here: {status.detail.rstrip('.')}.\n"
                "  Choose another voice from the Voice list.",
                problem=True,
            )
        elif self._shown_message == "guidance":
            self._clear("guidance")

    def _order_changed(self, change: Mapping[str, Any]) -> None:
        self._exercise_list.children = [self.controls.exercises[ex_id].box for ex_id in change["new"]]

    def _refresh(self) -> None:
        """Show the length, the plot and whether the routine can be used, as the model has them now."""
        with self._reporting("updating the plan", "plan"):
            m, c = self.model, self.controls
            timeline = m.timeline
            assert timeline is not None
            n_exercises = len(m.routine.items) if m.routine else 0
            holds = len(timeline.holds)
            if m.exact_ms:
                length = (
                    f"<span style='font-size:16px'><b>{words.clock(m.exact_ms)}</b></span> exact "
                    f"<span style='{_GREY}'>(every cue is already spoken, in the cue cache)</span>"
                )
            else:
                length = (
                    f"<span style='font-size:16px'><b>{words.clock(m.duration_ms)}</b></span> estimated "
                    f"<span style='{_GREY}'>(the voice sets the final length when you render)</span>"
                )
            parts = [
                length,
                f"{n_exercises} exercise{'s' if n_exercises != 1 else ''}",
                f"{holds} hold{'s' if holds != 1 else ''}",
                f"{m.rounds} round{'s' if m.rounds != 1 else ''}",
                f"{len(timeline.texts())} cues to speak",
            ]
            c.summary.value = f"<div style='margin:8px 0 2px 0'>{_DOT.join(parts)}</div>"
            c.naming.value = self._naming_note()
            c.render.disabled = bool(m.problem)
            c.save.disabled = bool(m.problem)
            self._show_problem()
            if m.plot is not None and m.plot != self._last_plot:
                # drawing is the slow part (~0.1 s); skip it when only the voice or a title-free
                # setting changed and the picture would be the same
                c.plot.value = figure_png(plot_timeline(m.plot, subtitle="estimated"))
                self._last_plot = m.plot

    def _naming_note(self) -> str:
        m = self.model
        note = f"writes {m.slug}.mp3 and saves {m.slug}.yaml"
        if m.title.endswith(ADJUSTED) and not m.file_name:
            note += (
                "; \u201c(adjusted)\u201d says it differs from the preset: type a title or a file "
                "name of your own to name it"
            )
        return f"<span style='{_GREY}'>{escape(note)}</span>"

    def _show_problem(self) -> None:
        """The model's problem beside its control, replacing older messages; gone once it is fixed."""
        m = self.model
        wanted = (slot_for(m.problem_about), m.problem) if m.problem else None
        if wanted == self._shown_problem:
            return
        if self._shown_problem is not None and self._shown_message == self._shown_problem[0]:
            self._clear(self._shown_problem[0])
        self._shown_problem = wanted
        if wanted is not None:
            self._tell(wanted[0], wanted[1], problem=True)

    # -- messages ------------------------------------------------------------------------------

    _shown_message: str | None = None
    #: What the status line said when the player got its track (said again when it is current again).
    _player_says = ""
    #: Where the last live preview's failure is shown, until a preview succeeds.
    _preview_error_at: str | None = None

    @contextlib.contextmanager
    def _reporting(self, doing: str, slot: str) -> Iterator[None]:
        """Show any error raised inside beside its control: plain words, and a traceback for bugs."""
        try:
            yield
        except StretchcastError as err:
            self._tell(slot, err.message, problem=True)
        except TraitError as err:  # a value a control cannot take (the model says why)
            self._tell(slot, str(err), problem=True)
        except Exception as err:  # shown to the person instead of being lost in the kernel's log
            self._tell(
                slot,
                f"Something went wrong while {doing}: {err}\n  This is a bug in stretchcast; "
                "the details below help to fix it.",
                problem=True,
                details=traceback.format_exc(),
            )

    def _tell(self, slot: str, message: str, *, problem: bool = False, details: str | None = None) -> None:
        """Show ``message`` beside its control, in the builder's words, replacing every older message."""
        message = builder_words(message)
        head, _, rest = message.partition("\n")
        colour = _PROBLEM if problem else "var(--jp-content-font-color1,#1f1f1f)"
        html = (
            f"<div style='color:{colour};margin:2px 0'><b>{escape(head)}</b>"
            + (f"<div style='margin-left:12px'>{escape(rest.strip())}</div>" if rest.strip() else "")
            + "</div>"
        )
        data = {"text/html": html, "text/plain": message}
        outputs: list[dict[str, Any]] = [{"output_type": "display_data", "data": data, "metadata": {}}]
        if details:
            outputs.append({"output_type": "stream", "name": "stderr", "text": details})
        self._clear()
        self.controls.messages[slot].outputs = tuple(outputs)
        self._shown_message = slot

    def _clear(self, slot: str | None = None) -> None:
        """Remove the message in ``slot``, or every message."""
        for name, area in self.controls.messages.items():
            if slot is None or name == slot:
                area.outputs = ()
        if slot is None or slot == self._shown_message:
            self._shown_message = None

    def message(self) -> tuple[str, str] | None:
        """The message shown now, as (where, plain text), or None: there is at most one."""
        for name, area in self.controls.messages.items():
            if area.outputs:
                text = "\n".join(
                    out["data"]["text/plain"] if out["output_type"] == "display_data" else out["text"]
                    for out in area.outputs
                )
                return name, text
        return None

    # -- actions -------------------------------------------------------------------------------

    def _start_over(self, _button: widgets.Button) -> None:
        self._clear()
        self._shown_problem = None
        with self._reporting("starting over", "title"):
            self.model.reset()
        self._show_problem()
        self._voice_note()

    def _fit(self, _button: widgets.Button) -> None:
        self._clear()
        with self._reporting("fitting the length", "fit"):
            fit = self.model.fit_to(self.target.value)
            self._tell(
                "fit", f"Fitted to {self.target.value} minutes: {words.clock(fit.duration_ms)} estimated."
            )

    def _render(self, _button: widgets.Button) -> None:
        c = self.controls
        ticket = self.live.supersede()  # a preview on its way must not replace what Render makes
        self._clear()
        self._shown_problem = None
        c.render.disabled = True
        c.progress.value, c.progress.max, c.progress.bar_style = 0, 1, ""
        c.progress.layout.visibility = "visible"
        c.status.value = "Speaking the cues\u2026"
        done = False
        try:
            with self._reporting("rendering", "render"):
                result = self.model.render(self.out_dir, on_progress=WidgetProgress(c.progress, c.status))
                self._show(result)
                self.live.rendered(ticket)
                done = True
        finally:
            c.render.disabled = bool(self.model.problem)
            if not done:
                self._clear_result()
                self.live.cleared()
                c.progress.bar_style = "danger"
                c.progress.layout.visibility = "hidden"  # an empty red bar says nothing
                c.status.value = "<b style='color:#a4262c'>Not rendered.</b> Why, just below:"
        if done:
            with self._reporting("measuring the length", "plan"):
                self.model.remeasure()  # every cue is cached now: the length shown is the exact one

    def _clear_result(self) -> None:
        """Take the previous track off the screen: a failed render must not look like it played."""
        c = self.controls
        c.audio.value = b""
        c.audio.layout.display = "none"
        c.chapters.value = ""
        c.downloads.outputs = ()

    def _show(self, result: BuildResult) -> None:
        c = self.controls
        c.audio.value = result.mp3.read_bytes()
        c.audio.layout.display = None
        c.progress.value = c.progress.max
        c.progress.bar_style = "success"
        c.status.value = escape(
            f"Rendered {words.clock(result.timeline.duration_ms)} in {result.seconds:.1f} s, "
            f"{size_text(result.size_bytes)}. Voice: {result.voice} ({result.voice_reason})."
        )
        self._player_says = c.status.value
        c.chapters.value = "<b>Chapters</b>" + chapters_table(result.timeline)
        links = "".join(
            f"<li>{escape(label)}: {file_link(path)}</li>" for label, path in output_files(result.manifest)
        )
        html = f"<b>Files</b><ul style='margin:2px 0'>{links}</ul>"
        text = "\n".join(f"{label}: {path}" for label, path in output_files(result.manifest))
        c.downloads.outputs = (
            {"output_type": "display_data", "data": {"text/html": html, "text/plain": text}, "metadata": {}},
        )

    # -- live preview (notebook/live.py; these run in the preview's thread) ----------------------

    def _live_state(self, _change: Mapping[str, Any]) -> None:
        """Say beside Render what the player holds while the routine changes."""
        c = self.controls
        state = self.live.state
        if state == "updating":
            c.progress.layout.visibility = "hidden"
            c.status.value = f"<span style='{_GREY}'>Updating the player\u2026</span>"
        elif state == "current" and self._player_says:
            c.status.value = self._player_says  # changed back: the player has it after all
        elif state == "behind":
            c.progress.layout.visibility = "hidden"
            c.status.value = (
                "<b style='color:#8a5300'>The player has the routine from before your last change.</b> "
                + escape(self.live.why)
            )

    def _show_preview(self, preview: Preview) -> None:
        """A live preview of the routine as it is now: into the player, with its chapters."""
        c = self.controls
        result = preview.result
        c.audio.value = preview.audio
        c.audio.layout.display = None
        c.progress.layout.visibility = "hidden"
        c.status.value = escape(
            f"Live preview: {words.clock(result.timeline.duration_ms)}, made in {result.seconds:.1f} s "
            f"from the cue cache. Render writes it as {self.model.slug}.mp3."
        )
        self._player_says = c.status.value
        c.chapters.value = "<b>Chapters</b>" + chapters_table(result.timeline)
        note = (
            f"A live preview is not kept: press Render to write {self.model.slug}.mp3 and its files "
            f"into {self.out_dir}."
        )
        c.downloads.outputs = (
            {
                "output_type": "display_data",
                "data": {"text/html": f"<span style='{_GREY}'>{escape(note)}</span>", "text/plain": note},
                "metadata": {},
            },
        )
        if self._preview_error_at is not None and self._shown_message == self._preview_error_at:
            self._clear(self._preview_error_at)  # an older preview's failure no longer holds
        self._preview_error_at = None

    def _preview_failed(self, error: Exception) -> None:
        """A failed live preview takes the earlier track away and says why beside what was changed."""
        c = self.controls
        self._clear_result()
        c.progress.layout.visibility = "hidden"
        c.status.value = (
            "<b style='color:#a4262c'>The player was not updated.</b> Why, beside what you changed:"
        )
        self._preview_error_at = self._changed_at
        with self._reporting("updating the live preview", self._changed_at):
            raise error

    def _save(self, _button: widgets.Button) -> None:
        c = self.controls
        self._clear()
        self._shown_problem = None
        with self._reporting("saving", "save"):
            folder = c.folder.value.strip()
            if not folder:
                raise UsageError("there is no folder to save in", fix="Type a folder into 'Save in'.")
            path = self.model.save(Path(folder).expanduser(), replace=c.replace.value)
            self._tell("save", f"Saved {path}\n  Build it any time with: stretchcast build {path}")


def _message_area() -> widgets.Output:
    return widgets.Output(layout=widgets.Layout(margin="0 0 2px 0"))


class WidgetProgress:
    """A :class:`~stretchcast.progress.ProgressCallback` for the builder: moves a progress bar and
    says in a status line what the build is doing (the cues ready of all, then the mixing).
    """

    def __init__(self, bar: widgets.IntProgress, status: widgets.HTML) -> None:
        self.bar = bar
        self.status = status

    def __call__(self, stage: Stage, done: int, total: int) -> None:
        """Show ``done`` of ``total`` for ``stage``."""
        if stage == "speak":
            self.bar.max = max(total, 1)
            self.bar.value = done
            self.status.value = (
                f"Speaking the cues: {done} of {total} ready\u2026"
                if done < total
                else "Mixing, levelling and encoding\u2026"
            )
        else:
            self.bar.value = self.bar.max
            self.status.value = "Mixing, levelling and encoding\u2026" if done < total else "Written."


def _row(*, align: str = "flex-start") -> widgets.Layout:
    return widgets.Layout(flex_flow="row wrap", align_items=align)


# -- the files of a track --------------------------------------------------------------------------


def output_files(manifest_path: Path) -> list[tuple[str, Path]]:
    """Every file a build wrote, read from its manifest: the MP3 and the manifest, and the captions,
    the cover, the playlist and the split tracks when the build made them. Only files that exist
    inside the manifest's folder are listed.
    """
    m = Manifest.load(manifest_path)
    folder = manifest_path.parent.resolve()
    found: list[tuple[str, str | Path]] = [("MP3", m.audio.file), ("Manifest", manifest_path)]
    found += [("Captions (WebVTT)", m.captions), ("Cover (PNG)", m.cover.file)]
    if m.playlist is not None:
        found.append(("Playlist (M3U8)", m.playlist))
    found += [("Track", s.file) for s in m.split]
    stem = Path(m.audio.file).stem  # the printed handout, when one sits beside the track
    found += [("Handout", f"{stem}.pdf"), ("Handout (HTML)", f"{stem}.html")]
    paths = [(label, folder / name) for label, name in found]
    return [
        (label, path) for label, path in paths if path.resolve().is_relative_to(folder) and path.is_file()
    ]


# -- several routines at once (notebooks/03-export) ------------------------------------------------


@dataclass(frozen=True)
class RoutineSource:
    """A routine to render: a preset, or a file from your routines folder that may not load."""

    name: str
    path: Path
    routine: Routine | None
    error: str | None = None


def routine_sources(collection: Collection, folder: Path | None = None) -> list[RoutineSource]:
    """The presets, then every ``.yaml`` file in ``folder`` (``default_routines_dir()`` if None).

    A file that does not load is listed with its error instead of stopping the others.
    """
    folder = folder or default_routines_dir()
    sources = [
        RoutineSource(name, collection.routines_dir / f"{name}.yaml", load_routine(collection, name))
        for name in collection.presets()
    ]
    files = sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]) if folder.is_dir() else []
    for path in files:
        try:
            sources.append(RoutineSource(path.name, path, load_routine(collection, path)))
        except StretchcastError as err:
            sources.append(RoutineSource(path.name, path, None, err.message))
    return sources


@dataclass(frozen=True)
class ExportedTrack:
    """What rendering one routine gave: its files, length and size, or the error that stopped it."""

    name: str
    title: str
    files: tuple[tuple[str, Path], ...] = ()
    duration_ms: int = 0
    size_bytes: int = 0
    seconds: float = 0.0
    voice: str = ""
    error: str | None = None

    @property
    def mp3(self) -> Path | None:
        """The track's MP3, if it was made."""
        return next((path for label, path in self.files if label == "MP3"), None)


def export_routines(
    sources: Sequence[RoutineSource],
    options: BuildOptions | None = None,
    *,
    voice: str | None = None,
    offline: bool = False,
    report: Callable[[str], None] | None = print,
    handout: bool = False,
) -> list[ExportedTrack]:
    """Render each routine into ``options.out_dir`` (``default_audio_dir()`` unless given); one
    failure never stops the rest.

    ``voice`` None uses each routine's own voice, else "auto"; each voice is chosen once for all.
    ``report`` gets a line as each routine starts and ends (None for silence). ``handout`` also
    writes each routine's printed handout beside its track (listed with its files).
    """
    options = options or BuildOptions(out_dir=default_audio_dir())
    say = report or (lambda _line: None)
    choices: dict[str, Choice] = {}
    seen: dict[str, str] = {}
    tracks = []
    for source in sources:
        if source.routine is None:
            tracks.append(ExportedTrack(source.name, "", error=source.error))
            continue
        routine = source.routine
        slug = options.name or routine.slug
        if slug in seen:
            tracks.append(
                ExportedTrack(
                    source.name,
                    routine.title,
                    error=f"{source.path}: would write {slug}.mp3 over the track of {seen[slug]}\n"
                    "  Rename the file.",
                )
            )
            continue
        seen[slug] = source.name
        say(f"Rendering {source.name}: {routine.title}\u2026")
        try:
            name = voice or routine.voice or "auto"
            if name not in choices:
                choices[name] = choose_voice(name, offline=offline)
            result = build(routine, voice=choices[name], options=options)
            if handout:
                write_handout(
                    routine_sheet(routine, track=result.mp3.name), result.mp3.parent, name=result.mp3.stem
                )
        except StretchcastError as err:
            say(f"  {source.name} failed: {err.message}")
            tracks.append(ExportedTrack(source.name, routine.title, error=err.message))
            continue
        say(f"  done in {result.seconds:.1f} s: {result.mp3}")
        tracks.append(
            ExportedTrack(
                name=source.name,
                title=routine.title,
                files=tuple(output_files(result.manifest)),
                duration_ms=result.timeline.duration_ms,
                size_bytes=sum(path.stat().st_size for _, path in output_files(result.manifest)),
                seconds=result.seconds,
                voice=result.voice,
            )
        )
    return tracks


def tracks_table(tracks: Iterable[ExportedTrack]) -> str:
    """An HTML table of rendered tracks: length, size (all files), voice and links, or what went wrong."""
    rows = []
    for t in tracks:
        if t.error:
            what = f"<span style='color:#a4262c;white-space:pre-wrap'>{escape(t.error)}</span>"
            rows.append((escape(t.name), escape(t.title), "", "", what))
            continue
        links = "<br>".join(f"{escape(label)}: {file_link(path)}" for label, path in t.files)
        rows.append(
            (
                f"<code>{escape(t.name)}</code>",
                escape(t.title),
                words.clock(t.duration_ms),
                f"<span style='white-space:nowrap'>{size_text(t.size_bytes)}</span>",
                f"{links}<br><span style='font-size:12px'>voice: {escape(t.voice)}</span>",
            )
        )
    return table(("routine", "title", "length", "size", "files"), rows, raw=True)


__all__ = [
    "Controls",
    "ExerciseControls",
    "ExportedTrack",
    "RoutineBuilder",
    "RoutineModel",
    "RoutineSource",
    "WidgetProgress",
    "default_audio_dir",
    "default_routines_dir",
    "default_voice",
    "export_routines",
    "output_files",
    "routine_sources",
    "tracks_table",
    "voice_override",
]
