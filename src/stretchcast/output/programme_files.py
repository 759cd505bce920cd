"""A programme's files in its output folder: ``programme.json`` and ``start.json`` (the start date).

Kept apart from the build (``stretchcast.pipeline.programme``) so ``serve`` can read them without loading
the pipeline.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from stretchcast.content.reading import read_bounded
from stretchcast.errors import StretchcastError
from stretchcast.output.files import OutputSet, check_writable, json_text

PROGRAMME_MANIFEST = "programme.json"
START_FILE = "start.json"

MAX_START_BYTES = 4096  # start.json holds a slug and a date


def write_start(folder: Path, slug: str, on: dt.date) -> Path:
    """Write ``<folder>/start.json``, the day week 1 began, whole or not at all."""
    check_writable(folder.parent)
    path = folder / START_FILE
    with OutputSet() as files:
        files.add_text(path, json_text({"programme": slug, "started": on.isoformat()}))
        files.commit()
    return path


def read_start(folder: Path) -> dt.date | None:
    """The start date recorded in a programme's output folder, or None (missing or unreadable)."""
    try:
        data = json.loads(read_bounded(folder / START_FILE, MAX_START_BYTES, what="start file"))
        return dt.date.fromisoformat(data["started"])
    except (StretchcastError, ValueError, KeyError, TypeError):
        return None


def current_week(started: dt.date, today: dt.date, weeks: int) -> int | None:
    """The week of the programme ``today`` falls in (1-based), or None before the start or after the end."""
    days = (today - started).days
    if days < 0:
        return None
    week = days // 7 + 1
    return week if week <= weeks else None
