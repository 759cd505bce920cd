"""Progress from the log: sessions per week against the target, pain over time, and what to do next.

The suggestion comes from explicit rules, checked in this order; the first that applies is given,
with its reason (the sessions it looked at) and its source:

1. **Stop and see a clinician**: any warning sign (pain spreading down a leg, numbness, new
   weakness) in the week under review, or pain after a session at 5/10 or more. Never a progression.
   The words are the content's own cautions (``collection.yaml``).
2. **Step back a week**: pain went up during half or more of the week's sessions, or half or more
   felt hard (NHS: drop back if it is too hard; in a flare-up reduce rather than stop).
3. **Move to the next week**: at least the week's target of sessions, every one done in full, none
   felt hard, and pain after never above pain before (NHS: move up when it feels consistently
   easier and discomfort settles; keep the same amount for at least a week).
4. **Stay on this week** otherwise, saying what is still missing.

The week under review is, with a programme, the highest week the log has sessions for (the track
being played); without one, the latest calendar week (Monday to Sunday) with sessions.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stretchcast.log.model import WARNINGS, Session
from stretchcast.log.store import Log

#: Pain after a session at or above this (0-10) stops progression: see a clinician.
STOP_PAIN = 5
#: Without a programme, the sessions a week to aim for (NHS: three to five a week).
DEFAULT_TARGET = 3

SOURCE_CAUTIONS = "content/si-joint/collection.yaml, cautions (the tracks speak them)"
SOURCE_STEP_BACK = (
    "Royal Orthopaedic Hospital NHS Foundation Trust, four-stage exercise programme (drop back if it is too "
    "hard); Arthritis Research Campaign leaflet HO13 (in a flare-up reduce rather than stop); "
    "see content/si-joint/SOURCES.md"
)
SOURCE_MOVE = (
    "Royal Orthopaedic Hospital NHS Foundation Trust (move up when it feels consistently easier and "
    "discomfort settles within 24 hours; three to five sessions a week); Sherwood Forest Hospitals NHS "
    "Foundation Trust (keep the same amount for at least a week); see content/si-joint/SOURCES.md"
)
SOURCE_STAY = SOURCE_MOVE
_FALLBACK_STOP = "Stop, and see a clinician before you carry on."


@dataclass(frozen=True)
class Suggestion:
    """What to do next: ``stop``, ``step-back``, ``move`` or ``stay``, in words, why, and on whose advice."""

    action: str
    advice: str
    reason: str
    source: str


@dataclass(frozen=True)
class WeekCount:
    """Sessions in one week against the target."""

    label: str  # "week 3" or "2026-11-30" (the Monday)
    sessions: int
    target: int


@dataclass(frozen=True)
class Report:
    """Everything ``stretchcast progress`` and the notebook show."""

    programme: str | None
    title: str | None
    target: int
    weeks: tuple[WeekCount, ...]
    sessions: tuple[Session, ...]
    reviewed: str  # which week the suggestion looked at
    suggestion: Suggestion
    calendar_week: int | None = None  # by the recorded start date
    last_week: int | None = None

    def as_json(self) -> dict[str, Any]:
        """The report as data (``progress --json``)."""
        return {
            "programme": self.programme,
            "title": self.title,
            "target": self.target,
            "calendar_week": self.calendar_week,
            "weeks": [{"week": w.label, "sessions": w.sessions, "target": w.target} for w in self.weeks],
            "pain": [
                {
                    "at": s.at.isoformat(),
                    "before": s.pain_before,
                    "after": s.pain_after,
                    "warnings": list(s.warnings),
                }
                for s in self.sessions
            ],
            "reviewed": self.reviewed,
            "suggestion": {
                "action": self.suggestion.action,
                "advice": self.suggestion.advice,
                "reason": self.suggestion.reason,
                "source": self.suggestion.source,
            },
        }


def stop_advice(cautions: Sequence[str], warnings: Sequence[str], pain_after: int | None) -> str:
    """The advice to stop and see a clinician, in the content's own cautions, for what came up."""
    said: list[str] = []
    stop = next((c for c in cautions if c.startswith("Stop if")), _FALLBACK_STOP)
    said.append(stop)
    if {"numbness", "weakness"} & set(warnings):
        said.extend(c for c in cautions if "red flags" in c)
    if pain_after is not None and pain_after >= STOP_PAIN:
        said.extend(c for c in cautions if "not improving" in c)
    return " ".join(dict.fromkeys(said))


