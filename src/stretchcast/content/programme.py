"""Programmes: weeks of practice, each week a routine, progressing one small step at a time.

A programme file (``content/<collection>/programmes/<name>.yaml``) has a ``title``,
``sessions_per_week`` and a list of ``weeks``. Each week is either a preset with adjustments::

    - week: 2
      preset: gentle
      adjust:
        knee-sways: {reps: 5}

or a routine written out in the same form as a routine file (``title``, ``exercises``, ...) under
``week: N``. Every dose is checked against the exercise's range, like a routine's; weeks must be
numbered 1, 2, 3 ... with none missing; and from one week to the next no dose may go up by more
than one step (:data:`STEPS`): the NHS advice this follows is in ``content/si-joint/SOURCES.md``.
Going back down (a flare-up, a week that was too hard) is always allowed.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from pathlib import Path

from stretchcast.content import strict_yaml as _yaml
from stretchcast.content import words
from stretchcast.content.load import find_content_file, find_routine, load_routine, routine_from_mapping
from stretchcast.content.model import (
    DOSE_FIELDS,
    Collection,
    Dose,
    Exercise,
    Routine,
    RoutineItem,
    checked_dose,
    slugify,
)
from stretchcast.content.schema import TITLE
from stretchcast.errors import ContentError, UsageError, Where, did_you_mean

#: One step of each dose field: the most it may go up from one week to the next.
STEPS: dict[str, float] = {"reps": 1, "hold": 1, "sets": 1, "rest": 5, "pace": 0.5}
#: Fields where more is harder (more reps, longer holds, more sets): only going up is limited.
#: Rest and pace are limited both ways: less rest is harder, and a changed tempo is a new skill.
_HARDER_UP = {"reps", "hold", "sets"}
SESSIONS_RANGE = (1, 7)
MAX_WEEKS = 52
PROGRAMMES_DIR = "programmes"
#: Spoken in every week that moves up: when to stay with, or go back to, last week instead.
BACK_A_WEEK = (
    "Move up only if last week felt comfortable. If it still felt hard, or your pain flared, "
    "play last week's track again; and if you feel sharp pain, stop, and see a clinician."
)


@dataclass(frozen=True)
class Change:
    """One dose field of one exercise that differs from the week before."""

    exercise: Exercise
    field: str
    before: float
    after: float


@dataclass(frozen=True)
class Week:
    """One week of a programme: its number, the routine done in it, and what changed since the last."""

    number: int
    routine: Routine
    changes: tuple[Change, ...]

    @property
    def name(self) -> str:
        """The file stem of the week's track: ``week-01``."""
        return f"week-{self.number:02d}"


@dataclass(frozen=True)
class Programme:
    """Weeks of practice, in order, and how many sessions a week."""

    slug: str
    title: str
    description: str | None
    sessions_per_week: int
    weeks: tuple[Week, ...]
    path: Path


def programmes_dir(collection: Collection) -> Path:
    """Where the collection's programme files live."""
    return collection.root / PROGRAMMES_DIR


def programme_names(collection: Collection) -> list[str]:
    """Names of the collection's programmes, sorted."""
    return sorted(p.stem for p in programmes_dir(collection).glob("*.yaml"))


def find_programme(collection: Collection, ref: str) -> Path:
    """The file for ``ref``: a programme name (``six-weeks``) or a path to a programme file."""
    return find_content_file(
        ref,
        kind="programme",
        folder=programmes_dir(collection),
        names=programme_names(collection),
        names_label="Programmes",
        name_word="a programme name",
    )


