"""Progress from the log: sessions per week against the target, the rules of the suggestion, the plots, the form."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pytest
from matplotlib.patches import Rectangle
from PIL import Image

from stretchcast.cli.main import main
from stretchcast.content import Collection
from stretchcast.log.model import Session
from stretchcast.log.plots import plot_progress, save_figure
from stretchcast.log.progress import (
    SOURCE_CAUTIONS,
    SOURCE_MOVE,
    SOURCE_STEP_BACK,
    report,
    report_text,
    suggest,
)
from stretchcast.log.store import Log
from stretchcast.notebook.checkin import CheckinForm
from stretchcast.notebook.progress import suggestion_html

UTC = dt.timezone.utc
MONDAY = dt.datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


def s(n: int, week: int | None = 1, **changes: object) -> Session:
    """The n-th session (a day apart), in the programme's week ``week`` (None: no programme)."""
    values: dict[str, object] = {
        "id": f"s-{week}-{n:05d}",
        "at": MONDAY + dt.timedelta(days=n),
        "routine": f"week-{week:02d}" if week else "standard",
        "done": "full",
        "pain_before": 3,
        "pain_after": 2,
        "felt": "right",
        "programme": "six-weeks" if week else None,
        "week": week,
    }
    values.update(changes)
    return Session(**values)  # type: ignore[arg-type]


def test_a_good_week_moves_on(collection: Collection) -> None:
    """The target reached, all in full, none hard, pain never higher after: move to the next week."""
    got = suggest([s(n) for n in range(4)], target=4, cautions=collection.cautions, week=1, last_week=6)
    assert got.action == "move" and got.advice == "Move to week 2." and got.source == SOURCE_MOVE
    assert "4 sessions of 4" in got.reason


def test_the_last_week_keeps_going(collection: Collection) -> None:
    """A good last week of the programme says to keep that amount, not to move past the end."""
    got = suggest([s(n, 6) for n in range(4)], target=4, cautions=collection.cautions, week=6, last_week=6)
    assert got.action == "move" and "last week" in got.advice


@pytest.mark.parametrize(
    ("sessions", "reason"),
    [
        ([s(0), s(1)], "2 of the 4 sessions this week"),
        ([s(0), s(1), s(2), s(3, done="partial")], "1 done only in part"),
        ([s(0), s(1), s(2), s(3, felt="hard")], "1 felt hard"),
        ([s(0), s(1), s(2), s(3, pain_after=4)], "pain went up during 1"),
    ],
)
def test_not_yet_stays(collection: Collection, sessions: list[Session], reason: str) -> None:
    """Short of the target, a partial session, one hard or one that hurt more: stay, saying which."""
    got = suggest(sessions, target=4, cautions=collection.cautions, week=2, last_week=6)
    assert got.action == "stay"
    assert reason.capitalize() in got.reason or reason in got.reason


def test_a_flare_steps_back(collection: Collection) -> None:
    """Pain up during half the sessions (or half hard): go back a week, reduce rather than stop."""
    week = [s(0, 3), s(1, 3, pain_after=4), s(2, 3, pain_after=4), s(3, 3)]
    got = suggest(week, target=4, cautions=collection.cautions, week=3, last_week=6)
    assert got.action == "step-back" and got.advice.startswith("Go back to week 2")
    assert got.reason == "Pain went up during 2 of 4 sessions." and got.source == SOURCE_STEP_BACK
    hard = suggest([s(0, felt="hard")], target=4, cautions=collection.cautions)
    assert hard.action == "step-back" and hard.advice.startswith("Step back to a gentler routine")


@pytest.mark.parametrize(
    "flagged",
    [
        s(3, warnings=("spreading-pain",)),
        s(3, warnings=("numbness",)),
        s(3, warnings=("weakness",)),
        s(3, pain_after=5),
        s(3, pain_before=6, pain_after=5, felt="easy"),
    ],
)
def test_a_warning_sign_or_pain_of_5_stops(collection: Collection, flagged: Session) -> None:
    """Any warning sign, or pain after at 5/10 or more, gives the stop advice in the content's words, never a move."""
    good = [s(0), s(1), s(2)]
    got = suggest([*good, flagged], target=4, cautions=collection.cautions, week=1, last_week=6)
    assert got.action == "stop" and got.source == SOURCE_CAUTIONS
    stop = next(c for c in collection.cautions if c.startswith("Stop if"))
    assert got.advice.startswith(stop)
    if flagged.warnings in {("numbness",), ("weakness",)}:
        assert next(c for c in collection.cautions if "red flags" in c) in got.advice