def suggest(
    reviewed: Sequence[Session],
    *,
    target: int,
    cautions: Sequence[str],
    week: int | None = None,
    last_week: int | None = None,
) -> Suggestion:
    """The rules above, applied to the sessions of the week under review."""
    if not reviewed:
        return Suggestion(
            "stay",
            "Play a session and record how it went (stretchcast log add, or the check-in on the phone).",
            "No sessions recorded for this yet.",
            SOURCE_STAY,
        )
    flagged = [s for s in reviewed if s.warnings]
    hurt = [s for s in reviewed if s.pain_after >= STOP_PAIN]
    if flagged or hurt:
        signs = sorted({w for s in flagged for w in s.warnings}, key=list(WARNINGS).index)
        reasons = []
        if flagged:
            reasons.append(
                f"{_count(len(flagged), 'session')} with a warning sign ("
                + ", ".join(WARNINGS[w] for w in signs)
                + f"), last on {flagged[-1].at:%Y-%m-%d}"
            )
        if hurt:
            worst = max(s.pain_after for s in hurt)
            reasons.append(f"pain after a session at {worst}/10 (5 or more stops progression)")
        pain = max(s.pain_after for s in reviewed)
        return Suggestion(
            "stop",
            stop_advice(cautions, signs, pain),
            "; ".join(reasons).capitalize() + ".",
            SOURCE_CAUTIONS,
        )
    n = len(reviewed)
    rose = [s for s in reviewed if s.pain_after > s.pain_before]
    hard = [s for s in reviewed if s.felt == "hard"]
    if 2 * len(rose) >= n or 2 * len(hard) >= n:
        back = f"Go back to week {week - 1}" if week and week > 1 else "Step back to a gentler routine"
        why = []
        if 2 * len(rose) >= n:
            why.append(f"pain went up during {len(rose)} of {n} sessions")
        if 2 * len(hard) >= n:
            why.append(f"{len(hard)} of {n} felt hard")
        return Suggestion(
            "step-back",
            f"{back} until it feels comfortable again; reduce rather than stop.",
            "; ".join(why).capitalize() + ".",
            SOURCE_STEP_BACK,
        )
    missing = []
    if n < target:
        missing.append(f"{n} of the {target} sessions this week")
    partial = [s for s in reviewed if s.done != "full"]
    if partial:
        missing.append(f"{len(partial)} done only in part")
    if hard:
        missing.append(f"{len(hard)} felt hard")
    if rose:
        missing.append(f"pain went up during {len(rose)}")
    if missing:
        return Suggestion(
            "stay",
            "Stay on this week: keep the same amount until it feels consistently easier.",
            "; ".join(missing).capitalize() + ".",
            SOURCE_STAY,
        )
    if week is not None and last_week is not None and week >= last_week:
        advice = f"You have done the programme's last week: keep going at week {week}'s amount."
    elif week is not None:
        advice = f"Move to week {week + 1}."
    else:
        advice = "Move up a small step: one more rep, or a second longer hold, on one exercise."
    return Suggestion(
        "move",
        advice,
        f"{_count(n, 'session')} of {target}, all in full, none hard, and pain never higher afterwards.",
        SOURCE_MOVE,
    )


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'s' * (n != 1)}"


def monday(day: dt.date) -> dt.date:
    """The Monday of ``day``'s week."""
    return day - dt.timedelta(days=day.weekday())


