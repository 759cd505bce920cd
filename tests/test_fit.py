"""Routines fitted to the time you have: ``--minutes`` lands within 15 s, every dose in its range."""

from __future__ import annotations

import dataclasses
import math
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stretchcast.cli.main import main
from stretchcast.content import Collection, Routine, load_routine
from stretchcast.errors import UsageError
from stretchcast.timeline import compile_timeline
from stretchcast.timeline.fit import TOLERANCE_MS, Fitter, fit_minutes

from .conftest import FakeClock
from .test_properties import BASE, routines


def _check_in_range(original: Routine, fitted: Routine) -> None:
    assert [i.exercise.id for i in fitted.items] == [i.exercise.id for i in original.items]
    for before, after in zip(original.items, fitted.items, strict=True):
        for field in ("reps", "hold", "pace", "rest", "sets"):
            rng = after.exercise.ranges.of(field)
            value = getattr(after.dose, field)
            assert rng.min <= value <= rng.max, (after.exercise.id, field, value)
            if rng.min == rng.max:
                assert value == getattr(before.dose, field), (after.exercise.id, field)
    assert (fitted.rounds, fitted.guidance) == (original.rounds, original.guidance)


@settings(max_examples=5, deadline=None)
@given(routines(max_rounds=1).filter(lambda r: len(r.items) >= 2), st.sampled_from([0.8, 1.0, 1.5]))
def test_every_whole_minute_in_reach_lands_within_15_seconds(routine: Routine, pace: float) -> None:
    """For every whole minute between the shortest and longest a routine of two or more exercises can be, the plan lands within 15 s of it with every dose in range."""
    routine = dataclasses.replace(routine, guidance=dataclasses.replace(routine.guidance, pace=pace))
    fitter = Fitter(routine)
    first, last = math.ceil(fitter.shortest_ms / 60_000), math.floor(fitter.longest_ms / 60_000)
    assert last >= first
    for minutes in range(first, last + 1):
        fit = fitter.fit(minutes)
        planned = compile_timeline(fit.routine).duration_ms
        assert planned == fit.duration_ms
        assert abs(planned - minutes * 60_000) <= TOLERANCE_MS, (minutes, planned)
        _check_in_range(routine, fit.routine)


def test_the_changes_are_spread_evenly_across_exercises() -> None:
    """Every open dose sits at about the same fraction of its range: no exercise takes all the change."""
    fit = fit_minutes(BASE, 15)
    fractions = []
    for item in fit.routine.items:
        for field in ("reps", "hold", "sets"):
            rng = item.exercise.ranges.of(field)
            if rng.min < rng.max:
                fractions.append((getattr(item.dose, field) - rng.min) / (rng.max - rng.min))
    assert fractions
    assert max(fractions) - min(fractions) <= 0.5  # within one step of each other (sets: 1 step = 0.5)


def test_a_length_out_of_reach_names_the_shortest_and_longest(capsys: pytest.CaptureFixture[str]) -> None:
    """A length the routine cannot reach exits 2 and says the shortest and longest it can be."""
    fitter = Fitter(BASE)
    with pytest.raises(UsageError) as caught:
        fitter.fit(2)
    shortest = f"{fitter.shortest_ms // 60_000}:{fitter.shortest_ms // 1000 % 60:02d}"
    longest = f"{fitter.longest_ms // 60_000}:{fitter.longest_ms // 1000 % 60:02d}"
    assert shortest in str(caught.value.fix) and longest in str(caught.value.fix)
    assert main(["plan", "standard", "--minutes", "300"]) == 2
    err = capsys.readouterr().err
    assert "cannot be made that long" in err and shortest in err and longest in err


def test_plan_new_and_build_take_minutes(capsys: pytest.CaptureFixture[str], tmp_path: object) -> None:
    """``plan --minutes 12`` shows a routine about twelve minutes long; ``new --minutes`` keeps those doses."""
    assert main(["plan", "standard", "--minutes", "12"]) == 0
    out = capsys.readouterr().out
    total = out.strip().splitlines()[-1]
    assert "Total 11:" in total or "Total 12:" in total
    path = f"{tmp_path}/ten.yaml"
    assert main(["new", path, "--from", "standard", "--minutes", "10"]) == 0
    capsys.readouterr()
    assert main(["plan", path]) == 0
    total = capsys.readouterr().out.strip().splitlines()[-1]
    assert "Total 9:" in total or "Total 10:" in total


def test_minutes_with_set_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    """``--minutes`` and ``--set`` both choose doses, so together they are a mistake (exit 2)."""
    assert main(["plan", "standard", "--minutes", "12", "--set", "knee-sways.reps=5"]) == 2
    assert "--minutes and --set" in capsys.readouterr().err


def test_a_length_between_two_sets_names_the_nearest_it_can_be(capsys: pytest.CaptureFixture[str]) -> None:
    """One exercise whose reps and holds are fixed, moving fast, cannot fill every minute: exit 2 says the nearest."""
    knee = BASE.items[0]
    assert knee.exercise.id == "knee-to-chest"
    fast = dataclasses.replace(BASE, items=(knee,), guidance=dataclasses.replace(BASE.guidance, pace=0.5))
    with pytest.raises(UsageError) as caught:
        Fitter(fast).fit(4)
    said = re.search(r"can be (\d+):(\d\d) but not within 15 s", str(caught.value))
    assert said is not None, caught.value
    assert abs(int(said[1]) * 60 + int(said[2]) - 240) > 15  # the nearest it can be, and truly not 4:00


def test_the_builder_target_length_sets_the_sliders(collection: Collection, tmp_path: Path) -> None:
    """The builder's Minutes box and Fit button set the sliders to the doses ``--minutes`` solves, within 15 s."""
    from stretchcast.notebook.model import RoutineModel
    from stretchcast.notebook.view import RoutineBuilder

    builder = RoutineBuilder(
        RoutineModel(collection, voice="fake"),
        out_dir=tmp_path,
        routines_dir=tmp_path,
        schedule=FakeClock().schedule,  # no live preview rendering behind the test's back
    )
    builder.target.value = 14
    builder.fit_button.click()
    assert abs(builder.model.duration_ms - 14 * 60_000) <= TOLERANCE_MS
    expected = fit_minutes(load_routine(collection, "standard"), 14).routine
    for item in expected.items:
        sliders = builder.controls.exercises[item.exercise.id].sliders
        for field, slider in sliders.items():
            assert slider.value == getattr(item.dose, field), (item.exercise.id, field)
    before = builder.model.duration_ms
    builder.target.value = 2
    builder.fit_button.click()
    shown = builder.message()
    assert shown is not None and shown[0] == "fit"  # beside the Fit to length button
    assert "cannot be made that short" in shown[1]
    assert builder.model.duration_ms == before  # nothing changed
