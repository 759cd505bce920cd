"""Load and validate exercises, the collection they belong to, and routines, into frozen dataclasses.

The files under ``content/<collection>/`` are the single source of what is said and for how long.
Everything here is checked on load: unknown keys, wrong types and values outside an exercise's
allowed range are errors that name the file, the line and the field, with the fix.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from stretchcast.content.pronunciation import NONE, Pronunciations
from stretchcast.content.schema import DOSE_FIELDS, MAX_NUMBER_CHARS, PACE_FACTOR_RANGE, dose_field
from stretchcast.errors import ContentError, UsageError, Where, did_you_mean, shown

__all__ = ["DOSE_FIELDS", "PACE_FACTOR_RANGE"]  # declared in content.schema, kept importable from here

if TYPE_CHECKING:
    from stretchcast.content.poses import Figure
SIDE_NAMES = ("left", "right")
DIRECTION_NAMES = ("clockwise", "counterclockwise")
_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

#: Placeholders that cue templates may use, and what fills them.
CUE_FIELDS = {
    "rep": {"count", "Count", "side", "Side", "direction", "side_word"},
    "release": {"side", "Side", "side_word"},
    "side_start": {"side", "Side", "side_word"},
    "side_end": {"side", "Side", "side_word"},
    "direction_start": {"direction", "Direction", "side", "Side"},
    "dose": {"reps", "hold", "sets", "side_word"},
}


def _is_whole(value: float) -> bool:
    return float(value).is_integer()


@dataclass(frozen=True)
class Range:
    """The values a dose field may take for one exercise, and the default (what the source states)."""

    default: float
    min: float
    max: float

    def contains(self, value: float) -> bool:
        """Whether ``value`` is allowed."""
        return self.min <= value <= self.max

    def describe(self, unit: str = "") -> str:
        """ "4 to 8" or "exactly 8" (with a unit if given)."""
        u = f" {unit}" if unit else ""
        if self.min == self.max:
            return f"exactly {self.min:g}{u}"
        return f"{self.min:g} to {self.max:g}{u}"


@dataclass(frozen=True)
class DoseRanges:
    """Allowed range of every dose field of an exercise."""

    reps: Range
    hold: Range
    pace: Range
    rest: Range
    sets: Range

    def of(self, name: str) -> Range:
        """The range of dose field ``name``."""
        rng: Range = getattr(self, name)
        return rng


@dataclass(frozen=True)
class Dose:
    """How much of an exercise: reps per side/direction, hold/rest/pace in seconds, sets."""

    reps: int
    hold: int
    pace: float
    rest: int
    sets: int

    @property
    def hold_ms(self) -> int:
        """Each hold in milliseconds."""
        return self.hold * 1000

    @property
    def rest_ms(self) -> int:
        """The rest after the exercise in milliseconds."""
        return self.rest * 1000

    @property
    def pace_ms(self) -> int:
        """The time given to each movement in milliseconds (before the pace factor)."""
        return round(self.pace * 1000)


@dataclass(frozen=True)
class Cues:
    """Templates for what is spoken during the reps; ``{count}``, ``{side}`` and friends are filled in."""

    rep: str
    dose: str
    release: str | None = None
    side_start: str | None = None
    side_end: str | None = None
    direction_start: str | None = None


@dataclass(frozen=True)
class Exercise:
    """One exercise: how to get into position, what to do, how much, and what to watch for."""

    id: str
    name: str
    summary: str
    position: str
    sides: tuple[str, ...]
    alternate: bool
    side_word: str
    directions: tuple[str, ...]
    setup: tuple[str, ...]
    steps: tuple[str, ...]
    cues: Cues
    ranges: DoseRanges
    cautions: tuple[str, ...]
    spoken_caution: str | None
    path: Path
    figure: Figure | None = None  # poses and movement for the pictures (content/poses.py)

    @property
    def default_dose(self) -> Dose:
        """The dose the source states."""
        r = self.ranges
        return Dose(
            reps=int(r.reps.default),
            hold=int(r.hold.default),
            pace=float(r.pace.default),
            rest=int(r.rest.default),
            sets=int(r.sets.default),
        )

    @property
    def reps_unit(self) -> str:
        """What one rep counts, for people: "per side", "each direction, each leg", or ""."""
        if self.directions and self.sides:
            return f"each direction, each {self.side_word}"
        if self.directions:
            return "each direction"
        if self.sides:
            return f"per {self.side_word}"
        return "times"


@dataclass(frozen=True)
class Collection:
    """A set of exercises with its introduction, safety guidance and preset routines."""

    id: str
    title: str
    album: str
    introduction: tuple[str, ...]
    welcome: tuple[str, ...]
    safety_spoken: tuple[str, ...]
    cautions: tuple[str, ...]
    closing: tuple[str, ...]
    exercises: tuple[Exercise, ...]
    root: Path
    year: int | None = None  # the edition's year, for the tags (a year in the file keeps builds reproducible)
    #: How the voices say words they get wrong (``pronunciation.yaml``); applied to every cue.
    pronunciations: Pronunciations = NONE

    @property
    def routines_dir(self) -> Path:
        """Where the preset routine files live."""
        return self.root / "routines"

    def exercise(self, exercise_id: str, where: Where | None = None) -> Exercise:
        """The exercise called ``exercise_id``, or an error listing the ones that exist."""
        for ex in self.exercises:
            if ex.id == exercise_id:
                return ex
        ids = [ex.id for ex in self.exercises]
        hint = did_you_mean(exercise_id, ids)
        raise ContentError(
            f"there is no exercise called '{shown(exercise_id)}'",
            where=where,
            fix=f"{hint}Exercises: {', '.join(ids)}.",
        )

    def presets(self) -> list[str]:
        """Names of the preset routines, in a sensible order (gentle, standard, full first)."""
        names = sorted(p.stem for p in self.routines_dir.glob("*.yaml"))
        order = {"gentle": 0, "standard": 1, "full": 2}
        return sorted(names, key=lambda n: (order.get(n, 3), n))


@dataclass(frozen=True)
class Guidance:
    """How the track guides: the pace factor on movements, chimes, and countdowns in long holds."""

    pace: float = 1.0
    chimes: bool = True
    countdown: bool = True


ADJUSTED = " (adjusted)"


@dataclass(frozen=True)
class RoutineItem:
    """An exercise in a routine, with its dose."""

    exercise: Exercise
    dose: Dose


@dataclass(frozen=True)
class Routine:
    """What to do, in order, how much, and how often to go round."""

    slug: str
    title: str
    description: str | None
    items: tuple[RoutineItem, ...]
    rounds: int
    guidance: Guidance
    voice: str | None
    collection: Collection
    path: Path | None = None
    # Spoken right after the welcome (a programme's "This is week two of six."); none for a routine.
    notes: tuple[str, ...] = ()

    def with_overrides(self, overrides: Iterable[str]) -> Routine:
        """A copy with ``EXERCISE.FIELD=VALUE`` overrides applied (each checked against the ranges)."""
        routine = self
        for text in overrides:
            routine = routine._override(text)
        return routine.adjusted() if routine != self else routine

    def adjusted(self) -> Routine:
        """This routine marked as changed from its file: " (adjusted)" in the title, no file behind it.

        A changed preset must not pass itself off as the preset (in tags, on the phone page, in the
        feed), nor take the preset's place in the album.
        """
        if self.title.endswith(ADJUSTED):
            return dataclasses.replace(self, path=None)
        return dataclasses.replace(self, title=f"{self.title}{ADJUSTED}", path=None)

    def _override(self, text: str) -> Routine:
        where = Where(f"--set {text}")
        target, sep, raw = text.partition("=")
        ex_id, dot, field = target.strip().rpartition(".")
        if not sep or not dot or not ex_id or not field or not raw.strip():
            raise UsageError(
                f"--set '{shown(text)}' is not of the form EXERCISE.FIELD=VALUE",
                fix="For example: --set knee-sways.reps=6",
            )
        if field not in DOSE_FIELDS:
            hint = did_you_mean(field, DOSE_FIELDS)
            raise UsageError(
                f"--set: '{shown(field)}' is not a dose field",
                fix=f"{hint}Fields: {', '.join(DOSE_FIELDS)}.",
            )
        ids = [item.exercise.id for item in self.items]
        if ex_id not in ids:
            self.collection.exercise(ex_id, where)  # unknown anywhere: that error lists all ids
            raise UsageError(
                f"--set: '{shown(ex_id)}' is not in the routine '{self.slug}'",
                fix=f"Exercises in it: {', '.join(ids)}.",
            )
        rng = self.collection.exercise(ex_id).ranges.of(field)
        try:
            value = float(raw.strip())
            if math.isnan(value):
                raise ValueError(raw)
        except ValueError:
            raise UsageError(
                f"--set {shown(target)}: '{shown(raw.strip())}' is not a number",
                fix="For example: --set knee-sways.reps=6",
            ) from None
        if math.isinf(value) or len(raw.strip()) > MAX_NUMBER_CHARS:
            n = len(raw.strip())
            what = f"a number {n} characters long" if n > MAX_NUMBER_CHARS else f"'{raw.strip()}'"
            raise UsageError(
                f"--set {shown(target)}: {what} is out of range",
                fix=f"Use a value from {rng.min:g} to {rng.max:g}.",
            )
        items = tuple(
            RoutineItem(
                item.exercise,
                checked_dose(item.exercise, item.dose, {field: value}, lambda _f: where, UsageError),
            )
            if item.exercise.id == ex_id
            else item
            for item in self.items
        )
        return dataclasses.replace(self, items=items)


def slugify(text: str) -> str:
    """A safe file name from ``text``: lower case letters, digits and dashes only."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:60].strip("-")


