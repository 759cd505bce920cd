"""The log as CSV: ``log export --csv`` and ``log import --csv``, which round-trip exactly.

Export writes every field of every session (:data:`FIELDS`, a header first, UTF-8, ``\\r\\n`` rows
as RFC 4180 has them). Import reads at most :data:`MAX_BYTES`, checks every row before anything is
written (an error names the file, the line and the field), and adds them in one transaction: all
or nothing. Ids already in the log are skipped, so importing the same file twice adds nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from stretchcast.errors import InputError, Where
from stretchcast.log.model import FIELDS, Session, session_from_fields

MAX_BYTES = 4 * 1024 * 1024  # a session is ~200 bytes: 20,000 of them, years of practice
MAX_ROWS = 100_000


def to_csv(sessions: Iterable[Session]) -> str:
    """The sessions as CSV text, with a header."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=FIELDS, lineterminator="\r\n")
    writer.writeheader()
    for session in sessions:
        writer.writerow(session.fields())
    return out.getvalue()


def read_bounded(stream: BinaryIO, name: str, limit: int = MAX_BYTES) -> str:
    """At most ``limit`` bytes of ``stream`` as UTF-8 text; InputError if there are more, or not text."""
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise InputError(
            f"{name} is larger than {limit // (1024 * 1024)} MB, more than a log holds",
            fix="Check it is the file you meant; split it if it really is a log.",
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputError(
            f"{name} is not UTF-8 text (byte {err.start})", fix="Save it as UTF-8 CSV and import it again."
        ) from None


def from_csv(text: str, name: str | Path, *, default_tz: dt.tzinfo | None = None) -> list[Session]:
    """Every session in the CSV text, checked; InputError naming file, line and field at the first problem."""
    try:
        reader = csv.reader(io.StringIO(text, newline=""), strict=True)
        header = next(reader, None)
    except csv.Error as err:
        raise InputError(
            f"not CSV: {err}", where=Where(name, 1), fix="Export a log to see the format."
        ) from None
    if header is None:
        raise InputError(
            "the file is empty",
            where=Where(name),
            fix=f"The first line names the columns: {','.join(FIELDS)}.",
        )
    missing = [f for f in FIELDS if f not in header]
    unknown = [h for h in header if h not in FIELDS]
    if unknown or missing or len(set(header)) != len(header):
        problem = (
            f"unknown column '{unknown[0]}'"
            if unknown
            else f"column '{missing[0]}' is missing"
            if missing
            else "a column is named twice"
        )
        raise InputError(problem, where=Where(name, 1), fix=f"The columns are: {','.join(FIELDS)}.")
    sessions: list[Session] = []
    seen: dict[str, int] = {}
    line = reader.line_num
    try:
        for row in reader:
            where = Where(name, line + 1)
            line = reader.line_num  # a quoted note may span lines: the next row starts after this one
            if not row:
                continue
            if len(row) != len(header):
                raise InputError(
                    f"{len(row)} cells where the header has {len(header)}",
                    where=where,
                    fix="Quote a cell that holds a comma.",
                )
            if len(sessions) >= MAX_ROWS:
                raise InputError(f"more than {MAX_ROWS} sessions", where=where, fix="Split the file.")
            session = session_from_fields(
                dict(zip(header, row, strict=True)), where=where, default_tz=default_tz
            )
            if session.id in seen:
                raise InputError(
                    f"id {session.id} is also on line {seen[session.id]}",
                    where=Where(name, where.line, field="id"),
                    fix="Each session needs its own id.",
                )
            seen[session.id] = where.line or 0
            sessions.append(session)
    except csv.Error as err:
        raise InputError(
            f"not CSV: {err}", where=Where(name, reader.line_num), fix="Check the quotes."
        ) from None
    return sessions