def report(
    sessions: Sequence[Session],
    *,
    cautions: Sequence[str],
    programme: str | None = None,
    title: str | None = None,
    target: int | None = None,
    weeks_in_programme: int | None = None,
    started: dt.date | None = None,
    today: dt.date | None = None,
) -> Report:
    """The report for ``sessions`` (already only the programme's, when there is one)."""
    aim = target or DEFAULT_TARGET
    if programme is not None:
        counts = Counter(s.week for s in sessions if s.week is not None)
        last = max(counts) if counts else None
        upto = max(last or 1, weeks_in_programme or 0)
        weeks = tuple(WeekCount(f"week {n}", counts.get(n, 0), aim) for n in range(1, upto + 1))
        reviewed = [s for s in sessions if s.week == last]
        label = f"week {last}" if last else "no week yet"
        suggestion = suggest(reviewed, target=aim, cautions=cautions, week=last, last_week=weeks_in_programme)
    else:
        by_monday = Counter(monday(s.at.date()) for s in sessions)
        if by_monday:
            first, newest = min(by_monday), max(by_monday)
            mondays = [first + dt.timedelta(weeks=k) for k in range((newest - first).days // 7 + 1)]
        else:
            mondays = []
        weeks = tuple(WeekCount(m.isoformat(), by_monday.get(m, 0), aim) for m in mondays)
        reviewed = [s for s in sessions if mondays and monday(s.at.date()) == mondays[-1]]
        label = f"the week of {mondays[-1].isoformat()}" if mondays else "no week yet"
        suggestion = suggest(reviewed, target=aim, cautions=cautions)
    calendar = None
    if started is not None and today is not None and today >= started:
        calendar = (today - started).days // 7 + 1
    return Report(
        programme=programme,
        title=title,
        target=aim,
        weeks=weeks,
        sessions=tuple(sessions),
        reviewed=label,
        suggestion=suggestion,
        calendar_week=calendar,
        last_week=weeks_in_programme,
    )


def report_for(
    log: Log,
    *,
    content: Path | None = None,
    programme: str | None = None,
    out_dir: Path = Path("audio"),
    today: dt.date | None = None,
) -> Report:
    """The report from the log and the content: a programme's target and weeks, the start date if recorded."""
    from stretchcast.content import load_collection

    collection = load_collection(content)
    if programme is None:
        return report(log.sessions(), cautions=collection.cautions, today=today)
    from stretchcast.content.programme import load_programme
    from stretchcast.output.programme_files import read_start

    loaded = load_programme(collection, programme)
    return report(
        log.sessions(programme=loaded.slug),
        cautions=collection.cautions,
        programme=loaded.slug,
        title=loaded.title,
        target=loaded.sessions_per_week,
        weeks_in_programme=len(loaded.weeks),
        started=read_start(out_dir / loaded.slug),
        today=today,
    )


def report_text(r: Report) -> str:
    """The report as ``stretchcast progress`` prints it."""
    head = f"{r.title} ({r.programme})" if r.programme else "All sessions"
    lines = [f"{head}: {_count(len(r.sessions), 'session')}, aiming for {r.target} a week."]
    if r.calendar_week is not None:
        lines.append(f"By the day you started, this is week {r.calendar_week}.")
    if r.weeks:
        lines += ["", f"  {'week':<12} sessions"]
        for w in r.weeks:
            bar = "#" * w.sessions + "." * max(0, w.target - w.sessions)
            lines.append(f"  {w.label:<12} {w.sessions:>2} of {w.target}  {bar}")
    if r.sessions:
        lines += ["", "  pain before -> after (0-10), latest last:"]
        lines += [
            f"  {s.at.astimezone():%Y-%m-%d %H:%M}  {s.pain_before:>2} -> {s.pain_after:<2}  {s.felt}"
            + (f"  WARNING: {', '.join(s.warnings)}" if s.warnings else "")
            for s in r.sessions[-10:]
        ]
    g = r.suggestion
    marker = "STOP" if g.action == "stop" else "Next"
    lines += [
        "",
        f"Looking at {r.reviewed}.",
        f"{marker}: {g.advice}",
        f"  Why: {g.reason}",
        f"  Source: {g.source}",
    ]
    return "\n".join(lines)
