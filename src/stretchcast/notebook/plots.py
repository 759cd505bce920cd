"""The timeline as a picture: a coloured band per exercise over lanes for speech, holds, rests and moving.

:func:`plot_data` turns a :class:`~stretchcast.timeline.Timeline` into a few merged segments per lane
(pure and fast: the routine builder recomputes it on every slider change); :func:`plot_timeline` draws
them with matplotlib's object API (no pyplot, so nothing depends on a GUI backend or global state) and
:func:`figure_png` turns the figure into PNG bytes for an image widget.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from matplotlib.figure import Figure
from matplotlib.ticker import MultipleLocator

from stretchcast.content import words
from stretchcast.timeline import Event, Timeline

#: Lanes from top to bottom: what a listener hears (or does) at each moment.
LANES: tuple[tuple[str, str, str], ...] = (
    ("speech", "Speech", "#3d3d3d"),
    ("hold", "Hold", "#2a6fb0"),
    ("rest", "Rest", "#5c9e4a"),
    ("move", "Moving, settling", "#b5b5b5"),
)
CHIME_COLOUR = "#c08a00"
#: One colour per exercise (Okabe-Ito: told apart by people with the common colour-vision deficiencies).
EXERCISE_COLOURS = ("#E69F00", "#56B4E9", "#009E73", "#CC79A7", "#0072B2", "#D55E00", "#F0E442")
FRAME_COLOUR = "#d9d9d9"  # the welcome and the finish


@dataclass(frozen=True)
class Band:
    """A chapter of the track drawn as one coloured band: an exercise, the welcome or the finish."""

    title: str
    exercise: str | None
    start_ms: int
    end_ms: int
    colour: str


@dataclass(frozen=True)
class Lane:
    """One row of the plot: its label, colour and the (start_ms, length_ms) pieces of time in it."""

    key: str
    label: str
    colour: str
    segments: tuple[tuple[int, int], ...]

    @property
    def total_ms(self) -> int:
        """Time spent in this lane over the whole track."""
        return sum(length for _, length in self.segments)


@dataclass(frozen=True)
class PlotData:
    """Everything the timeline plot draws, already merged: cheap to compare, cheap to draw."""

    title: str
    duration_ms: int
    bands: tuple[Band, ...]
    lanes: tuple[Lane, ...]
    chimes: tuple[int, ...]

    def lane(self, key: str) -> Lane:
        """The lane called ``key`` ("speech", "hold", "rest" or "move")."""
        for lane in self.lanes:
            if lane.key == key:
                return lane
        raise KeyError(key)


def lane_of(event: Event) -> str | None:
    """The lane an event belongs to; chimes have none (they are drawn as ticks).

    Silence in a hold or rest belongs to the "hold" or "rest" lane, which :func:`plot_data` draws
    from the timeline's spans instead, so that each hold and rest shows whole.
    """
    if event.kind == "speech":
        return "speech"
    if event.kind == "tone":
        return None
    if event.role in ("hold", "rest"):
        return event.role
    return "move"  # movement time, gaps between sentences, getting into position


def plot_data(timeline: Timeline) -> PlotData:
    """The timeline's bands and lanes, with touching pieces of the same lane merged into one."""
    pieces: dict[str, list[list[int]]] = {key: [] for key, _, _ in LANES}
    chimes: list[int] = []

    def add(key: str, start: int, end: int) -> None:
        lane = pieces[key]
        if lane and lane[-1][1] == start:
            lane[-1][1] = end
        else:
            lane.append([start, end])

    for event in timeline.events:
        key = lane_of(event)
        if key is None:
            chimes.append(event.start_ms)
        elif key in ("speech", "move"):
            add(key, event.start_ms, event.end_ms)
    # Holds and rests are drawn from their spans, whole: a countdown or "Next: ..." said during one
    # shows in the speech lane too, and the hold still shows its full dose.
    for span in timeline.spans:
        add(span.kind, span.start_ms, span.end_ms)

    colours: dict[str, str] = {}
    bands = []
    for chapter in timeline.chapters:
        if chapter.exercise is None:
            colour = FRAME_COLOUR
        else:
            # the same exercise keeps its colour in every round
            colour = colours.setdefault(
                chapter.exercise, EXERCISE_COLOURS[len(colours) % len(EXERCISE_COLOURS)]
            )
        bands.append(Band(chapter.title, chapter.exercise, chapter.start_ms, chapter.end_ms, colour))
    return PlotData(
        title=timeline.title,
        duration_ms=timeline.duration_ms,
        bands=tuple(bands),
        lanes=tuple(
            Lane(key, label, colour, tuple((a, b - a) for a, b in pieces[key]))
            for key, label, colour in LANES
        ),
        chimes=tuple(chimes),
    )


