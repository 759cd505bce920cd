"""What the notebooks use: the routine builder widget, and rendering several routines as tracks.

``RoutineBuilder()`` is the whole of notebooks/02: a preset to start from, per exercise a checkbox
and sliders bounded by the content's ranges, the voice and guidance, then the length and a timeline
plot that follow every change (planned, nothing spoken), a Render button with a progress bar, the
audio player, the chapters and download links, and Save, which writes a routine file that
``stretchcast build FILE`` builds identically.

The state and logic are in :class:`stretchcast.notebook.model.RoutineModel`; this module only lays out
widgets and connects them to it. Every callback reports its errors in the builder's output area in
plain words (a traceback too, for the unexpected ones): JupyterLab would otherwise swallow them.
"""

from __future__ import annotations

import contextlib
import json
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

import ipywidgets as widgets

from stretchcast import words
from stretchcast.content import PACE_FACTOR_RANGE, Collection, Exercise, Routine, load_routine
from stretchcast.errors import StretchcastError, UsageError
from stretchcast.handout import routine_sheet, write_handout
from stretchcast.notebook.cards import chapters_table, file_link, size_text, table
from stretchcast.notebook.figures import figure_html
from stretchcast.notebook.model import (
    ADJUSTABLE,
    ExerciseSettings,
    RoutineModel,
    default_audio_dir,
    default_routines_dir,
    default_voice,
    voice_override,
)
from stretchcast.notebook.plots import PlotData, figure_png, plot_timeline
from stretchcast.pipeline import BuildOptions, BuildResult, build
from stretchcast.voices import ENGINES, Choice, choose_voice

_SLIDER_LABELS = {"reps": "Reps", "hold": "Hold (s)", "rest": "Rest (s)", "sets": "Sets"}
_NARROW = {"description_width": "64px"}
_DOT = " \u00b7 "
_WIDE = {"description_width": "86px"}


def _voice_options(current: str) -> list[tuple[str, str]]:
    options = [("auto (the best that works here)", "auto"), *((name, name) for name in ENGINES)]
    if current not in {value for _, value in options}:
        options.append((current, current))  # e.g. "fake" under test, or a routine file's voice
    return options


@dataclass(frozen=True)
class ExerciseControls:
    """The widgets for one exercise: whether it is in, and a slider per adjustable dose field."""

    include: widgets.Checkbox
    sliders: Mapping[str, widgets.IntSlider]
    note: widgets.HTML
    box: widgets.VBox


@dataclass(frozen=True)
class Controls:
    """Every widget of the builder, by what it does (tests and power users drive them in code)."""

    preset: widgets.Dropdown
    start_over: widgets.Button
    title: widgets.Text
    rounds: widgets.IntSlider
    exercises: Mapping[str, ExerciseControls]
    voice: widgets.Dropdown
    pace: widgets.FloatSlider
    chimes: widgets.Checkbox
    countdown: widgets.Checkbox
    summary: widgets.HTML
    plot: widgets.Image
    render: widgets.Button
    progress: widgets.IntProgress
    status: widgets.HTML
    audio: widgets.Audio
    chapters: widgets.HTML
    downloads: widgets.Output
    folder: widgets.Text
    replace: widgets.Checkbox
    save: widgets.Button
    output: widgets.Output


