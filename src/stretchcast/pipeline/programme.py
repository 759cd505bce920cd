"""Build a programme (one track a week, through ``pipeline.build``) and record when it was started.

What a build writes, in ``<out>/<programme>/``: ``week-01.mp3`` ... with everything a routine track
has (manifest, captions, cover), then ``programme.json``, the programme's own manifest, last, so a
reader that finds it finds every week it names. ``programme start`` writes ``start.json`` beside it.
Both are written whole or not at all (``output.files.OutputSet``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stretchcast.content.programme import Programme, Week
from stretchcast.errors import UsageError
from stretchcast.output.files import OutputSet, check_outputs, json_text, remove_stale
from stretchcast.output.programme_files import PROGRAMME_MANIFEST, current_week, read_start, write_start
from stretchcast.pipeline import BuildOptions, BuildResult, build, plan, routine_dict
from stretchcast.version import __version__
from stretchcast.voices import Choice, Voice, choose_voice
from stretchcast.voices.cache import CueCache

PROGRAMME_FORMAT = 1
_WEEK_SUFFIXES = (".mp3", ".json", ".vtt", ".png", ".m3u8")
_WEEK_FILE = re.compile(r"week-\d{2}\.(?:mp3|json|vtt|png|m3u8)")


@dataclass(frozen=True)
class WeekPlan:
    """One row of ``programme show``: the week, what changes, and how long a session is."""

    number: int
    changes: str
    estimated_ms: int


def week_rows(programme: Programme) -> list[WeekPlan]:
    """Every week with what changed since the last (as the welcome says it) and its estimated length."""
    rows = []
    for week in programme.weeks:
        said = week.routine.notes[1] if len(week.routine.notes) > 1 else ""
        changes = said.removeprefix("This week: ").rstrip(".") if week.changes else "starting doses"
        if week.number > 1 and not week.changes:
            changes = "no change"
        rows.append(WeekPlan(week.number, changes, plan(week.routine).duration_ms))
    return rows


def programme_dict(programme: Programme) -> dict[str, Any]:
    """The programme as data: ``programme show --json`` and the base of ``programme.json``."""
    return {
        "title": programme.title,
        "slug": programme.slug,
        "description": programme.description,
        "sessions_per_week": programme.sessions_per_week,
        "weeks": [
            {
                "week": row.number,
                "name": week.name,
                "title": week.routine.title,
                "changes": row.changes,
                "said": list(week.routine.notes),
                "estimated_ms": row.estimated_ms,
                "routine": routine_dict(week.routine),
            }
            for row, week in zip(week_rows(programme), programme.weeks, strict=True)
        ],
    }


@dataclass(frozen=True)
class ProgrammeResult:
    """What a programme build wrote."""

    folder: Path
    manifest: Path
    weeks: tuple[BuildResult, ...]


def build_programme(
    programme: Programme,
    *,
    out_dir: Path,
    voice: Voice | Choice | str | None = None,
    offline: bool = False,
    options: BuildOptions | None = None,
    cache: CueCache | bool = True,
    on_week: Callable[[Week, BuildResult], None] | None = None,
) -> ProgrammeResult:
    """Build every week into ``<out_dir>/<slug>/week-NN.mp3``, then write ``programme.json``.

    One voice for every week (``voice`` chosen once by the caller, or here). Each week is a
    complete routine build; ``on_week`` is called after each, for progress.
    """
    folder = out_dir / programme.slug
    base = options or BuildOptions()
    # every week's files, before any week is spoken: a problem in week 6 must not cost weeks 1 to 5
    for week in programme.weeks:
        check_outputs(folder, week.name, split=base.split)
    if voice is None or isinstance(voice, str):
        voice = choose_voice(voice or "auto", offline=offline)  # once: every week in the same voice
    results: list[BuildResult] = []
    for week in programme.weeks:
        week_options = BuildOptions(
            out_dir=folder,
            sample_rate=base.sample_rate,
            bitrate=base.bitrate,
            name=week.name,
            split=base.split,
            year=base.year,
            encoder=base.encoder,
        )
        result = build(week.routine, voice=voice, offline=offline, options=week_options, cache=cache)
        results.append(result)
        if on_week is not None:
            on_week(week, result)
    data = programme_dict(programme)
    data = {
        "format": PROGRAMME_FORMAT,
        "generator": f"stretchcast {__version__}",
        "kind": "programme",
        **data,
        "voice": results[0].voice if results else None,
    }
    for entry, result in zip(data["weeks"], results, strict=True):
        entry["file"] = result.mp3.name
        entry["manifest"] = result.manifest.name
        entry["duration_ms"] = result.timeline.duration_ms
    manifest = folder / PROGRAMME_MANIFEST
    with OutputSet() as files:
        files.add_text(manifest, json_text(data))
        files.commit()
    # a longer earlier build's last weeks (week-07.* of a programme now six weeks long)
    keep = {f"{week.name}{suffix}" for week in programme.weeks for suffix in _WEEK_SUFFIXES}
    remove_stale(folder, keep, _WEEK_FILE)
    return ProgrammeResult(folder, manifest, tuple(results))


def parse_date(text: str) -> dt.date:
    """A date as written on the command line: YYYY-MM-DD."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"--on '{text}' is not a date", fix="Write it as YYYY-MM-DD, like 2026-12-01."
        ) from None


def record_start(programme: Programme, out_dir: Path, on: dt.date) -> Path:
    """Write ``<out_dir>/<slug>/start.json``: the day week 1 began (atomically)."""
    return write_start(out_dir / programme.slug, programme.slug, on)


__all__ = ["PROGRAMME_MANIFEST", "current_week", "read_start"]