def test_programme_report_counts_weeks(collection: Collection) -> None:
    """With a programme: sessions per programme week against its target, every week shown, the latest reviewed."""
    sessions = [s(n, 1) for n in range(4)] + [s(n + 7, 2) for n in range(2)]
    r = report(
        sessions,
        cautions=collection.cautions,
        programme="six-weeks",
        title="Six weeks",
        target=4,
        weeks_in_programme=6,
        started=MONDAY.date(),
        today=(MONDAY + dt.timedelta(days=9)).date(),
    )
    assert [(w.label, w.sessions, w.target) for w in r.weeks] == [
        ("week 1", 4, 4),
        ("week 2", 2, 4),
        ("week 3", 0, 4),
        ("week 4", 0, 4),
        ("week 5", 0, 4),
        ("week 6", 0, 4),
    ]
    assert r.reviewed == "week 2" and r.suggestion.action == "stay" and r.calendar_week == 2
    text = report_text(r)
    assert "week 2        2 of 4  ##.." in text and "By the day you started, this is week 2." in text
    assert "Source: " in text


def test_calendar_report_without_programme(collection: Collection) -> None:
    """Without a programme: calendar weeks from Monday, empty weeks included, against three a week."""
    sessions = [s(0, None), s(1, None), s(15, None)]
    r = report(sessions, cautions=collection.cautions)
    assert [(w.label, w.sessions) for w in r.weeks] == [
        ("2026-11-02", 2),
        ("2026-11-09", 0),
        ("2026-11-16", 1),
    ]
    assert r.target == 3 and r.reviewed == "the week of 2026-11-16"


def test_progress_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """stretchcast progress prints the weeks, the pain and the suggestion; --json as data; --plot a PNG."""
    db = tmp_path / "log.sqlite3"
    log = Log(db)
    log.add_many([s(n, 1) for n in range(4)] + [s(8, 2, warnings=("numbness",), pain_after=3)])
    png = tmp_path / "progress.png"
    assert main(["progress", "--programme", "six-weeks", "--db", str(db), "--plot", str(png)]) == 0
    out = capsys.readouterr().out
    assert "STOP: Stop if you feel sharp pain" in out and "WARNING: numbness" in out
    assert main(["progress", "--programme", "six-weeks", "--db", str(db), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["suggestion"]["action"] == "stop" and data["weeks"][0] == {
        "week": "week 1",
        "sessions": 4,
        "target": 4,
    }
    with Image.open(png) as drawn:
        image = np.asarray(drawn.convert("L"))
    assert image.shape[1] > 800 and image.std() > 10  # drawn, not blank
    assert main(["progress", "--programme", "no-such", "--db", str(db)]) == 2


def test_plot_and_card(collection: Collection, tmp_path: Path) -> None:
    """The figure has both panels with the data drawn; the card escapes text and shows the source."""
    sessions = [s(n, 1) for n in range(3)] + [s(4, 1, pain_after=6, note="<b>ouch</b>")]
    r = report(
        sessions,
        cautions=collection.cautions,
        programme="six-weeks",
        title="Six <weeks>",
        target=4,
        weeks_in_programme=6,
    )
    fig = plot_progress(r)
    weeks_ax, pain_ax = fig.axes[:2]
    assert [p.get_height() for p in weeks_ax.patches if isinstance(p, Rectangle)] == [4, 0, 0, 0, 0, 0]
    assert np.asarray(pain_ax.lines[1].get_ydata()).tolist() == [2, 2, 2, 6]
    card = suggestion_html(r)
    assert "Stop, and see a clinician" in card and "collection.yaml" in card
    with Image.open(save_figure(r, tmp_path / "p.png")) as image:
        assert image.size[0] > 800


def test_notebook_form_saves_through_the_same_checks(tmp_path: Path, collection: Collection) -> None:
    """The notebook's form records a session, a programme week included, and shows the stop advice when due."""
    log = Log(tmp_path / "log.sqlite3")
    form = CheckinForm(log, ["standard", "six-weeks week 2"], cautions=collection.cautions)
    form.pain_before.value, form.pain_after.value, form.felt.value = 3, 2, "easy"
    saved = form.save()
    assert saved is not None and saved.routine == "standard" and "Saved" in form.status.value
    form.routine.value = "six-weeks week 2"
    form.warnings["weakness"].value = True
    second = form.save()
    assert second is not None and (second.programme, second.week, second.routine) == (
        "six-weeks",
        2,
        "week-02",
    )
    assert "see a clinician" in form.status.value
    assert [x.id for x in log.sessions()] == [saved.id, second.id]
