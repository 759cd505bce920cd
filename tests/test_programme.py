"""Programmes: weeks that progress within what the source allows, and the bad files refused."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
import urllib.request
from collections.abc import Callable
from pathlib import Path

import feedparser
import pytest

from stretchcast.cli import main
from stretchcast.content import Collection, Routine, load_routine
from stretchcast.content.programme import (
    STEPS,
    changes_between,
    load_programme,
    programme_names,
    programme_of,
    progression,
    steps_of,
)
from stretchcast.errors import ContentError, OutputError
from stretchcast.pipeline import plan
from stretchcast.pipeline.programme import build_programme
from stretchcast.serve.server import start_background
from stretchcast.testing import FakeVoice

from .conftest import decode, write

SHIPPED = "six-weeks"


def test_a_programme_is_shipped(collection: Collection) -> None:
    """The collection ships the six-week programme."""
    assert SHIPPED in programme_names(collection)
    assert len(load_programme(collection, SHIPPED).weeks) == 6


@pytest.mark.parametrize("week", range(1, 7))
def test_every_shipped_week_stays_within_the_source_ranges(collection: Collection, week: int) -> None:
    """Each week's every dose is within its exercise's range, and the fixed doses stay as the source says."""
    routine = load_programme(collection, SHIPPED).weeks[week - 1].routine
    for item in routine.items:
        for field in ("reps", "hold", "rest", "sets", "pace"):
            assert item.exercise.ranges.of(field).contains(getattr(item.dose, field)), (
                item.exercise.id,
                field,
            )
    doses = {item.exercise.id: item.dose for item in routine.items}
    assert (doses["knee-to-chest"].reps, doses["knee-to-chest"].hold) == (8, 2)
    assert (doses["tall-cobra"].reps, doses["tall-cobra"].hold) == (3, 10)


def test_shipped_weeks_change_no_dose_by_more_than_one_step(collection: Collection) -> None:
    """From one week to the next, every dose moves at most one step, up or down."""
    weeks = load_programme(collection, SHIPPED).weeks
    for before, after in itertools.pairwise(weeks):
        for change in changes_between(before.routine, after.routine):
            assert abs(steps_of(change)) <= 1, (after.number, change)


def test_shipped_programme_runs_from_gentle_to_full(collection: Collection) -> None:
    """Week 1 is the gentle preset's doses and week 6 the full preset's."""
    weeks = load_programme(collection, SHIPPED).weeks

    def doses(routine_items: object) -> list[object]:
        return [(i.exercise.id, i.dose) for i in routine_items]  # type: ignore[attr-defined]

    assert doses(weeks[0].routine.items) == doses(load_routine(collection, "gentle").items)
    assert doses(weeks[-1].routine.items) == doses(load_routine(collection, "full").items)


def test_week_welcome_says_which_week_and_what_changed(collection: Collection) -> None:
    """Each week's notes name the week and, after the first, each changed dose in words."""
    weeks = load_programme(collection, SHIPPED).weeks
    assert weeks[1].routine.notes[0] == "This is week two of six."
    assert (
        weeks[1].routine.notes[1]
        == "This week: knee sways, five to each side; knee stirs, five each way, each leg."
    )
    assert "stop, and see a clinician" in weeks[1].routine.notes[2]


@pytest.mark.parametrize("n", [5, 6, 8, 12])
def test_progression_steps_evenly_and_arrives(collection: Collection, n: int) -> None:
    """A generated progression ends at the target, moves each dose one step at most, and changes something every week when it can."""
    gentle, full = load_routine(collection, "gentle"), load_routine(collection, "full")
    weeks = progression(gentle, full, n)
    assert [i.dose for i in weeks[-1].items] == [i.dose for i in full.items]
    counts = []
    for before, after in itertools.pairwise(weeks):
        changes = changes_between(before, after)
        assert all(abs(steps_of(c)) <= 1 for c in changes)
        counts.append(len(changes))
    total = sum(counts)
    assert max(counts) - min(counts) <= 1 + (total % (n - 1) != 0)  # even spread across the weeks
    assert counts[0] <= counts[-1]  # the lighter weeks first


def test_progression_refuses_too_few_weeks(collection: Collection) -> None:
    """Gentle to full needs four steps of the reps, so three weeks is refused with the minimum."""
    with pytest.raises(Exception, match="at least 5 weeks"):
        progression(load_routine(collection, "gentle"), load_routine(collection, "full"), 3)


