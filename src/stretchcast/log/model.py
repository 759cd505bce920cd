"""A session as the log keeps it, and the one check every way in goes through.

The command line, the CSV import and the phone's ``POST /api/sessions`` all turn their input into
text fields and call :func:`session_from_fields`, so a value refused on one way in is refused on
every way in, with the same words. Each error names the field (and the caller adds the file and line).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stretchcast.errors import InputError, Where

DONE = ("full", "partial")
FELT = ("easy", "right", "hard")
#: The warning signs the check-in asks about, in the order they are shown and stored.
WARNINGS: dict[str, str] = {
    "spreading-pain": "pain spreading into the buttock or down a leg",
    "numbness": "numbness (around the groin, inner thighs or a leg)",
    "weakness": "new weakness in a leg",
}
PAIN_RANGE = (0, 10)
MAX_NOTE = 500
MAX_WEEK = 52
#: The fields of a session, in the order the CSV and ``log list --json`` give them.
FIELDS = (
    "id",
    "at",
    "routine",
    "routine_hash",
    "programme",
    "week",
    "done",
    "pain_before",
    "pain_after",
    "felt",
    "warnings",
    "note",
)
REQUIRED = ("id", "at", "routine", "done", "pain_before", "pain_after", "felt")

_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")
_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,79}")
_HASH = re.compile(r"[0-9a-f]{16}")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # newlines and tabs may stay in a note


@dataclass(frozen=True)
class Session:
    """One practice session: when, what was played, how it went."""

    id: str  # made by the client (phone, command line), so a retry is recognised and recorded once
    at: dt.datetime  # aware, whole seconds
    routine: str  # the routine's slug, or the week's name (week-03) within ``programme``
    done: str  # full | partial
    pain_before: int  # 0-10
    pain_after: int  # 0-10
    felt: str  # easy | right | hard
    routine_hash: str | None = None  # 16 hex digits of the routine's settings (:func:`routine_hash`)
    programme: str | None = None  # the programme's slug when this was a programme's week
    week: int | None = None
    warnings: tuple[str, ...] = ()  # keys of WARNINGS, in its order
    note: str | None = None

    def fields(self) -> dict[str, str]:
        """Every field as text, as the CSV holds it (empty for none); the inverse of session_from_fields."""
        return {
            "id": self.id,
            "at": format_at(self.at),
            "routine": self.routine,
            "routine_hash": self.routine_hash or "",
            "programme": self.programme or "",
            "week": "" if self.week is None else str(self.week),
            "done": self.done,
            "pain_before": str(self.pain_before),
            "pain_after": str(self.pain_after),
            "felt": self.felt,
            "warnings": " ".join(self.warnings),
            "note": self.note or "",
        }

    def as_json(self) -> dict[str, Any]:
        """The session as JSON data (``log list --json``, ``GET /api/sessions``)."""
        return {
            "id": self.id,
            "at": format_at(self.at),
            "routine": self.routine,
            "routine_hash": self.routine_hash,
            "programme": self.programme,
            "week": self.week,
            "done": self.done,
            "pain_before": self.pain_before,
            "pain_after": self.pain_after,
            "felt": self.felt,
            "warnings": list(self.warnings),
            "note": self.note,
        }

    @property
    def what(self) -> str:
        """What was played, as people say it: "standard" or "six-weeks week 3"."""
        return f"{self.programme} week {self.week}" if self.programme else self.routine


def routine_hash(settings: Mapping[str, Any]) -> str:
    """16 hex digits naming a routine's settings (a manifest's ``routine``), whatever the key order."""
    text = json.dumps(settings, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def format_at(at: dt.datetime) -> str:
    """A session's time as stored: ISO 8601 to the second with its UTC offset."""
    return at.isoformat(timespec="seconds")


def parse_at(text: str, *, default_tz: dt.tzinfo | None = None) -> dt.datetime:
    """An ISO 8601 date and time; without an offset it is taken in ``default_tz`` (refused if None).

    Fractions of a second are dropped: a session is placed to the second.
    """
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"  # Python 3.10's fromisoformat does not read "Z"
    try:
        at = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"'{text}' is not a date and time") from None
    if at.tzinfo is None:
        if default_tz is None:
            raise ValueError(f"'{text}' has no time zone; add one, like 2026-12-01T18:30:00+00:00")
        at = at.replace(tzinfo=default_tz)
    if not 2000 <= at.year <= 2200:
        raise ValueError(f"'{text}' is not a plausible date for a session")
    return at.replace(microsecond=0)


