"""The programme notebook's logic: plan weeks from one preset to another, plot them, build them.

:func:`plan_programme` and :func:`dose_series` are pure (tested without a kernel);
:func:`programme_figure` draws with matplotlib's object API; :class:`ProgrammeBuilder` is the view
(widgets for start, end and weeks, the plot, a table, and a Build button with a progress bar).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

import ipywidgets as widgets
from matplotlib.figure import Figure

from stretchcast.content import Collection, load_routine
from stretchcast.content.programme import (
    MAX_WEEKS,
    STEPS,
    Programme,
    Week,
    programme_of,
    programmes_dir,
    progression,
)
from stretchcast.errors import StretchcastError
from stretchcast.notebook.model import default_audio_dir, default_voice
from stretchcast.notebook.plots import EXERCISE_COLOURS, figure_png
from stretchcast.pipeline import BuildResult
from stretchcast.pipeline.programme import ProgrammeResult, build_programme, week_rows

_UNITS = {"reps": "reps", "hold": "hold (s)", "sets": "sets", "rest": "rest (s)", "pace": "pace (s)"}


def plan_programme(
    collection: Collection, start: str, end: str, weeks: int, *, sessions_per_week: int = 4
) -> Programme:
    """``weeks`` weeks from preset ``start`` to preset ``end``, one step per dose a week at most."""
    first, last = load_routine(collection, start), load_routine(collection, end)
    routines = progression(first, last, weeks)
    slug = f"{start}-to-{end}-{weeks}-weeks"
    return programme_of(
        f"{weeks} weeks from {start} to {end}",
        routines,
        sessions_per_week=sessions_per_week,
        path=programmes_dir(collection) / f"{slug}.yaml",
    )


@dataclass(frozen=True)
class Series:
    """One dose that changes over the programme: its label and its value in each week."""

    exercise: str
    field: str
    label: str
    values: tuple[float, ...]


def dose_series(programme: Programme) -> list[Series]:
    """Every dose that is not the same in every week, week by week (the fixed ones are left out)."""
    first = programme.weeks[0].routine.items
    out = []
    for k, item in enumerate(first):
        for field in STEPS:
            values = tuple(float(getattr(w.routine.items[k].dose, field)) for w in programme.weeks)
            if len(set(values)) > 1:
                label = f"{item.exercise.name}: {_UNITS[field]}"
                out.append(Series(item.exercise.id, field, label, values))
    return out


def minutes_per_week(programme: Programme) -> list[float]:
    """Each week's session length in minutes (planned: estimated speech)."""
    return [row.estimated_ms / 60000 for row in week_rows(programme)]


def programme_figure(programme: Programme) -> Figure:
    """Doses that change (steps, left) and minutes per session (bars, right), week by week."""
    weeks = [w.number for w in programme.weeks]
    fig = Figure(figsize=(8, 3.6), layout="constrained")
    ax = fig.add_subplot()
    minutes = minutes_per_week(programme)
    right = ax.twinx()
    right.bar(weeks, minutes, color="#d9d9d9", width=0.6, label="minutes per session", zorder=0)
    right.set_ylabel("minutes per session")
    right.set_ylim(0, max(minutes) * 1.25)
    ax.set_zorder(right.get_zorder() + 1)
    ax.patch.set_visible(False)
    ids = [item.exercise.id for item in programme.weeks[0].routine.items]
    markers = {"reps": "o", "hold": "s", "sets": "^", "rest": "v", "pace": "D"}
    series = dose_series(programme)
    for n, s in enumerate(series):
        colour = EXERCISE_COLOURS[ids.index(s.exercise) % len(EXERCISE_COLOURS)]
        # nudged sideways a little each, so two doses with the same values do not hide each other
        shift = (n - (len(series) - 1) / 2) * 0.08
        xs = [w + shift for w in weeks]
        ax.step(xs, s.values, where="post", color=colour, marker=markers[s.field], label=s.label)
    ax.set_xticks(weeks)
    ax.set_xlabel("week")
    ax.set_ylabel("dose")
    ax.set_title(f"{programme.title}: {programme.sessions_per_week} sessions a week")
    handles, labels = ax.get_legend_handles_labels()
    bars, bar_labels = right.get_legend_handles_labels()
    ax.legend(handles + bars, labels + bar_labels, loc="upper left", fontsize="small", frameon=False)
    return fig


