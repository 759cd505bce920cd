"""Fit a routine to the time you have: solve the doses so the track lasts N minutes (``--minutes``).

Pure and fast: it only compiles timelines (:func:`stretchcast.timeline.compile_timeline`, with the
estimated speech lengths ``plan`` uses), a few hundred of them at most, each about a millisecond.

The rule (also in the README, "Routines that fit the time you have"):

- Only the doses the source leaves open move: reps, holds, sets and rests, each within its
  exercise's range. A dose the source fixes (min == max) never changes, nor do the order, rounds
  or guidance. The pace (how long each movement takes) is a tempo, not an amount: it moves only
  as the last resort below.
- Every open dose sits at the same fraction of its range. From the shortest routine (every open
  dose at its minimum) to the longest (every one at its maximum), the doses go up one step at a
  time (1 rep, 1 s of hold, 1 set, 1 s of rest), always the dose that has moved the least of its
  range (ties: the earlier exercise, then reps, hold, sets, rest). The fit is the step whose
  length is nearest the target.
- A step can be long (one more set of an exercise adds its whole length again), so when the
  nearest step is still more than 5 s away, the rests alone are evened out from that step (and
  from the steps either side), up or down one second at a time in the same least-moved-first
  order, and the nearest of those is the fit; if the rests cannot reach it (a short routine has
  little rest to give), the reps and holds move with them, never the sets, and last the pace
  (half a second a step), for an exercise whose reps and holds the source fixes.
- Last, if none of that lands within 15 s (two exercises with fixed reps and long sets), every way
  of giving the exercises their sets is tried, the most even first, the other doses filled in from
  the bottom of their ranges as above.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from stretchcast.content import Dose, Routine, RoutineItem, words
from stretchcast.errors import UsageError
from stretchcast.timeline import compile_timeline

#: How close to the target a fitted routine lands (by the plan's estimate).
TOLERANCE_MS = 15_000
#: The dose fields the fit moves, in the order ties are broken; pace is a tempo and stays.
FIT_FIELDS = ("reps", "hold", "sets", "rest")
#: One step of each field (a pace is given in half seconds in the routine files).
STEPS = {"reps": 1.0, "hold": 1.0, "sets": 1.0, "rest": 1.0, "pace": 0.5}
_MAX_MINUTES = 600
#: Near enough that the rests are left as the steps put them (a third of the tolerance: margin for
#: the estimate, and the rule stays simple for most lengths).
_CLOSE_ENOUGH_MS = 5_000

Doses = tuple[Dose, ...]


@dataclass(frozen=True)
class Fit:
    """A routine fitted to a length: the routine with its new doses, and how long its plan is."""

    routine: Routine
    target_ms: int
    duration_ms: int

    @property
    def error_ms(self) -> int:
        """How far from the target the plan lands (positive: longer)."""
        return self.duration_ms - self.target_ms


def _with_doses(routine: Routine, doses: Doses) -> Routine:
    items = tuple(RoutineItem(item.exercise, dose) for item, dose in zip(routine.items, doses, strict=True))
    return dataclasses.replace(routine, items=items)


def _length(routine: Routine, doses: Doses) -> int:
    return compile_timeline(_with_doses(routine, doses)).duration_ms


def _open(routine: Routine, fields: Sequence[str]) -> list[tuple[int, str, float, float]]:
    """Every (item index, field, min, max) the fit may move, in tie-break order."""
    found = []
    for i, item in enumerate(routine.items):
        for field in fields:
            rng = item.exercise.ranges.of(field)
            if rng.min < rng.max:
                found.append((i, field, rng.min, rng.max))
    return found


def _at(routine: Routine, level: str) -> Doses:
    """Every open dose at its minimum (``level='min'``) or maximum; everything else as it is."""
    doses = []
    for item in routine.items:
        changes = {}
        for field in FIT_FIELDS:
            rng = item.exercise.ranges.of(field)
            if rng.min < rng.max:
                changes[field] = int(rng.min if level == "min" else rng.max)
        doses.append(dataclasses.replace(item.dose, **changes))
    return tuple(doses)


def _path(routine: Routine, start: Doses, fields: Sequence[str], up: bool) -> list[Doses]:
    """From ``start``, one step at a time, the least-moved dose first, until every dose is at its end."""
    slots = _open(routine, fields)
    taken = [0] * len(slots)
    spans = []
    for i, field, lo, hi in slots:
        now = float(getattr(start[i], field))
        spans.append(int((hi - now if up else now - lo) / STEPS[field]))
    path = [start]
    current = list(start)
    while True:
        open_slots = [n for n in range(len(slots)) if taken[n] < spans[n]]
        if not open_slots:
            return path
        # least moved, as a fraction of what it can move; ties in slot order (stable min)
        n = min(open_slots, key=lambda k: (taken[k] / spans[k], k))
        i, field, _lo, _hi = slots[n]
        taken[n] += 1
        value = getattr(current[i], field) + (STEPS[field] if up else -STEPS[field])
        current[i] = dataclasses.replace(current[i], **{field: value if field == "pace" else int(value)})
        path.append(tuple(current))


def _nearest(path: Sequence[Doses], length: Callable[[Doses], int], target_ms: int) -> tuple[int, int]:
    """The index on ``path`` (lengths only grow along it, or only shrink) nearest ``target_ms``."""
    growing = length(path[-1]) >= length(path[0])
    lo, hi = 0, len(path) - 1
    while hi - lo > 1:  # bisect: the last index whose length is on the near side of the target
        mid = (lo + hi) // 2
        if (length(path[mid]) <= target_ms) == growing:
            lo = mid
        else:
            hi = mid
    best = min((lo, hi), key=lambda k: abs(length(path[k]) - target_ms))
    return best, length(path[best])


class Fitter:
    """Fits one routine to any length; keeps the lengths it has measured, so many fits stay quick."""

    def __init__(self, routine: Routine) -> None:
        # fitted is changed: measured with the title it will have, since the welcome speaks it
        self.routine = routine.adjusted()
        self._lengths: dict[Doses, int] = {}
        low, high = _at(routine, "min"), _at(routine, "max")
        self.shortest_ms = self.length(low)
        self.longest_ms = self.length(high)
        self._path = _path(routine, low, FIT_FIELDS, up=True)

    def length(self, doses: Doses) -> int:
        """The plan's length of the routine with ``doses``."""
        if doses not in self._lengths:
            self._lengths[doses] = _length(self.routine, doses)
        return self._lengths[doses]

    def fit(self, minutes: float) -> Fit:
        """The routine with its open doses solved so its plan lasts ``minutes`` (within 15 s).

        Raises a :class:`UsageError` (exit 2) naming the shortest and longest this routine can be
        when ``minutes`` is out of reach.
        """
        routine = self.routine
        if not 0 < minutes <= _MAX_MINUTES:
            raise UsageError(
                f"--minutes {minutes:g} is not a length", fix="Give the minutes you have, like --minutes 10."
            )
        target = round(minutes * 60_000)
        shortest, longest = self.shortest_ms, self.longest_ms
        if not shortest - TOLERANCE_MS <= target <= longest + TOLERANCE_MS:
            too = "long" if target > longest else "short"
            raise UsageError(
                f"--minutes {minutes:g}: '{routine.title}' cannot be made that {too}",
                fix=(
                    f"It can last from {words.clock(shortest)} to {words.clock(longest)} "
                    "(every dose at the bottom of its range, or at the top): give minutes in between."
                ),
            )
        path = self._path
        k, length = _nearest(path, self.length, target)
        best = (abs(length - target), path[k], length)
        # a long step (a whole set): from the steps around it, even out the rests alone, up from below
        # or down from above; if that cannot reach, the reps and holds with them (never the sets),
        # and last the pace (an exercise whose reps and holds are fixed has only its rest and tempo)
        for fields in (("rest",), ("reps", "hold", "rest"), ("reps", "hold", "rest", "pace")):
            for j in (k, k - 1, k + 1):
                if best[0] <= _CLOSE_ENOUGH_MS or not 0 <= j < len(path):
                    continue
                fine = _path(routine, path[j], fields, up=self.length(path[j]) < target)
                r, fine_length = _nearest(fine, self.length, target)
                if abs(fine_length - target) < best[0]:
                    best = (abs(fine_length - target), fine[r], fine_length)
        if best[0] > TOLERANCE_MS:
            best = min(best, self._other_sets(target), key=lambda b: b[0])
        gap, doses, duration = best
        if gap > TOLERANCE_MS:  # between two lengths the doses can make (a set is a long step)
            raise UsageError(
                f"--minutes {minutes:g}: '{routine.title}' can be {words.clock(duration)} "
                "but not within 15 s of that",
                fix="Give a minute or two more or less, or add an exercise to the routine.",
            )
        return Fit(_with_doses(routine, doses), target, duration)

    def _other_sets(self, target: int) -> tuple[int, Doses, int]:
        """The last resort: every way of giving the exercises their sets, the most even first.

        For each, the other open doses (and the pace) span a range of lengths; the first whose
        range holds the target is filled in from its bottom, one step at a time, least moved first.
        At most 3 sets each for 4 exercises: 81 ways, two plans each.
        """
        routine = self.routine
        slots = _open(routine, ("sets",))
        fine_fields = ("reps", "hold", "rest", "pace")
        low_all = _at(routine, "min")

        def extreme(doses: Doses, up: bool) -> Doses:
            return _path(routine, doses, fine_fields, up=up)[-1]

        combos = itertools.product(*(range(int(lo), int(hi) + 1) for _i, _f, lo, hi in slots))

        def unevenness(sets: tuple[int, ...]) -> tuple[float, tuple[int, ...]]:
            fractions = [(n - lo) / (hi - lo) for n, (_i, _f, lo, hi) in zip(sets, slots, strict=True)]
            return (max(fractions, default=0) - min(fractions, default=0), sets)

        best: tuple[int, Doses, int] = (2**62, low_all, 0)
        for sets in sorted(combos, key=unevenness):
            doses = list(low_all)
            for n, (i, _f, _lo, _hi) in zip(sets, slots, strict=True):
                doses[i] = dataclasses.replace(doses[i], sets=n)
            bottom = extreme(tuple(doses), up=False)
            top = extreme(bottom, up=True)
            if not self.length(bottom) - TOLERANCE_MS <= target <= self.length(top) + TOLERANCE_MS:
                continue
            fine = _path(routine, bottom, fine_fields, up=True)
            r, length = _nearest(fine, self.length, target)
            if abs(length - target) < best[0]:
                best = (abs(length - target), fine[r], length)
            if best[0] <= TOLERANCE_MS:
                break
        return best


def fit_minutes(routine: Routine, minutes: float) -> Fit:
    """``routine`` with its open doses solved so its plan lasts ``minutes`` (see :class:`Fitter`)."""
    return Fitter(routine).fit(minutes)


def describe(fit: Fit) -> str:
    """One line for the CLI: what the fit came to."""
    sign = "+" if fit.error_ms >= 0 else "-"
    return (
        f"Fitted to {words.clock(fit.target_ms)}: {words.clock(fit.duration_ms)} by the plan "
        f"({sign}{abs(fit.error_ms) / 1000:.0f} s)."
    )