_HEAD = "title: Test\nsessions_per_week: 3\nweeks:\n"


@pytest.mark.parametrize(
    ("body", "line", "field", "words"),
    [
        (
            "  - week: 1\n    preset: gentle\n    adjust:\n      knee-sways: {reps: 9}\n",
            4,
            "weeks[0].adjust.knee-sways.reps",
            "outside its allowed range",
        ),
        (
            "  - week: 1\n    preset: gentle\n  - week: 3\n    preset: gentle\n",
            3,
            "weeks[1].week",
            "week 2 is missing",
        ),
        ("  - week: 1\n    preset: gentel\n", 2, "weeks[0].preset", "no preset called 'gentel'"),
        (
            "  - week: 1\n    preset: gentle\n  - week: 2\n    preset: gentle\n    adjust:\n"
            "      knee-sways: {reps: 6}\n",
            6,
            "weeks[1].adjust.knee-sways.reps",
            "more than one step",
        ),
        (
            "  - week: 1\n    title: Mine\n    exercises:\n      - id: tall-cobra\n        hold: 20\n",
            5,
            "weeks[0].exercises[0].hold",
            "outside its allowed range",
        ),
    ],
    ids=[
        "week-out-of-range",
        "week-missing",
        "unknown-preset",
        "two-steps-in-a-week",
        "inline-week-out-of-range",
    ],
)
def test_bad_programmes_name_file_line_and_field(
    tmp_path: Path, collection: Collection, body: str, line: int, field: str, words: str
) -> None:
    """A dose out of range, a missing week, an unknown preset or a jump of two steps names where it is."""
    path = write(tmp_path, "bad.yaml", _HEAD + body)
    with pytest.raises(ContentError) as err:
        load_programme(collection, path)
    where = err.value.where
    assert where is not None
    assert (Path(str(where.path)), where.line, where.field) == (path, line + _HEAD.count("\n"), field)
    assert words in err.value.message


def test_a_week_written_out_as_a_routine_loads(tmp_path: Path, collection: Collection) -> None:
    """A week may be a routine in the routine-file form, checked like one."""
    path = write(
        tmp_path,
        "mine.yaml",
        _HEAD + "  - week: 1\n    title: Mine\n    exercises:\n      - id: knee-sways\n        reps: 5\n",
    )
    week = load_programme(collection, path).weeks[0]
    assert [(i.exercise.id, i.dose.reps) for i in week.routine.items] == [("knee-sways", 5)]
    assert STEPS["reps"] == 1


# -- the command line --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped programme built once with the fake voice, in one command."""
    out = tmp_path_factory.mktemp("programme-out")
    assert main(["programme", "build", SHIPPED, "--voice", "fake", "-o", str(out), "-q"]) == 0
    return out


def test_one_command_builds_a_track_per_week_with_its_manifest(built: Path) -> None:
    """`programme build` writes week-01.mp3 ... week-06.mp3, each decoding to its manifest's length, and programme.json naming them."""
    folder = built / SHIPPED
    data = json.loads((folder / "programme.json").read_text())
    assert [w["file"] for w in data["weeks"]] == [f"week-{n:02d}.mp3" for n in range(1, 7)]
    for entry in data["weeks"]:
        manifest = json.loads((folder / entry["manifest"]).read_text())
        decoded = decode(folder / entry["file"])
        assert abs(decoded.duration_ms - manifest["duration_ms"]) < 30
        assert (
            len(decoded.samples) == manifest["audio"]["samples"] and manifest["audio"]["encoder"] == "frames"
        )
        assert (folder / manifest["captions"]).is_file() and (folder / manifest["cover"]["file"]).is_file()
    assert data["sessions_per_week"] == 4


def test_each_week_says_which_week_and_what_changed(built: Path) -> None:
    """Week 4's welcome and captions say it is week four and name the doses that went up."""
    folder = built / SHIPPED
    manifest = json.loads((folder / "week-04.json").read_text())
    welcome = [e["text"] for e in manifest["events"] if e["role"] == "welcome"]
    assert "This is week four of six." in welcome
    assert "This week: knee sways, seven to each side; knee stirs, six each way, each leg." in welcome
    assert "This is week four of six." in (folder / "week-04.vtt").read_text()