def weeks_table(programme: Programme) -> str:
    """The weeks as an HTML table: week, minutes, what changes (all text escaped)."""
    rows = "".join(
        f"<tr><td>{row.number}</td><td>{row.estimated_ms / 60000:.1f}</td>"
        f"<td>{html.escape(row.changes)}</td></tr>"
        for row in week_rows(programme)
    )
    return (
        "<table><thead><tr><th>week</th><th>minutes</th><th>what changes</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )


class ProgrammeBuilder(widgets.VBox):  # type: ignore[misc]  # ipywidgets ships no type hints
    """Start, end and number of weeks; the plot and table follow; Build writes a track a week."""

    def __init__(
        self, collection: Collection, *, out_dir: Path | None = None, voice: str | None = None
    ) -> None:
        self.collection = collection
        self.out_dir = out_dir or default_audio_dir()
        self.voice = voice or default_voice()
        presets = collection.presets()
        self.start = widgets.Dropdown(options=presets, value=presets[0], description="From")
        self.end = widgets.Dropdown(options=presets, value=presets[-1], description="To")
        self.weeks = widgets.IntSlider(value=6, min=2, max=min(MAX_WEEKS, 16), description="Weeks")
        self.plot = widgets.Image(format="png")
        self.table = widgets.HTML()
        self.status = widgets.HTML()
        self.build_button = widgets.Button(description="Build the weeks", button_style="primary", icon="play")
        self.progress = widgets.IntProgress(value=0, min=0, max=1, description="Weeks built")
        self.programme: Programme | None = None
        self.result: ProgrammeResult | None = None
        for control in (self.start, self.end, self.weeks):
            control.observe(self._changed, names="value")
        self.build_button.on_click(self._build)
        super().__init__(
            [
                widgets.HBox([self.start, self.end, self.weeks]),
                self.plot,
                self.table,
                widgets.HBox([self.build_button, self.progress]),
                self.status,
            ]
        )
        self._changed()

    def _changed(self, _change: object = None) -> None:
        try:
            self.programme = plan_programme(
                self.collection, self.start.value, self.end.value, self.weeks.value
            )
        except StretchcastError as err:
            self.programme = None
            self.status.value = f"<b>Cannot plan that:</b> {html.escape(err.message)}"
            self.build_button.disabled = True
            return
        self.status.value = ""
        self.build_button.disabled = False
        self.plot.value = figure_png(programme_figure(self.programme))
        self.table.value = weeks_table(self.programme)

    def build(self) -> ProgrammeResult:
        """Build the planned programme's weeks (what the button does), advancing the progress bar."""
        programme = self.programme
        if programme is None:
            raise RuntimeError("nothing to build: the chosen weeks cannot be planned")
        self.progress.max, self.progress.value, self.progress.bar_style = len(programme.weeks), 0, ""

        def on_week(week: Week, result: BuildResult) -> None:
            self.progress.value = week.number
            self.status.value = f"Week {week.number}: {html.escape(str(result.mp3))}"

        self.result = build_programme(programme, out_dir=self.out_dir, voice=self.voice, on_week=on_week)
        self.progress.bar_style = "success"
        self.status.value = f"Built {len(programme.weeks)} weeks into {html.escape(str(self.result.folder))}"
        return self.result

    def _build(self, _button: widgets.Button) -> None:
        self.build_button.disabled = True
        try:
            self.build()
        except StretchcastError as err:
            self.progress.bar_style = "danger"
            self.status.value = f"<b>Build failed:</b> {html.escape(err.message)}"
        finally:
            self.build_button.disabled = False