# -- loading ----------------------------------------------------------------------------------


def default_content_dir() -> Path:
    """The collection to use by default: $STRETCHCAST_CONTENT, this checkout's, or the packaged one."""
    env = os.environ.get("STRETCHCAST_CONTENT")
    if env:
        return Path(env)
    package = Path(__file__).resolve().parents[1]  # src/stretchcast, or site-packages/stretchcast
    checkout = package.parents[1] / "content" / "si-joint"
    for candidate in (checkout, package / "_data" / "content" / "si-joint"):
        if (candidate / "collection.yaml").is_file():
            return candidate
    return checkout


def checked_dose(
    exercise: Exercise,
    base: Dose,
    changes: Mapping[str, float],
    where_of: Callable[[str], Where],
    error_type: type[ContentError] | type[UsageError],
) -> Dose:
    """``base`` with ``changes`` applied, each checked against the exercise's allowed range."""
    values: dict[str, float] = dataclasses.asdict(base)
    for field, value in changes.items():
        rng = exercise.ranges.of(field)
        spec = dose_field(field)
        where = where_of(field)
        if spec.whole and not _is_whole(value):
            raise error_type(
                f"{exercise.id} {field} must be a whole number, not {value:g}",
                where=where,
                fix=f"Use a whole number from {rng.min:g} to {rng.max:g}.",
            )
        if not rng.contains(value):
            unit = spec.unit
            raise error_type(
                f"{exercise.id} {field} {value:g}{unit} is outside its allowed range, "
                f"{rng.describe(unit)} ({spec.meaning})",
                where=where,
                fix=(
                    f"Use {rng.min:g}{unit}; the source allows no other value."
                    if rng.min == rng.max
                    else f"Use a value from {rng.min:g} to {rng.max:g}."
                ),
            )
        values[field] = value
    return Dose(
        reps=int(values["reps"]),
        hold=int(values["hold"]),
        pace=float(values["pace"]),
        rest=int(values["rest"]),
        sets=int(values["sets"]),
    )