def _field(where: Where | None, name: str) -> Where:
    if where is None:
        return Where(field=name)
    return Where(where.path, where.line, where.column, name)


def session_from_fields(
    raw: Mapping[str, str | None], *, where: Where | None = None, default_tz: dt.tzinfo | None = None
) -> Session:
    """A checked session from text fields (CSV cells, options, JSON strings); InputError naming the field.

    Unknown fields are refused, so a misspelt column is never silently dropped.
    """
    unknown = sorted(set(raw) - set(FIELDS))
    if unknown:
        raise InputError(
            f"unknown field '{unknown[0]}'", where=where, fix=f"The fields are: {', '.join(FIELDS)}."
        )

    def text(name: str) -> str:
        value = raw.get(name)
        return "" if value is None else value.strip()

    def bad(name: str, problem: str, fix: str) -> InputError:
        return InputError(problem, where=_field(where, name), fix=fix)

    for name in REQUIRED:
        if not text(name):
            raise bad(
                name, f"'{name}' is missing", f"Give {name}; the required fields are {', '.join(REQUIRED)}."
            )
    ident = text("id")
    if not _ID.fullmatch(ident):
        raise bad("id", f"id '{ident[:70]}' is not 8 to 64 letters, digits, '-' or '_'", "Use a UUID.")
    try:
        at = parse_at(text("at"), default_tz=default_tz)
    except ValueError as err:
        raise bad("at", str(err), "Write the time as ISO 8601, e.g. 2026-12-01T18:30:00+00:00.") from None
    routine = text("routine")
    if not _SLUG.fullmatch(routine):
        raise bad(
            "routine",
            f"routine '{routine[:90]}' is not a routine name",
            "Use a name like standard or week-03.",
        )
    digest = text("routine_hash") or None
    if digest is not None and not _HASH.fullmatch(digest):
        raise bad(
            "routine_hash", f"routine_hash '{digest[:40]}' is not 16 hex digits", "Leave it empty or copy it."
        )
    programme = text("programme") or None
    if programme is not None and not _SLUG.fullmatch(programme):
        raise bad(
            "programme", f"programme '{programme[:90]}' is not a programme name", "Use a name like six-weeks."
        )
    week: int | None = None
    if text("week"):
        week = _whole(text("week"), 1, MAX_WEEK, bad, "week")
    if (programme is None) != (week is None):
        name = "week" if week is None else "programme"
        raise bad(name, "a programme's week needs both programme and week", "Give both, or neither.")
    done = text("done")
    if done not in DONE:
        raise bad("done", f"done '{done[:40]}' is not one of {', '.join(DONE)}", f"Use {' or '.join(DONE)}.")
    pain_before = _whole(text("pain_before"), *PAIN_RANGE, bad, "pain_before")
    pain_after = _whole(text("pain_after"), *PAIN_RANGE, bad, "pain_after")
    felt = text("felt")
    if felt not in FELT:
        raise bad("felt", f"felt '{felt[:40]}' is not one of {', '.join(FELT)}", f"Use {', '.join(FELT)}.")
    given = text("warnings").replace(",", " ").split()
    for sign in given:
        if sign not in WARNINGS:
            raise bad("warnings", f"'{sign[:40]}' is not a warning sign", f"Use {', '.join(WARNINGS)}.")
    warnings = tuple(sign for sign in WARNINGS if sign in given)
    note = raw.get("note") or None  # kept as written (inner spaces and newlines are the person's)
    if note is not None:
        if len(note) > MAX_NOTE:
            raise bad("note", f"the note is {len(note)} characters long", f"Keep it to {MAX_NOTE}.")
        if _CONTROL.search(note):
            raise bad("note", "the note holds control characters", "Write plain text.")
        if not note.strip():
            note = None
    return Session(
        id=ident,
        at=at,
        routine=routine,
        done=done,
        pain_before=pain_before,
        pain_after=pain_after,
        felt=felt,
        routine_hash=digest,
        programme=programme,
        week=week,
        warnings=warnings,
        note=note,
    )


def _whole(value: str, lo: int, hi: int, bad: Any, name: str) -> int:
    if not re.fullmatch(r"[0-9]{1,3}", value) or not lo <= int(value) <= hi:
        raise bad(
            name, f"{name} '{value[:40]}' is not a whole number from {lo} to {hi}", f"Use {lo} to {hi}."
        )
    return int(value)
