"""What a handout says, gathered from the content: never retyped, so the paper says what the track says."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import PurePosixPath

from stretchcast.content import DOSE_FIELDS, Dose, Exercise, Routine, words
from stretchcast.content.programme import Programme, dose_phrase
from stretchcast.figures.draw import png, scene
from stretchcast.pipeline import plan
from stretchcast.pipeline.programme import week_rows

#: A routine on its own says no more than one session; "three to five sessions a week" is the NHS
#: advice the programmes follow (Royal Orthopaedic Hospital NHS Foundation Trust, in
#: content/si-joint/SOURCES.md), so a routine's handout suggests that.
ROUTINE_SESSIONS = "Three to five sessions a week, on days that suit you."
FIGURE_PX = 480
#: Printed above a programme's weeks: the advice each week's track also speaks (content/programme.py).
WEEKS_ADVICE = (
    "Keep each week's amount for the whole week. Move on when it feels easier and any discomfort "
    "settles within a day; if a week was too hard or your pain flared, play last week's track again."
)
RECORD_INTRO = (
    "Tick a day when you do a session, and score your pain from 0 (none) to 10 (the worst) before "
    "and after. Week: ______   Starting on: ____________"
)
#: Under the record: a warning sign leads to stopping and a clinician, never to the next week.
STOP_LINE = "If you feel sharp pain, or pain that spreads down a leg: stop, and see a clinician."
_PRINTED_FIELDS = ("reps", "hold", "sets", "rest")


@dataclass(frozen=True)
class ExerciseSheet:
    """One exercise as printed: its picture, where to start, what to do, how much, and what to watch."""

    id: str
    name: str
    summary: str
    position: str
    steps: tuple[str, ...]
    dose: str
    later: str | None  # a programme's last week's dose, when it differs from the first's
    cautions: tuple[str, ...]
    figure_png: bytes | None


@dataclass(frozen=True)
class WeekRow:
    """One row of a programme's table of weeks."""

    week: int
    changes: str
    minutes: str
    track: str


@dataclass(frozen=True)
class Sheet:
    """Everything a handout prints, in the order it prints it."""

    slug: str
    title: str
    length: str  # "About 9 minutes (9:12)"
    purpose: tuple[str, ...]
    cautions: tuple[str, ...]
    exercises: tuple[ExerciseSheet, ...]
    sessions: str
    weeks: tuple[WeekRow, ...]
    tracks: tuple[str, ...]  # the file names of the track(s), relative to the handout
    url: str | None
    rounds: int = 1

    @property
    def is_programme(self) -> bool:
        """Whether this is a programme's handout (a table of weeks)."""
        return bool(self.weeks)


def dose_words(exercise: Exercise, dose: Dose) -> str:
    """The dose in plain words, as the track says it.

    "Eight with each leg, holding for two seconds, one set, then fifteen seconds of rest."
    """
    parts = []
    for field in _PRINTED_FIELDS:
        if field == "hold" and exercise.ranges.hold.max == 0:
            continue  # continuous movement: no holds to speak of
        phrase = dose_phrase(exercise, field, dose)
        parts.append(f"then {phrase}" if field == "rest" else phrase)
    text = ", ".join(parts)
    return text[:1].upper() + text[1:] + "."


def _figure(exercise: Exercise) -> bytes | None:
    return png(scene(exercise), size=FIGURE_PX) if exercise.figure is not None else None


def _length(ms: int) -> str:
    return f"{words.minutes(ms)[:1].upper()}{words.minutes(ms)[1:]} ({words.clock(ms)})"


def _exercises(first: Routine, last: Routine | None = None) -> tuple[ExerciseSheet, ...]:
    later_doses = {item.exercise.id: item.dose for item in last.items} if last is not None else {}
    sheets = []
    seen: set[str] = set()
    for item in first.items:
        ex = item.exercise
        if ex.id in seen:
            continue
        seen.add(ex.id)
        later = later_doses.get(ex.id)
        changed = later is not None and any(getattr(later, f) != getattr(item.dose, f) for f in DOSE_FIELDS)
        sheets.append(
            ExerciseSheet(
                id=ex.id,
                name=ex.name,
                summary=ex.summary,
                position=ex.position,
                steps=(*ex.setup, *ex.steps),
                dose=dose_words(ex, item.dose),
                later=dose_words(ex, later) if changed and later is not None else None,
                cautions=ex.cautions,
                figure_png=_figure(ex),
            )
        )
    return tuple(sheets)


def _purpose(description: str | None, routine: Routine) -> tuple[str, ...]:
    lines = [description] if description else []
    return (*lines, *routine.collection.introduction)


def routine_sheet(routine: Routine, *, track: str | None = None, url: str | None = None) -> Sheet:
    """The handout of one routine; ``track`` is the MP3's file name (``<slug>.mp3`` if not given)."""
    ms = plan(routine).duration_ms
    return Sheet(
        slug=routine.slug,
        title=routine.title,
        length=_length(ms),
        purpose=_purpose(routine.description, routine),
        cautions=routine.collection.cautions,
        exercises=_exercises(routine),
        sessions=ROUTINE_SESSIONS,
        weeks=(),
        tracks=(track or f"{routine.slug}.mp3",),
        url=url,
        rounds=routine.rounds,
    )


def programme_sheet(programme: Programme, *, url: str | None = None) -> Sheet:
    """The handout of a programme: its weeks, the exercises at week 1's doses (and the last week's)."""
    rows = week_rows(programme)
    first, last = programme.weeks[0].routine, programme.weeks[-1].routine
    lengths = [row.estimated_ms for row in rows]
    folder = PurePosixPath(programme.slug)
    n = programme.sessions_per_week
    length = (
        _length(lengths[0])
        if min(lengths) // 60000 == max(lengths) // 60000
        else f"{_length(min(lengths))} to {words.minutes(max(lengths)).removeprefix('about ')} "
        f"({words.clock(max(lengths))}) a session"
    )
    return Sheet(
        slug=programme.slug,
        title=programme.title,
        length=length,
        purpose=_purpose(programme.description, first),
        cautions=first.collection.cautions,
        exercises=_exercises(first, last),
        sessions=(
            f"{words.number(n).capitalize()} session{'s' if n != 1 else ''} a week, "
            f"for {words.number(len(programme.weeks))} weeks: play the week's track each time."
        ),
        weeks=tuple(
            WeekRow(
                row.number,
                row.changes,
                words.clock(row.estimated_ms),
                str(folder / f"{week.name}.mp3"),
            )
            for row, week in zip(rows, programme.weeks, strict=True)
        ),
        tracks=tuple(str(folder / f"{week.name}.mp3") for week in programme.weeks),
        url=url,
    )


def qr_png(url: str) -> bytes:
    """The QR code of ``url`` as a PNG (black on white, a quiet zone of four modules)."""
    import qrcode
    from qrcode.image.pil import PilImage

    code = qrcode.QRCode(border=4, box_size=8, error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(url)
    code.make(fit=True)
    image = code.make_image(image_factory=PilImage)
    buf = io.BytesIO()
    image.save(buf)
    return buf.getvalue()
