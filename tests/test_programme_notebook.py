"""The programme notebook's logic, without a kernel: planning, the plot, and the builder's Build."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

from stretchcast.content import Collection
from stretchcast.notebook.plots import figure_png
from stretchcast.notebook.programme import (
    ProgrammeBuilder,
    dose_series,
    minutes_per_week,
    plan_programme,
    programme_figure,
)


def test_planned_weeks_plot_only_the_doses_that_move(collection: Collection) -> None:
    """Gentle to full plots the sways' reps and hold and the stirs' reps; the fixed doses are not lines."""
    programme = plan_programme(collection, "gentle", "full", 6)
    series = {(s.exercise, s.field): s.values for s in dose_series(programme)}
    assert set(series) == {("knee-sways", "reps"), ("knee-sways", "hold"), ("knee-stirs", "reps")}
    assert series[("knee-sways", "reps")][0] == 4 and series[("knee-sways", "reps")][-1] == 8
    minutes = minutes_per_week(programme)
    assert minutes == sorted(minutes) and len(minutes) == 6


def test_the_plot_renders_as_a_picture(collection: Collection) -> None:
    """The figure renders to a PNG with colour in it (lines and bars drawn, not a blank canvas)."""
    png = figure_png(programme_figure(plan_programme(collection, "gentle", "full", 8)))
    image = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    assert image.shape[1] > 500
    colourful = np.abs(image.astype(int) - image.mean(axis=2, keepdims=True)).max(axis=2) > 40
    assert colourful.sum() > 500


def test_the_builder_follows_its_widgets_and_refuses_too_few_weeks(
    collection: Collection, tmp_path: Path
) -> None:
    """Changing the weeks re-plans; three weeks from gentle to full cannot be planned and disables Build."""
    builder = ProgrammeBuilder(collection, out_dir=tmp_path, voice="fake")

    def weeks_planned() -> int | None:  # read afresh after each change
        return len(builder.programme.weeks) if builder.programme is not None else None

    builder.weeks.value = 8
    assert weeks_planned() == 8
    builder.weeks.value = 3
    assert weeks_planned() is None and builder.build_button.disabled
    assert "at least 5 weeks" in builder.status.value


def test_build_writes_a_track_a_week_and_fills_the_progress_bar(
    collection: Collection, tmp_path: Path
) -> None:
    """Build with the fake voice writes every week's MP3 and the programme manifest, the bar at its end."""
    builder = ProgrammeBuilder(collection, out_dir=tmp_path, voice="fake")
    builder.start.value, builder.end.value, builder.weeks.value = "standard", "full", 3
    result = builder.build()
    assert [r.mp3.name for r in result.weeks] == ["week-01.mp3", "week-02.mp3", "week-03.mp3"]
    assert all(r.mp3.stat().st_size > 10_000 for r in result.weeks)
    assert result.manifest.is_file()
    assert (builder.progress.value, builder.progress.max, builder.progress.bar_style) == (3, 3, "success")