def test_routine_tracks_say_nothing_of_weeks(preset: Callable[[str], Routine]) -> None:
    """A routine's timeline is the same with no notes as before programmes existed: no week sentence in it."""
    timeline = plan(preset("standard"))
    assert not any("week" in (e.text or "").lower() for e in timeline.events)


def test_start_records_the_date_atomically(built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`programme start --on DATE` writes start.json with that date, and a bad date exits 2 leaving it as it was."""
    assert main(["programme", "start", SHIPPED, "--on", "2026-11-20", "-o", str(built)]) == 0
    state = built / SHIPPED / "start.json"
    assert json.loads(state.read_text()) == {"programme": SHIPPED, "started": "2026-11-20"}
    assert main(["programme", "start", SHIPPED, "--on", "20/11/2026", "-o", str(built)]) == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err
    assert json.loads(state.read_text())["started"] == "2026-11-20"
    assert not [p for p in state.parent.iterdir() if p.name.startswith(".")]


def test_a_bad_programme_exits_2_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Building a programme with a week out of range exits 2, names file, line and field, and leaves no file."""
    path = write(
        tmp_path,
        "bad.yaml",
        _HEAD + "  - week: 1\n    preset: gentle\n    adjust:\n      knee-stirs: {reps: 12}\n",
    )
    out = tmp_path / "out"
    assert main(["programme", "build", str(path), "--voice", "fake", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{path}, line 7" in err and "weeks[0].adjust.knee-stirs.reps" in err
    assert not out.exists()


def test_new_writes_the_rule_and_a_programme_that_loads(tmp_path: Path, collection: Collection) -> None:
    """`programme new --from gentle --to full --weeks 6` writes a file stating its rule that loads as six weeks."""
    path = tmp_path / "mine.yaml"
    assert main(["programme", "new", str(path), "--from", "gentle", "--to", "full", "--weeks", "6"]) == 0
    text = path.read_text()
    assert "never more than one step" in text and "preset: gentle" in text
    assert len(load_programme(collection, path).weeks) == 6
    assert main(["programme", "new", str(path), "--weeks", "6"]) == 2  # never over an existing file


def test_show_lists_weeks_minutes_and_sessions(capsys: pytest.CaptureFixture[str]) -> None:
    """`programme show --json` has a row per week with what changes, its minutes and the sessions a week."""
    assert main(["programme", "show", SHIPPED, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [w["week"] for w in data["weeks"]] == list(range(1, 7))
    assert data["weeks"][0]["changes"] == "starting doses"
    assert all(w["estimated_ms"] > 60_000 for w in data["weeks"])
    assert data["weeks"][-1]["estimated_ms"] > data["weeks"][0]["estimated_ms"]


# -- on the phone --------------------------------------------------------------------------------


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as answer:
        body: bytes = answer.read()
        return body


def test_a_feed_reader_lists_the_weeks_in_order_as_a_season(built: Path) -> None:
    """feedparser reads the served feed's weeks as episodes 1 to 6 of one season, in order, titled Week 1 ..."""
    server = start_background(built)
    try:
        feed = feedparser.parse(_get(f"{server.url}/feed.xml"))
    finally:
        server.stop()
    assert not feed.bozo, feed.get("bozo_exception")
    weeks = [entry for entry in feed.entries if "itunes_episode" in entry]
    assert [int(entry.itunes_episode) for entry in weeks] == [1, 2, 3, 4, 5, 6]
    assert {entry.itunes_season for entry in weeks} == {"1"}
    assert [entry.title.split(":")[0] for entry in weeks] == [f"Week {n}" for n in range(1, 7)]
    dates = [entry.published_parsed for entry in weeks]
    assert dates == sorted(dates) and len(set(dates)) == 6
    assert all(
        entry.enclosures[0].href.endswith(f"/{SHIPPED}/week-{n:02d}.mp3") for n, entry in enumerate(weeks, 1)
    )


def test_the_page_groups_the_weeks_and_marks_this_week(built: Path) -> None:
    """Started eight days ago, the page shows the six weeks in order under the programme's title, each with its change, and marks week 2."""
    folder = built / SHIPPED
    state = folder / "start.json"
    before = state.read_bytes() if state.exists() else None
    started = dt.date.today() - dt.timedelta(days=8)
    assert main(["programme", "start", SHIPPED, "--on", started.isoformat(), "-o", str(built)]) == 0
    server = start_background(built)
    try:
        page = _get(f"{server.url}/").decode("utf-8")
        cover = _get(f"{server.url}/{SHIPPED}/week-02.png")
    finally:
        server.stop()
        if before is not None:
            state.write_bytes(before)
    assert 'class="programme"' in page and "this is week 2" in page
    order = [page.index(f"<h2>Week {n}</h2>") for n in range(1, 7)]
    assert order == sorted(order)
    current = re.findall(r'<article class="routine current"[^>]*data-episode="(\d+)"', page)
    assert current == ["2"]
    assert cover.startswith(b"\x89PNG")
    assert "Knee sways, six to each side, holding for three seconds" in page  # week 3's change


def test_a_shorter_rebuild_removes_the_weeks_it_no_longer_has(collection: Collection, tmp_path: Path) -> None:
    """Rebuilding a programme as three weeks where it had four removes week 4's files and lists three weeks."""
    standard, full = load_routine(collection, "standard"), load_routine(collection, "full")
    path = tmp_path / "mine.yaml"
    for weeks in (4, 3):
        programme = programme_of("Mine", progression(standard, full, weeks), sessions_per_week=3, path=path)
        result = build_programme(programme, out_dir=tmp_path / "out", voice=FakeVoice())
    assert sorted(p.name for p in result.folder.glob("week-*.mp3")) == [f"week-0{n}.mp3" for n in (1, 2, 3)]
    assert not list(result.folder.glob("week-04.*"))
    assert len(json.loads(result.manifest.read_text())["weeks"]) == 3


def test_a_blocked_last_week_is_found_before_any_week_is_spoken(
    collection: Collection, tmp_path: Path
) -> None:
    """A folder where week 4's MP3 should go stops the build at once (exit 4's error) with nothing spoken."""
    standard, full = load_routine(collection, "standard"), load_routine(collection, "full")
    programme = programme_of(
        "Mine", progression(standard, full, 4), sessions_per_week=3, path=tmp_path / "m.yaml"
    )
    (tmp_path / "out" / programme.slug / "week-04.mp3").mkdir(parents=True)
    voice = FakeVoice()
    with pytest.raises(OutputError, match="a folder is in its place") as caught:
        build_programme(programme, out_dir=tmp_path / "out", voice=voice)
    assert caught.value.exit_code == 4
    assert voice.calls.total() == 0 and not list((tmp_path / "out" / programme.slug).glob("week-01.*"))


def test_list_and_show_print_for_people(capsys: pytest.CaptureFixture[str]) -> None:
    """`programme list` names the shipped programme; `programme show` prints a row per week and the advice to stop on sharp pain."""
    assert main(["programme", "list"]) == 0
    assert SHIPPED in capsys.readouterr().out
    assert main(["programme", "show", SHIPPED]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if re.match(r"\s+\d+\s+\d+\.\d\s+4\s", line)]
    assert len(rows) == 6 and "starting doses" in rows[0]
    assert "see a clinician" in out


def test_programme_names_are_found_as_routines_are(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A folder, a missing file and an unknown name with escape codes get the routine's plain, escaped answers."""
    assert main(["programme", "show", str(tmp_path)]) == 2
    assert "is a folder, not a programme file" in capsys.readouterr().err
    assert main(["programme", "show", str(tmp_path / "gone.yaml")]) == 2
    assert "programme file" in (err := capsys.readouterr().err) and "not found" in err and SHIPPED in err
    assert main(["programme", "show", "six-\x1b[2Jweeks"]) == 2
    err = capsys.readouterr().err
    assert "there is no programme called 'six-\\x1b[2Jweeks'" in err and "\x1b" not in err


def test_programme_build_takes_the_encoder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`programme build --encoder pcm` writes every week by the PCM path and says so beside each week."""
    path = tmp_path / "three.yaml"
    assert main(["programme", "new", str(path), "--to", "standard", "--weeks", "3"]) == 0
    out = tmp_path / "out"
    assert main(["programme", "build", str(path), "--voice", "fake", "--encoder", "pcm", "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert printed.count("(pcm; asked for)") == 3
    manifests = sorted(out.rglob("week-*.json"))
    assert len(manifests) == 3
    assert all(json.loads(m.read_text())["audio"]["encoder"] == "pcm" for m in manifests)