def load_programme(collection: Collection, ref: str | Path) -> Programme:
    """Load and check a programme: every week's doses, the week numbers, and the one-step rule."""
    path = ref if isinstance(ref, Path) else find_programme(collection, ref)
    doc = _yaml.Mapping(
        _yaml.read_document(path),
        path,
        fix="A programme file has 'title:', 'sessions_per_week:' and 'weeks:' lines.",
    )
    title = doc.text(TITLE.name, max_len=TITLE.max_len)
    assert title is not None
    description = doc.text("description", required=False, max_len=400)
    lo, hi = SESSIONS_RANGE
    sessions = doc.integer("sessions_per_week", lo=lo, hi=hi)
    assert sessions is not None
    week_fix = "Write each week as '- week: 1' with 'preset: NAME' or a routine's 'title' and 'exercises'."
    week_maps = doc.mappings("weeks", max_items=MAX_WEEKS, item_fix=week_fix)
    doc.finish()
    routines: list[tuple[Routine, dict[tuple[str, str], Where], Where]] = []
    for i, m in enumerate(week_maps):
        number = m.integer("week", lo=1, hi=MAX_WEEKS)
        if number != i + 1:
            problem = (
                f"week {i + 1} is missing (this entry is week {number})"
                if number is not None and number > i + 1
                else f"week {number} comes after week {i}"
            )
            raise m.error(problem, key="week", fix="Number the weeks 1, 2, 3 ... in order, none left out.")
        routines.append(_week_routine(collection, m, path))
    weeks: list[Week] = []
    total = len(routines)
    for i, (routine, wheres, week_where) in enumerate(routines):
        before = routines[i - 1][0] if i else None
        changes = changes_between(before, routine) if before is not None else ()
        for change in changes:
            where = wheres.get((change.exercise.id, change.field), week_where)
            _check_step(change, i + 1, where)
        number = i + 1
        week_routine = dataclasses.replace(
            routine,
            slug=f"week-{number:02d}",
            title=f"{title}, week {number}",
            description=routine.description,
            path=path,
            notes=week_notes(number, total, changes),
        )
        weeks.append(Week(number, week_routine, changes))
    slug = slugify(path.stem)
    if not slug:
        raise ContentError(
            f"cannot make an output name from the file name '{path.name}'",
            where=Where(path),
            fix="Rename the file using letters and digits, like six-weeks.yaml.",
        )
    return Programme(slug, title, description, sessions, tuple(weeks), path)


def _week_routine(
    collection: Collection, m: _yaml.Mapping, path: Path
) -> tuple[Routine, dict[tuple[str, str], Where], Where]:
    """The routine of one week entry, where each adjusted dose was written, and where the week is."""
    week_where = m.where("week")
    if not m.has("preset"):
        if not m.has("exercises"):
            raise m.error(
                "a week needs 'preset: NAME' or a routine's 'exercises'",
                fix="For example: preset: gentle (with 'adjust:' for changes), or a routine written out.",
            )
        return routine_from_mapping(collection, m, path), {}, week_where
    preset = m.text("preset", max_len=60)
    assert preset is not None
    presets = collection.presets()
    if preset not in presets:
        raise m.error(
            f"there is no preset called '{preset}'",
            key="preset",
            fix=f"{did_you_mean(preset, presets)}Presets: {', '.join(presets)}.",
        )
    routine = load_routine(collection, find_routine(collection, preset))
    wheres: dict[tuple[str, str], Where] = {}
    adjust = m.mapping("adjust", required=False)
    if adjust is not None:
        ids = [item.exercise.id for item in routine.items]
        items = list(routine.items)
        for ex_id in adjust:
            exercise = collection.exercise(ex_id, adjust.where(ex_id))
            if ex_id not in ids:
                raise adjust.error(
                    f"'{ex_id}' is not in the preset '{preset}'",
                    key=ex_id,
                    fix=f"Exercises in it: {', '.join(ids)}.",
                )
            em = adjust.mapping(ex_id)
            assert em is not None
            changes: dict[str, float] = {}
            for field in DOSE_FIELDS:
                if em.has(field):
                    value = em.numeric(field, fix="Use a number within the exercise's range.")
                    assert value is not None
                    changes[field] = value
                    wheres[(ex_id, field)] = em.where(field)
            em.finish(list(DOSE_FIELDS))
            k = ids.index(ex_id)
            dose = checked_dose(exercise, items[k].dose, changes, em.where, ContentError)
            items[k] = RoutineItem(exercise, dose)
        adjust.finish()
        routine = dataclasses.replace(routine, items=tuple(items))
    m.finish(["week", "preset", "adjust"])
    return routine, wheres, week_where


def changes_between(before: Routine, after: Routine) -> tuple[Change, ...]:
    """Every dose field that differs between two weeks, for exercises in both, in the routine's order."""
    earlier = {item.exercise.id: item.dose for item in before.items}
    found: list[Change] = []
    for item in after.items:
        old = earlier.get(item.exercise.id)
        if old is None:
            continue
        for field in DOSE_FIELDS:
            a, b = float(getattr(old, field)), float(getattr(item.dose, field))
            if a != b:
                found.append(Change(item.exercise, field, a, b))
    return tuple(found)


def steps_of(change: Change) -> float:
    """How many steps ``change`` is, signed (up is positive)."""
    return (change.after - change.before) / STEPS[change.field]


def _check_step(change: Change, week: int, where: Where) -> None:
    steps = steps_of(change)
    limited = steps > 1 + 1e-9 if change.field in _HARDER_UP else abs(steps) > 1 + 1e-9
    if not limited:
        return
    step = STEPS[change.field]
    unit = "" if change.field in {"reps", "sets"} else " s"
    raise ContentError(
        f"week {week}: {change.exercise.id} {change.field} goes from {change.before:g} to "
        f"{change.after:g}{unit}, more than one step ({step:g}{unit}) in a week",
        where=where,
        fix=(
            f"Change it by at most {step:g}{unit} a week: hold each amount for a week, then "
            "increase a little (add weeks in between if you need them)."
        ),
    )


