"""The content schema, declared once: every routine setting with its limits, unit, meaning and words.

Loading (``content.load``), validation (``checked_dose``), ``--set`` (``Routine.with_overrides``),
the builder's sliders (``notebook``), ``stretchcast list`` and writing routine files
(``content.files``) all read the fields below instead of keeping their own copies of the numbers,
so a limit changed here changes everywhere at once.

Each field also names the command-line flag that sets it, so that a library error naming a field
(``Where(field="title")``) can be shown to a command-line user as the flag they typed (``--title``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from stretchcast.content.text import check_text
from stretchcast.errors import ContentError, Where


@dataclass(frozen=True)
class DoseField:
    """One field of an exercise's dose: its outer limits, unit, meaning and how people see it."""

    name: str
    lo: float  # outer limits no exercise file may exceed, whatever its own range says
    hi: float
    unit: str  # "s" or "" (messages write "5s"; lists and sliders " s")
    meaning: str
    label: str  # the builder's slider label
    whole: bool = True
    adjustable: bool = True  # has a slider per exercise in the builder (pace is set for all)

    @property
    def spaced_unit(self) -> str:
        """The unit as a list or a slider shows it after a number: " s" or ""."""
        return f" {self.unit}" if self.unit else ""


# The limits keep a typo (a hold of 1000 s) from producing an absurd track, and size the sliders.
# Order: the order fields are listed, written to routine files and offered to --set.
DOSE: tuple[DoseField, ...] = (
    DoseField("reps", 1, 50, "", "repetitions per side or direction", "Reps"),
    DoseField("hold", 0, 120, "s", "seconds each hold lasts", "Hold (s)"),
    DoseField("rest", 0, 300, "s", "seconds of rest after the exercise (and between sets)", "Rest (s)"),
    DoseField("sets", 1, 10, "", "times the whole exercise is repeated", "Sets"),
    DoseField("pace", 0.5, 30, "s", "seconds given to each movement between holds", "Pace (s)", False, False),
)
DOSE_FIELDS = tuple(f.name for f in DOSE)
ADJUSTABLE = tuple(f.name for f in DOSE if f.adjustable)
_BY_NAME = {f.name: f for f in DOSE}


def dose_field(name: str) -> DoseField:
    """The dose field called ``name`` (one of :data:`DOSE_FIELDS`)."""
    return _BY_NAME[name]


@dataclass(frozen=True)
class TextField:
    """A line of text in a routine: how long it may be, and the flag that sets it on the command line."""

    name: str
    max_len: int
    flag: str | None = None

    def check(self, value: str, where: Where | None = None) -> str:
        """``value`` tidied, or a ContentError naming this field (empty, too long, control characters)."""
        return check_text(value, where or Where(field=self.name), max_len=self.max_len)


@dataclass(frozen=True)
class NumberField:
    """A number in a routine: its range, its default, and the flag that sets it on the command line."""

    name: str
    lo: float
    hi: float
    default: float
    whole: bool
    flag: str | None = None

    @property
    def range(self) -> tuple[float, float]:
        """(lo, hi)."""
        return (self.lo, self.hi)

    def check(self, value: float, where: Where | None = None) -> float:
        """``value`` if it is within range (and whole where it must be), else a ContentError."""
        where = where or Where(field=self.name)
        fix = f"Use a number from {self.lo:g} to {self.hi:g}."
        if not math.isfinite(value) or not self.lo <= value <= self.hi:
            raise ContentError(f"{value:g} is out of range", where=where, fix=fix)
        if self.whole and not float(value).is_integer():
            raise ContentError(f"{value:g} is not a whole number", where=where, fix=fix)
        return value


TITLE = TextField("title", 80, flag="--title")
DESCRIPTION = TextField("description", 400)
VOICE = TextField("voice", 20, flag="--voice")
EXERCISE_ID = TextField("id", 60)
ROUNDS = NumberField("rounds", 1, 10, 1, whole=True)
PACE_FACTOR = NumberField("pace", 0.5, 2.0, 1.0, whole=False, flag="--pace")
GUIDANCE_FIELDS = ("pace", "chimes", "countdown")
MAX_ROUTINE_EXERCISES = 20
PACE_FACTOR_RANGE = PACE_FACTOR.range
ROUNDS_RANGE = (int(ROUNDS.lo), int(ROUNDS.hi))

#: A field named in a library error, as the command line spells it (``Where.field`` -> flag).
FLAGS = {f.name: f.flag for f in (TITLE, VOICE) if f.flag} | {f"guidance.{PACE_FACTOR.name}": "--pace"}

# A number written with more characters than this is out of every range above; refusing it before
# conversion keeps Python's int() and float() from their own limits (4300 digits, overflow).
MAX_NUMBER_CHARS = 32