def _fit(text: str, width_in: float, fontsize: float) -> str:
    """``text`` shortened with an ellipsis to fit ``width_in`` inches, or "" if nothing useful fits."""
    chars = int(width_in * 72 / (fontsize * 0.58))  # DejaVu Sans averages ~0.58 em per character
    if len(text) <= chars:
        return text
    return text[: chars - 1].rstrip() + "…" if chars >= 5 else ""


def plot_timeline(source: Timeline | PlotData, *, width: float = 11.0, subtitle: str | None = None) -> Figure:
    """The timeline as a figure: exercises as coloured bands on top, then one lane each for speech,
    holds, rests and moving, with minutes along the bottom.
    """
    data = source if isinstance(source, PlotData) else plot_data(source)
    to_min = 1 / 60000
    total = max(data.duration_ms * to_min, 1 / 60)
    height = 3.1
    fig = Figure(figsize=(width, height))
    # Fixed margins in inches (room for the lane labels, the title and the minutes): a layout
    # engine would find the same ones at more than twice the cost of drawing the plot.
    left, right, top, bottom = 1.25, 0.15, 0.35, 0.5
    fig.subplots_adjust(
        left=left / width, right=1 - right / width, top=1 - top / height, bottom=bottom / height
    )
    axes_width_in = width - left - right
    ax = fig.add_subplot()

    n = len(data.lanes)
    band_y = n  # the exercise strip sits above the lanes
    for band in data.bands:
        start, length = band.start_ms * to_min, (band.end_ms - band.start_ms) * to_min
        ax.axvspan(start, start + length, ymax=n / (n + 1), color=band.colour, alpha=0.13, lw=0)
        ax.broken_barh(
            [(start, length)], (band_y - 0.42, 0.84), facecolors=band.colour, edgecolor="white", lw=1
        )
        label = _fit(band.title, length / total * axes_width_in, 8.5)
        if label:
            ax.text(
                start + length / 2,
                band_y,
                label,
                ha="center",
                va="center",
                fontsize=8.5,
                color="#1a1a1a",
                parse_math=False,  # names and titles are text: "$5" must not start a formula
            )

    for i, lane in enumerate(data.lanes):
        y = n - 1 - i
        ax.broken_barh(
            [(a * to_min, b * to_min) for a, b in lane.segments],
            (y - 0.32, 0.64),
            facecolors=lane.colour,
            lw=0,
        )
    if data.chimes:
        speech_y = n - 1
        ax.vlines(
            [t * to_min for t in data.chimes],
            speech_y - 0.45,
            speech_y + 0.45,
            colors=CHIME_COLOUR,
            lw=1.6,
            label="chime",
        )

    ax.set_ylim(-0.6, n + 0.6)
    ax.set_yticks(range(n + 1), [*[lane.label for lane in reversed(data.lanes)], "Exercise"])
    ax.set_xlim(0, total)
    ax.xaxis.set_major_locator(MultipleLocator(1 if total <= 20 else 5 if total <= 90 else 10))
    ax.set_xlabel("minutes")
    ax.tick_params(axis="y", length=0)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    heading = f"{data.title}: {words.clock(data.duration_ms)}"
    ax.set_title(heading + (f"  ({subtitle})" if subtitle else ""), loc="left", fontsize=11, parse_math=False)
    return fig


def figure_png(fig: Figure, dpi: int = 96) -> bytes:
    """The figure as PNG bytes (for an image widget or a file)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, facecolor="white")
    return buffer.getvalue()


__all__ = ["Band", "Lane", "PlotData", "figure_png", "lane_of", "plot_data", "plot_timeline"]
