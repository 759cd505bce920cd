"""The session log: one SQLite file (the standard library's ``sqlite3``), and its key beside it.

Why these settings:

- **WAL** (``journal_mode=WAL``): readers (``log list``, ``GET /api/sessions``) never block the
  writer, and a commit is one append to the ``-wal`` file. A process killed at any point leaves
  either the whole transaction or none of it (tested by killing writers with SIGKILL).
- **synchronous=FULL**: each commit is on the disk before it is acknowledged, so an entry the phone
  was told was saved survives a power cut too (a check-in is a few hundred bytes; the fsync is cheap).
- **One connection per operation, ``BEGIN IMMEDIATE`` for writes, ``busy_timeout`` 30 s**: many
  threads and processes (the server's request threads, the command line) take turns at the write
  lock instead of failing with "database is locked".
- **The schema's version in ``PRAGMA user_version``**; :data:`MIGRATIONS` brings an older file up
  to date inside one transaction when it is opened, and a newer file is refused rather than misread.
- **Idempotent adds**: ``INSERT OR IGNORE`` on the unique client-made ``id``: a check-in sent twice
  (a retry after a dropped answer, the phone's queue) is recorded once.

The key (``<name>.key``, 128 random bits as 32 hex digits) is made with the database, readable and
writable by its owner only (0600), and guards ``/api/sessions``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import secrets
import sqlite3
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from stretchcast.errors import InputError, OutputError
from stretchcast.log.model import Session, format_at, parse_at

DB_NAME = "log.sqlite3"
BUSY_TIMEOUT_MS = 30_000

#: Each step takes the schema from version N to N + 1 (index N): applied in order, in one transaction.
MIGRATIONS: tuple[str, ...] = (
    # 0 -> 1: the sessions, each with the id its client made
    """
    CREATE TABLE sessions (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        at TEXT NOT NULL,
        routine TEXT NOT NULL,
        routine_hash TEXT,
        programme TEXT,
        week INTEGER,
        done TEXT NOT NULL CHECK (done IN ('full', 'partial')),
        pain_before INTEGER NOT NULL CHECK (pain_before BETWEEN 0 AND 10),
        pain_after INTEGER NOT NULL CHECK (pain_after BETWEEN 0 AND 10),
        felt TEXT NOT NULL CHECK (felt IN ('easy', 'right', 'hard')),
        warnings TEXT NOT NULL DEFAULT '',
        note TEXT
    );
    """,
    # 1 -> 2: progress reads a programme's sessions by week, and lists read by time
    """
    CREATE INDEX sessions_by_programme ON sessions (programme, week);
    CREATE INDEX sessions_by_time ON sessions (at);
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)
_COLUMNS = (
    "id, at, routine, routine_hash, programme, week, done, pain_before, pain_after, felt, warnings, note"
)


def default_path(environ: dict[str, str] | None = None) -> Path:
    """Where the log lives without ``--db``: ``$STRETCHCAST_DATA/log.sqlite3``, else the user data folder."""
    env = os.environ if environ is None else environ
    folder = env.get("STRETCHCAST_DATA")
    if folder:
        return Path(folder).expanduser() / DB_NAME
    import platformdirs

    return platformdirs.user_data_path("stretchcast", appauthor=False) / DB_NAME


def key_path(db: Path) -> Path:
    """The key file beside the database: ``log.sqlite3`` -> ``log.key``."""
    return db.with_name(f"{db.stem}.key")


@dataclass(frozen=True)
class Added:
    """What :meth:`Log.add_many` did: how many were new, and how many were already there (same id)."""

    added: int
    already: int


