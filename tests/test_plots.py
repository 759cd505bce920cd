"""The timeline plot: its data says exactly what the timeline says, and the figure draws it."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest

from stretchcast.content import Routine
from stretchcast.notebook.plots import EXERCISE_COLOURS, FRAME_COLOUR, figure_png, plot_data, plot_timeline
from stretchcast.pipeline import plan, with_guidance


class TestPlotData:
    """plot_data merges the timeline into lanes and bands without losing or inventing time."""

    def test_lanes_cover_the_timeline(self, preset: Callable[[str], Routine]) -> None:
        """Speech, moving and chimes account for every event outside holds and rests, to the millisecond."""
        timeline = plan(preset("standard"))
        data = plot_data(timeline)
        speech = sum(e.duration_ms for e in timeline.events if e.kind == "speech")
        assert data.lane("speech").total_ms == speech
        moving = sum(
            e.duration_ms for e in timeline.events if e.kind == "silence" and e.role not in ("hold", "rest")
        )
        assert data.lane("move").total_ms == moving
        assert len(data.chimes) == sum(1 for e in timeline.events if e.kind == "tone")

    def test_holds_and_rests_are_whole(self, preset: Callable[[str], Routine]) -> None:
        """Each hold and rest is drawn whole, at its exact dose, even with a countdown said inside it."""
        timeline = plan(preset("standard"))
        data = plot_data(timeline)
        assert data.lane("hold").segments == tuple((h.start_ms, h.duration_ms) for h in timeline.holds)
        assert data.lane("rest").segments == tuple((r.start_ms, r.duration_ms) for r in timeline.rests)

    def test_touching_pieces_are_merged(self, preset: Callable[[str], Routine]) -> None:
        """No two pieces of a lane touch: touching ones become one, so the plot stays cheap to draw."""
        for lane in plot_data(plan(preset("full"))).lanes:
            ends = [start + length for start, length in lane.segments]
            starts = [start for start, _ in lane.segments]
            assert all(end < nxt for end, nxt in zip(ends, starts[1:], strict=False)), lane.key

    def test_one_band_per_chapter(self, preset: Callable[[str], Routine]) -> None:
        """A band per chapter; an exercise keeps its colour in every round; welcome and finish are grey."""
        routine = dataclasses.replace(preset("gentle"), rounds=2)
        timeline = plan(routine)
        data = plot_data(timeline)
        assert [b.title for b in data.bands] == [c.title for c in timeline.chapters]
        colours: dict[str | None, set[str]] = {}
        for band in data.bands:
            colours.setdefault(band.exercise, set()).add(band.colour)
        assert colours.pop(None) == {FRAME_COLOUR}
        assert all(len(c) == 1 for c in colours.values())
        assert {next(iter(c)) for c in colours.values()} == set(EXERCISE_COLOURS[:4])

    def test_no_chimes_no_ticks(self, preset: Callable[[str], Routine]) -> None:
        """With chimes off there are no chime ticks."""
        assert plot_data(plan(with_guidance(preset("standard"), chimes=False))).chimes == ()


class TestFigure:
    """plot_timeline draws a readable figure without pyplot."""

    def test_axes(self, preset: Callable[[str], Routine]) -> None:
        """Minutes along the bottom to the track's end; lanes and exercise strip labelled; names on bands."""
        timeline = plan(preset("standard"))
        fig = plot_timeline(timeline, subtitle="estimated")
        (ax,) = fig.axes
        assert ax.get_xlabel() == "minutes"
        assert ax.get_xlim() == pytest.approx((0, timeline.duration_ms / 60000))
        labels = [t.get_text() for t in ax.get_yticklabels()]
        assert labels == ["Moving, settling", "Rest", "Hold", "Speech", "Exercise"]
        names = {t.get_text() for t in ax.texts}
        assert {"Knee-to-chest stretch", "Knee sways", "Knee stirs", "Tall cobra"} <= names
        assert ax.get_title(loc="left").endswith("(estimated)")

    def test_text_is_not_mathematics(self, preset: Callable[[str], Routine]) -> None:
        """A title with dollar signs and underscores is drawn as written, not parsed as a formula."""
        routine = dataclasses.replace(preset("gentle"), title="Costs $5 and $x_2$ 50% off")
        fig = plot_timeline(plan(routine))
        assert fig.axes[0].get_title(loc="left").startswith("Costs $5 and $x_2$ 50% off")
        assert figure_png(fig).startswith(b"\x89PNG\r\n\x1a\n")

    def test_png(self, preset: Callable[[str], Routine]) -> None:
        """figure_png gives a PNG of the figure's size at the given resolution."""
        png = figure_png(plot_timeline(plan(preset("gentle")), width=10), dpi=50)
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        width = int.from_bytes(png[16:20], "big")
        assert width == 500