# -- what a week says ------------------------------------------------------------------------


def _reps_phrase(ex: Exercise, reps: int) -> str:
    n = words.number(reps)
    if ex.directions and ex.sides:
        return f"{n} each way, each {ex.side_word}"
    if ex.directions:
        return f"{n} each way"
    if ex.sides:
        return f"{n} to each side" if ex.side_word == "side" else f"{n} with each {ex.side_word}"
    return f"{n} times"


def dose_phrase(ex: Exercise, field: str, dose: Dose) -> str:
    """One dose field as spoken: "seven to each side", "holding for three seconds"."""
    if field == "reps":
        return _reps_phrase(ex, dose.reps)
    if field == "hold":
        return f"holding for {words.seconds(dose.hold)}" if dose.hold else "no holds"
    if field == "sets":
        return "one set" if dose.sets == 1 else f"{words.number(dose.sets)} sets"
    if field == "rest":
        return f"{words.seconds(dose.rest)} of rest"
    return f"{words.seconds(dose.pace)} for each movement"


def change_sentence(changes: tuple[Change, ...]) -> str:
    """ "This week: knee sways, seven to each side." (each changed exercise, its changed fields)."""
    by_exercise: dict[str, list[Change]] = {}
    for change in changes:
        by_exercise.setdefault(change.exercise.id, []).append(change)
    parts = []
    for group in by_exercise.values():
        ex = group[0].exercise
        after = {c.field: c.after for c in group}
        dose = Dose(
            reps=int(after.get("reps", 0)),
            hold=int(after.get("hold", 0)),
            pace=float(after.get("pace", 0)),
            rest=int(after.get("rest", 0)),
            sets=int(after.get("sets", 0)),
        )
        phrases = ", ".join(dose_phrase(ex, c.field, dose) for c in group)
        parts.append(f"{ex.name.lower()}, {phrases}")
    return f"This week: {'; '.join(parts)}."


def week_notes(number: int, total: int, changes: tuple[Change, ...]) -> tuple[str, ...]:
    """What the week's welcome adds: which week it is, and what changed since the last one."""
    which = f"This is week {words.number(number)} of {words.number(total)}."
    if number == 1:
        return (which, "This week sets your starting doses.")
    if not changes:
        return (which, "This week keeps the same doses as last week.")
    # never a progression over a warning sign: the listener is told when not to move up
    return (which, change_sentence(changes), BACK_A_WEEK)


def minutes_text(ms: int) -> str:
    """Minutes for a table: "6.5"."""
    return f"{math.ceil(ms / 6000) / 10:g}"


# -- making one: from one routine to another in even steps -----------------------------------

RULE = (
    "How the weeks were made: every dose goes from the starting routine's value to the final one,",
    "one step at a time (reps 1, hold 1 s, sets 1, rest 5 s, pace 0.5 s), never more than one step",
    "of a dose in a week, so each amount is kept for at least a week. Each week takes as many steps",
    "as are left divided by the weeks left (rounded down, so the lighter weeks come first), choosing",
    "first the doses that must move now",
    "to arrive in time, then those with the most steps left, then those that moved longest ago, so",
    "the changes spread across the exercises and across the weeks.",
)


def _stepped_doses(start: Routine, end: Routine, weeks: int) -> list[dict[tuple[str, str], float]]:
    """Every week's value of every (exercise, field), stepping evenly from ``start`` to ``end``."""
    ends = {item.exercise.id: item.dose for item in end.items}
    ids = [item.exercise.id for item in start.items]
    if ids != [item.exercise.id for item in end.items]:
        raise UsageError(
            f"'{start.slug}' and '{end.slug}' do not have the same exercises in the same order",
            fix="Start and end from routines with the same exercises (e.g. gentle and full).",
        )
    values: dict[tuple[str, str], float] = {}
    left: dict[tuple[str, str], int] = {}
    size: dict[tuple[str, str], float] = {}
    for item in start.items:
        for field in DOSE_FIELDS:
            key = (item.exercise.id, field)
            a, b = float(getattr(item.dose, field)), float(getattr(ends[key[0]], field))
            values[key] = a
            n = math.ceil(abs(b - a) / STEPS[field] - 1e-9)
            left[key] = n
            size[key] = (b - a) / n if n else 0.0
    transitions = weeks - 1
    most = max(left.values(), default=0)
    if most > transitions:
        raise UsageError(
            f"going from '{start.slug}' to '{end.slug}' one step a week takes at least {most + 1} weeks",
            fix=f"Use --weeks {most + 1} or more.",
        )
    last_moved = dict.fromkeys(values, -1)
    out = [dict(values)]
    order = list(values)
    for t in range(transitions):
        weeks_left = transitions - t
        remaining = sum(left.values())
        quota = remaining // weeks_left  # rounded down: the lighter weeks come first
        candidates = [k for k in order if left[k] > 0]
        must = [k for k in candidates if left[k] >= weeks_left]
        rest = sorted(
            (k for k in candidates if k not in must),
            key=lambda k: (-left[k], last_moved[k], order.index(k)),
        )
        moving = must + rest[: max(0, quota - len(must))]
        for k in moving:
            left[k] -= 1
            last_moved[k] = t
            values[k] = values[k] + size[k] if left[k] else float(getattr(ends[k[0]], k[1]))
        out.append(dict(values))
    return out