class RoutineBuilder(widgets.VBox):  # type: ignore[misc]  # ipywidgets ships no type hints
    """Build a routine with widgets: adjust it, see its length and timeline, hear it, save it."""

    def __init__(
        self,
        model: RoutineModel | None = None,
        *,
        out_dir: Path | None = None,
        routines_dir: Path | None = None,
        **kwargs: Any,
    ) -> None:
        self.model = model or RoutineModel()
        self.out_dir = out_dir or default_audio_dir()
        self.controls = self._make_controls(routines_dir or default_routines_dir())
        self._last_plot: PlotData | None = None
        c = self.controls
        self._exercise_list = widgets.VBox([c.exercises[ex_id].box for ex_id in self.model.order])
        # the time you have: sets the sliders (stretchcast.fit, the same rule as --minutes)
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
                    "until you press <b>Render</b>. Every slider stays within what the exercise allows.</div>"
                ),
                widgets.HBox([c.preset, c.start_over, c.title], layout=_row()),
                widgets.HTML("<b>Exercises</b>"),
                widgets.HBox([self.target, self.fit_button], layout=_row(align="center")),
                self._exercise_list,
                self.figure,
                widgets.HTML("<b>Guidance</b>"),
                widgets.HBox([c.voice, c.pace, c.rounds], layout=_row()),
                widgets.HBox([c.chimes, c.countdown], layout=_row()),
                c.summary,
                c.plot,
                widgets.HBox([c.render, c.progress, c.status], layout=_row(align="center")),
                c.audio,
                c.chapters,
                c.downloads,
                widgets.HTML("<b>Save as a routine file</b>"),
                widgets.HBox([c.folder, c.replace, c.save], layout=_row(align="center")),
                c.output,
            ],
            **kwargs,
        )
        self._connect()
        self._refresh()

    # -- layout --------------------------------------------------------------------------------

    def _make_controls(self, routines_dir: Path) -> Controls:
        m = self.model
        lo, hi = PACE_FACTOR_RANGE
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
            rounds=widgets.IntSlider(
                value=m.rounds,
                min=1,
                max=10,
                description="Rounds",
                continuous_update=False,
                style=_NARROW,
                tooltip="How many times the whole routine is repeated",
            ),
            exercises={ex_id: self._exercise_controls(s) for ex_id, s in m.exercises.items()},
            voice=widgets.Dropdown(
                options=_voice_options(m.voice),
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
            output=widgets.Output(layout=widgets.Layout(margin="6px 0")),
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
        fixed = []
        for field in ADJUSTABLE:
            rng = settings.range(field)
            is_fixed = settings.fixed(field)
            sliders[field] = widgets.IntSlider(
                value=getattr(settings, field),
                min=int(rng.min),
                max=int(rng.max),
                description=_SLIDER_LABELS[field],
                disabled=is_fixed or not settings.include,
                continuous_update=False,
                style=_NARROW,
                layout=widgets.Layout(width="250px"),
            )
            if is_fixed and not (field == "hold" and rng.max == 0):
                unit = " s" if field in ("hold", "rest") else ""
                fixed.append(f"{field} {rng.min:g}{unit}")
        notes = []
        if fixed:
            notes.append(f"Fixed by the source: {', '.join(fixed)}.")
        if settings.range("hold").max == 0:
            notes.append("No holds: the movement is continuous.")
        reps_unit = f"Reps count {ex.reps_unit}." if ex.reps_unit != "times" else ""
        note = widgets.HTML(
            "<span style='color:var(--jp-content-font-color2,#5a5a5a);font-size:12.5px'>"
            + escape(" ".join([ex.summary, reps_unit, *notes]).strip())
            + "</span>"
        )
        box = widgets.VBox(
            [
                widgets.HBox([include, note], layout=widgets.Layout(align_items="center")),
                widgets.HBox(list(sliders.values()), layout=_row()),
            ],
            layout=widgets.Layout(border="1px solid #dddddd", padding="2px 8px", margin="2px 0"),
        )
        return ExerciseControls(include=include, sliders=sliders, note=note, box=box)

    # -- wiring --------------------------------------------------------------------------------

    def _connect(self) -> None:
        m, c = self.model, self.controls
        # before the links: a voice the dropdown does not offer yet (a routine file's) is added
        # to its options first, so that showing it cannot fail
        m.observe(self._voice_changed, names="voice")
        pairs: list[tuple[Any, str, widgets.Widget]] = [
            (m, "preset", c.preset),
            (m, "title", c.title),
            (m, "rounds", c.rounds),
            (m, "voice", c.voice),
            (m, "pace", c.pace),
            (m, "chimes", c.chimes),
            (m, "countdown", c.countdown),
        ]
        for ex_id, settings in m.exercises.items():
            ec = c.exercises[ex_id]
            pairs.append((settings, "include", ec.include))
            pairs += [(settings, field, ec.sliders[field]) for field in ADJUSTABLE]
            for widget in (ec.include, *ec.sliders.values()):
                widget.observe(lambda _c, ex=settings.exercise: self._show_figure(ex), names="value")
        for owner, name, widget in pairs:
            # model -> widget directly; widget -> model through a handler that reports errors,
            # because an exception in a widget's own link would be lost in the kernel's log
            widgets.dlink((owner, name), (widget, "value"))
            widget.observe(self._setter(owner, name), names="value")
        for settings in m.exercises.values():
            settings.observe(self._include_changed, names="include")
        m.observe(self._order_changed, names="order")
        m.observe(lambda _change: self._refresh(), names=["timeline", "problem"])
        c.start_over.on_click(self._start_over)
        self.fit_button.on_click(self._fit)
        c.render.on_click(self._render)
        c.save.on_click(self._save)

    def _show_figure(self, exercise: Exercise) -> None:
        self.figure_shown = exercise.id
        self.figure.value = f"<b>{escape(exercise.name)}</b>{figure_html(exercise, width=300)}"

    def _setter(self, owner: Any, name: str) -> Callable[[Mapping[str, Any]], None]:
        def set_value(change: Mapping[str, Any]) -> None:
            with self._reporting(f"changing {name}"):
                setattr(owner, name, change["new"])

        return set_value

    def _include_changed(self, change: Mapping[str, Any]) -> None:
        settings: ExerciseSettings = change["owner"]
        for field, slider in self.controls.exercises[settings.exercise.id].sliders.items():
            slider.disabled = settings.fixed(field) or not change["new"]

    def _voice_changed(self, change: Mapping[str, Any]) -> None:
        dropdown = self.controls.voice
        if change["new"] not in {value for _, value in dropdown.options}:
            dropdown.options = _voice_options(change["new"])
            dropdown.value = change["new"]

    def _order_changed(self, change: Mapping[str, Any]) -> None:
        self._exercise_list.children = [self.controls.exercises[ex_id].box for ex_id in change["new"]]

    def _refresh(self) -> None:
        """Show the length, the plot and whether the routine can be used, as the model has them now."""
        with self._reporting("updating the plan"):
            m, c = self.model, self.controls
            timeline = m.timeline
            assert timeline is not None
            n_exercises = len(m.routine.items) if m.routine else 0
            holds = len(timeline.holds)
            parts = [
                f"<span style='font-size:16px'><b>{words.clock(m.duration_ms)}</b></span> estimated",
                f"{n_exercises} exercise{'s' if n_exercises != 1 else ''}",
                f"{holds} hold{'s' if holds != 1 else ''}",
                f"{m.rounds} round{'s' if m.rounds != 1 else ''}",
                f"{len(timeline.texts())} cues to speak",
            ]
            problem = (
                f"<div style='color:#8a5a00;font-weight:bold'>{escape(m.problem)}</div>" if m.problem else ""
            )
            c.summary.value = (
                f"<div style='margin:8px 0 2px 0'>{_DOT.join(parts)}"
                "<span style='color:var(--jp-content-font-color2,#5a5a5a);font-size:12px'> "
                "(the voice sets the final length)</span></div>" + problem
            )
            c.render.disabled = bool(m.problem)
            c.save.disabled = bool(m.problem)
            if m.plot is not None and m.plot != self._last_plot:
                # drawing is the slow part (~0.1 s); skip it when only the voice or a title-free
                # setting changed and the picture would be the same
                c.plot.value = figure_png(plot_timeline(m.plot, subtitle="estimated"))
                self._last_plot = m.plot

    # -- actions -------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _reporting(self, doing: str) -> Iterator[None]:
        """Show any error raised inside in the output area: plain words, and a traceback for bugs."""
        try:
            yield
        except StretchcastError as err:
            self._tell(err.message, problem=True)
        except Exception as err:  # shown to the person instead of being lost in the kernel's log
            self._tell(
                f"Something went wrong while {doing}: {err}\n  This is a bug in stretchcast; "
                "the details below help to fix it.",
                problem=True,
                details=traceback.format_exc(),
            )

    def _tell(self, message: str, *, problem: bool = False, details: str | None = None) -> None:
        """Add ``message`` to the output area (as plain text too, for exports and tests)."""
        head, _, rest = message.partition("\n")
        colour = "#a4262c" if problem else "var(--jp-content-font-color1,#1f1f1f)"
        html = (
            f"<div style='color:{colour};margin:2px 0'><b>{escape(head)}</b>"
            + (f"<div style='margin-left:12px'>{escape(rest.strip())}</div>" if rest.strip() else "")
            + "</div>"
        )
        data = {"text/html": html, "text/plain": message}
        outputs: list[dict[str, Any]] = [{"output_type": "display_data", "data": data, "metadata": {}}]
        if details:
            outputs.append({"output_type": "stream", "name": "stderr", "text": details})
        self.controls.output.outputs = (*self.controls.output.outputs, *outputs)

    def _clear(self) -> None:
        self.controls.output.outputs = ()

    def _start_over(self, _button: widgets.Button) -> None:
        self._clear()
        with self._reporting("starting over"):
            self.model.reset()

    def _fit(self, _button: widgets.Button) -> None:
        self._clear()
        with self._reporting("fitting the length"):
            fit = self.model.fit_to(self.target.value)
            self._tell(f"Fitted to {self.target.value} minutes: {words.clock(fit.duration_ms)} estimated.")

    def _render(self, _button: widgets.Button) -> None:
        c = self.controls
        self._clear()
        c.render.disabled = True
        c.progress.value, c.progress.max, c.progress.bar_style = 0, 1, ""
        c.progress.layout.visibility = "visible"
        c.status.value = "Speaking the cues\u2026"
        done = False
        try:
            with self._reporting("rendering"):
                result = self.model.render(self.out_dir, on_progress=self._progress)
                self._show(result)
                done = True
        finally:
            c.render.disabled = bool(self.model.problem)
            if not done:
                c.progress.bar_style = "danger"
                c.status.value = "Not rendered: see the message below."

    def _progress(self, done: int, total: int) -> None:
        c = self.controls
        c.progress.max = max(total, 1)
        c.progress.value = done
        c.status.value = (
            f"Speaking cue {done} of {total}\u2026"
            if done < total
            else "Mixing, levelling and encoding\u2026"
        )

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
        c.chapters.value = "<b>Chapters</b>" + chapters_table(result.timeline)
        links = "".join(
            f"<li>{escape(label)}: {file_link(path)}</li>" for label, path in output_files(result.manifest)
        )
        html = f"<b>Files</b><ul style='margin:2px 0'>{links}</ul>"
        text = "\n".join(f"{label}: {path}" for label, path in output_files(result.manifest))
        c.downloads.outputs = (
            {"output_type": "display_data", "data": {"text/html": html, "text/plain": text}, "metadata": {}},
        )

    def _save(self, _button: widgets.Button) -> None:
        c = self.controls
        self._clear()
        with self._reporting("saving"):
            folder = c.folder.value.strip()
            if not folder:
                raise UsageError("there is no folder to save in", fix="Type a folder into 'Save in'.")
            path = self.model.save(Path(folder).expanduser(), replace=c.replace.value)
            self._tell(f"Saved {path}\n  Build it any time with: stretchcast build {path}")


def _row(*, align: str = "flex-start") -> widgets.Layout:
    return widgets.Layout(flex_flow="row wrap", align_items=align)


# -- the files of a track --------------------------------------------------------------------------

_EXTRA_FILES = (
    ("captions", "Captions (WebVTT)"),
    ("cover", "Cover (PNG)"),
    ("playlist", "Playlist (M3U8)"),
    ("split", "Track"),
)


def _names(value: object) -> Iterator[str]:
    """File names in a manifest entry: a name, {"file": name}, or a list of either."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        name = value.get("file")
        if isinstance(name, str):
            yield name
    elif isinstance(value, list):
        for item in value:
            yield from _names(item)


def output_files(manifest_path: Path) -> list[tuple[str, Path]]:
    """Every file a build wrote, read from its manifest: the MP3 and the manifest, and the captions,
    the playlist and the split tracks when the build made them. Only files that exist inside the
    manifest's folder are listed.
    """
    data = json.loads(manifest_path.read_text(encoding="utf-8"))
    folder = manifest_path.parent.resolve()
    found: list[tuple[str, Path]] = [("MP3", folder / data["audio"]["file"]), ("Manifest", manifest_path)]
    for key, label in _EXTRA_FILES:
        found += [(label, folder / name) for name in _names(data.get(key))]
    stem = Path(data["audio"]["file"]).stem  # the printed handout, when one sits beside the track
    found += [("Handout", folder / f"{stem}.pdf"), ("Handout (HTML)", folder / f"{stem}.html")]
    return [
        (label, path) for label, path in found if path.resolve().is_relative_to(folder) and path.is_file()
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
    "default_audio_dir",
    "default_routines_dir",
    "default_voice",
    "export_routines",
    "output_files",
    "routine_sources",
    "tracks_table",
    "voice_override",
]