class Log:
    """The session log at ``path``: opened (made, migrated) on construction, then used by operation."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if path.exists() and not path.is_file():
            raise InputError(f"{path} is not a file", fix="Give the log's file with --db FILE.")
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as err:
            raise OutputError(f"cannot make the folder for the log, {path.parent}: {err.strerror}") from err
        if not path.exists():
            # a health record: owner-only from the start (SQLite gives -wal and -shm the same mode)
            with contextlib.suppress(FileExistsError):
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        with self._connect() as conn:
            self._migrate(conn)
        self._ensure_key()

    # -- connections

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        except sqlite3.Error as err:
            raise OutputError(f"cannot open the log {self.path}: {err}") from err
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode != "wal":
                raise OutputError(f"the log {self.path} cannot use write-ahead logging (mode {mode})")
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA foreign_keys = ON")
            yield conn
        except sqlite3.DatabaseError as err:
            raise OutputError(
                f"the log {self.path} cannot be used: {err}",
                fix="If it is not a stretchcast log, give another file with --db.",
            ) from err
        finally:
            conn.close()

    @contextlib.contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: the write lock taken at once (no upgrade deadlock), committed whole."""
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _migrate(self, conn: sqlite3.Connection) -> None:
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise InputError(
                f"the log {self.path} was written by a newer stretchcast (schema {version}, "
                f"this one knows up to {SCHEMA_VERSION})",
                fix="Upgrade stretchcast to read it.",
            )
        if version == SCHEMA_VERSION:
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            # read again under the lock: another process may have migrated meanwhile
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            for step in range(version, SCHEMA_VERSION):
                for statement in MIGRATIONS[step].split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {step + 1}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def schema_version(self) -> int:
        """The schema version the file is at (``PRAGMA user_version``)."""
        with self._connect() as conn:
            return int(conn.execute("PRAGMA user_version").fetchone()[0])

    # -- the key

    @property
    def key_file(self) -> Path:
        """Where the key is kept."""
        return key_path(self.path)

    def _ensure_key(self) -> None:
        if not self.key_file.exists():
            with contextlib.suppress(FileExistsError):  # another process made it first: keep theirs
                _write_key(self.key_file, secrets.token_hex(16), exclusive=True)

    def key(self) -> str:
        """The key, read from its file; the file is made owner-only again if someone widened it."""
        try:
            st = self.key_file.stat()
            if stat.S_IMODE(st.st_mode) & 0o077:
                self.key_file.chmod(0o600)
            text = self.key_file.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError) as err:
            raise OutputError(f"cannot read the log's key {self.key_file}: {err}") from err
        if len(text) != 32 or any(c not in "0123456789abcdef" for c in text):
            raise OutputError(
                f"the log's key {self.key_file} is damaged",
                fix="Make a new one: stretchcast log key --rotate",
            )
        return text

    def rotate_key(self) -> str:
        """A new key replaces the old one (whole: written beside it, then renamed over it)."""
        key = secrets.token_hex(16)
        scratch = self.key_file.with_name(f".{self.key_file.name}.{secrets.token_hex(4)}.tmp")
        try:
            _write_key(scratch, key, exclusive=True)
            scratch.replace(self.key_file)
        finally:
            with contextlib.suppress(FileNotFoundError):
                scratch.unlink()
        return key

    # -- sessions

    def add(self, session: Session) -> bool:
        """Record ``session``; False if a session with its id is already there (nothing changes)."""
        return self.add_many([session]).added == 1

    def add_many(self, sessions: Iterable[Session]) -> Added:
        """Record sessions in one transaction (all or none); those whose id is known are left alone."""
        rows = [_row(s) for s in sessions]
        with self._writing() as conn:
            added = 0
            for row in rows:
                added += conn.execute(
                    f"INSERT OR IGNORE INTO sessions ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", row
                ).rowcount
        return Added(added, len(rows) - added)

    def sessions(
        self, *, programme: str | None = None, since: dt.datetime | None = None, limit: int | None = None
    ) -> list[Session]:
        """Sessions in the order they happened (then as recorded); the latest ``limit`` if given."""
        where, params = [], []
        if programme is not None:
            where.append("programme = ?")
            params.append(programme)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        with self._connect() as conn:
            rows = conn.execute(f"SELECT {_COLUMNS} FROM sessions {clause} ORDER BY seq", params).fetchall()
        found = sorted((_session(row) for row in rows), key=lambda s: s.at)  # stable: seq within a time
        if since is not None:
            found = [s for s in found if s.at >= since]
        return found[-limit:] if limit else found

    def count(self) -> int:
        """How many sessions are recorded."""
        with self._connect() as conn:
            return int(conn.execute("SELECT count(*) FROM sessions").fetchone()[0])

    def integrity(self) -> str:
        """``PRAGMA integrity_check``'s answer: "ok" for a sound file."""
        with self._connect() as conn:
            return "; ".join(str(r[0]) for r in conn.execute("PRAGMA integrity_check"))


def _write_key(path: Path, key: str, *, exclusive: bool) -> None:
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    fd = os.open(path, flags, 0o600)  # owner-only from the first byte, whatever the umask
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(key + "\n")
        out.flush()
        os.fsync(out.fileno())


def _row(s: Session) -> tuple[object, ...]:
    return (
        s.id,
        format_at(s.at),
        s.routine,
        s.routine_hash,
        s.programme,
        s.week,
        s.done,
        s.pain_before,
        s.pain_after,
        s.felt,
        " ".join(s.warnings),
        s.note,
    )


def _session(row: tuple[object, ...]) -> Session:
    ident, at, routine, digest, programme, week, done, before, after, felt, warnings, note = row
    return Session(
        id=str(ident),
        at=parse_at(str(at)),
        routine=str(routine),
        done=str(done),
        pain_before=int(str(before)),
        pain_after=int(str(after)),
        felt=str(felt),
        routine_hash=None if digest is None else str(digest),
        programme=None if programme is None else str(programme),
        week=None if week is None else int(str(week)),
        warnings=tuple(str(warnings).split()),
        note=None if note is None else str(note),
    )