def progression(start: Routine, end: Routine, weeks: int) -> list[Routine]:
    """``weeks`` routines from ``start`` to ``end``: no dose moves more than one step a week."""
    if not 2 <= weeks <= MAX_WEEKS:
        raise UsageError(f"--weeks {weeks} is out of range", fix=f"Use 2 to {MAX_WEEKS} weeks.")
    schedule = _stepped_doses(start, end, weeks)
    routines = []
    for values in schedule:
        items = tuple(
            RoutineItem(
                item.exercise,
                Dose(
                    reps=round(values[(item.exercise.id, "reps")]),
                    hold=round(values[(item.exercise.id, "hold")]),
                    pace=round(values[(item.exercise.id, "pace")], 2),
                    rest=round(values[(item.exercise.id, "rest")]),
                    sets=round(values[(item.exercise.id, "sets")]),
                ),
            )
            for item in start.items
        )
        routines.append(dataclasses.replace(start, items=items))
    return routines


def _number(value: float) -> str:
    return f"{value:g}"


def programme_yaml(
    title: str,
    routines: list[Routine],
    *,
    sessions_per_week: int,
    preset: str | None,
    made_from: str,
) -> str:
    """A programme file for ``routines`` (one a week), commented with the rule that made it.

    With ``preset``, each week is that preset with the doses that differ under ``adjust``;
    otherwise each week is written out as a routine.
    """
    lines = [f"# {made_from}", "#"]
    lines += [f"# {line}" for line in RULE]
    lines += [
        "#",
        "# Keep each week's amount for the whole week; move on when it feels consistently easier and any",
        "# discomfort settles within a day; go back a week when it is too hard (see SOURCES.md).",
        f"title: {json.dumps(title)}",
        f"sessions_per_week: {sessions_per_week}",
        "weeks:",
    ]
    base = {item.exercise.id: item.dose for item in routines[0].items}
    for n, routine in enumerate(routines, start=1):
        lines.append(f"  - week: {n}")
        if preset is not None:
            lines.append(f"    preset: {preset}")
            adjusted = []
            for item in routine.items:
                fields = [
                    f"{f}: {_number(getattr(item.dose, f))}"
                    for f in DOSE_FIELDS
                    if getattr(item.dose, f) != getattr(base[item.exercise.id], f)
                ]
                if fields:
                    adjusted.append(f"      {item.exercise.id}: {{{', '.join(fields)}}}")
            if adjusted:
                lines += ["    adjust:", *adjusted]
            continue
        lines.append(f"    title: {json.dumps(routine.title)}")
        if routine.rounds != 1:
            lines.append(f"    rounds: {routine.rounds}")
        lines.append("    exercises:")
        for item in routine.items:
            lines.append(f"      - id: {item.exercise.id}")
            lines += [f"        {f}: {_number(getattr(item.dose, f))}" for f in DOSE_FIELDS]
    return "\n".join(lines) + "\n"


def programme_of(
    title: str, routines: list[Routine], *, sessions_per_week: int, path: Path, description: str | None = None
) -> Programme:
    """A programme from one routine a week (e.g. a :func:`progression`), without a file: what the
    notebook plans and builds. Its weeks say what changed, as a loaded programme's do."""
    weeks = []
    for i, routine in enumerate(routines):
        number = i + 1
        changes = changes_between(routines[i - 1], routine) if i else ()
        week_routine = dataclasses.replace(
            routine,
            slug=f"week-{number:02d}",
            title=f"{title}, week {number}",
            path=path,
            notes=week_notes(number, len(routines), changes),
        )
        weeks.append(Week(number, week_routine, changes))
    return Programme(slugify(path.stem), title, description, sessions_per_week, tuple(weeks), path)
