"""The session log: its store, its checks, the command line, the CSV round trip, and nothing lost."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import random
import signal
import sqlite3
import stat
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stretchcast.cli.main import main
from stretchcast.errors import InputError, OutputError
from stretchcast.log import store
from stretchcast.log.csvio import MAX_BYTES, from_csv, read_bounded, to_csv
from stretchcast.log.model import FIELDS, WARNINGS, Session, routine_hash, session_from_fields
from stretchcast.log.store import MIGRATIONS, SCHEMA_VERSION, Log

UTC = dt.timezone.utc


def session(n: int = 0, **changes: object) -> Session:
    """A valid session, the n-th of a day's worth, with any field changed."""
    values: dict[str, object] = {
        "id": f"session-{n:08d}",
        "at": dt.datetime(2026, 11, 2, 8, 0, tzinfo=UTC) + dt.timedelta(hours=n),
        "routine": "standard",
        "done": "full",
        "pain_before": 3,
        "pain_after": 2,
        "felt": "right",
    }
    values.update(changes)
    return Session(**values)  # type: ignore[arg-type]


def fields(**changes: str | None) -> dict[str, str | None]:
    """Valid text fields, as a CSV row or the API give them, with any changed."""
    row: dict[str, str | None] = dict(session().fields())
    row.update(changes)
    return row


@pytest.fixture
def log(tmp_path: Path) -> Log:
    """A new, empty log in a temporary folder."""
    return Log(tmp_path / "data" / "log.sqlite3")


# --- the store ---------------------------------------------------------------------------------------


def test_add_and_read_back(log: Log) -> None:
    """A session added is read back with every field as it was."""
    s = session(
        1, note="Stiff\nthen better", warnings=("numbness",), programme="six-weeks", week=2, routine="week-02"
    )
    assert log.add(s) is True
    assert log.sessions() == [s]


def test_the_same_id_is_recorded_once(log: Log) -> None:
    """Adding a session whose id is already there changes nothing and says so."""
    assert log.add(session(1)) is True
    assert log.add(session(1, pain_after=9)) is False
    assert [s.pain_after for s in log.sessions()] == [2]


def test_file_settings(log: Log) -> None:
    """The log uses WAL, is at the newest schema, and its file and key are readable by the owner only."""
    with sqlite3.connect(log.path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert stat.S_IMODE(log.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(log.key_file.stat().st_mode) == 0o600
    assert log.key_file == log.path.with_name("log.key")
    key = log.key()
    assert len(key) == 32 and int(key, 16) >= 0  # 128 bits as hex


def test_key_rotates_and_stays_private(log: Log) -> None:
    """--rotate makes a new key, still owner-only; a key file widened by someone is narrowed again."""
    old = log.key()
    new = log.rotate_key()
    assert new != old and log.key() == new
    assert stat.S_IMODE(log.key_file.stat().st_mode) == 0o600
    log.key_file.chmod(0o644)
    assert log.key() == new
    assert stat.S_IMODE(log.key_file.stat().st_mode) == 0o600
    assert Log(log.path).key() == new  # opening again keeps the key


def test_an_older_schema_is_migrated_with_its_sessions(tmp_path: Path) -> None:
    """A file at schema 1 (no indexes) is brought to the newest schema on open, its sessions kept."""
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.executescript(MIGRATIONS[0])
        conn.execute("PRAGMA user_version = 1")
        conn.execute(
            "INSERT INTO sessions (id, at, routine, done, pain_before, pain_after, felt) "
            "VALUES ('old-session-1', '2026-10-01T09:00:00+00:00', 'gentle', 'partial', 4, 3, 'easy')"
        )
    log = Log(path)
    assert log.schema_version() == SCHEMA_VERSION == 2
    with sqlite3.connect(path) as conn:
        indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {"sessions_by_programme", "sessions_by_time"} <= indexes
    assert [(s.id, s.routine, s.done) for s in log.sessions()] == [("old-session-1", "gentle", "partial")]


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    """A log written by a newer stretchcast is refused with a plain message, never misread."""
    path = tmp_path / "new.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(InputError, match="newer stretchcast"):
        Log(path)


def test_not_a_database(tmp_path: Path) -> None:
    """A file that is not SQLite is reported as unusable, naming it."""
    path = tmp_path / "notes.txt"
    path.write_text("these are my notes, not a database\n" * 100)
    with pytest.raises(OutputError, match=r"notes\.txt"):
        Log(path)


def test_default_path_follows_the_environment(tmp_path: Path) -> None:
    """$STRETCHCAST_DATA names the folder; without it, the platform's user data folder."""
    assert store.default_path({"STRETCHCAST_DATA": str(tmp_path)}) == tmp_path / "log.sqlite3"
    fallback = store.default_path({})
    assert fallback.name == "log.sqlite3" and "stretchcast" in fallback.parts


# --- the checks --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("id", "short"),
        ("id", "has space in it"),
        ("at", "yesterday"),
        ("at", "2026-11-02T08:00:00"),  # no zone, and none to assume
        ("routine", "Standard Routine"),
        ("routine_hash", "xyz"),
        ("programme", "Six Weeks"),
        ("week", "0"),
        ("week", "two"),
        ("done", "mostly"),
        ("pain_before", "11"),
        ("pain_before", "-1"),
        ("pain_after", "2.5"),
        ("felt", "fine"),
        ("warnings", "headache"),
        ("note", "x" * 501),
        ("note", "bell\x07"),
    ],
)
def test_each_field_is_checked(field: str, value: str) -> None:
    """A bad value is refused with an error naming its field."""
    row = fields(**{field: value})
    if field == "week":
        row["programme"] = "six-weeks"
    with pytest.raises(InputError) as caught:
        session_from_fields(row)
    assert caught.value.where is not None and caught.value.where.field == field


def test_programme_and_week_go_together() -> None:
    """A programme without a week (or a week without a programme) is refused."""
    with pytest.raises(InputError, match="both programme and week"):
        session_from_fields(fields(programme="six-weeks"))
    with pytest.raises(InputError, match="both programme and week"):
        session_from_fields(fields(week="2"))


def test_unknown_field_is_refused() -> None:
    """A field the log does not know is refused, not dropped."""
    with pytest.raises(InputError, match="unknown field 'mood'"):
        session_from_fields({**fields(), "mood": "ok"})


def test_time_without_zone_takes_the_local_one() -> None:
    """A time with no zone is read in the zone given (the command line's own)."""
    tz = dt.timezone(dt.timedelta(hours=1))
    s = session_from_fields(fields(at="2026-11-02T08:00:30.75"), default_tz=tz)
    assert s.at == dt.datetime(2026, 11, 2, 8, 0, 30, tzinfo=tz)


def test_routine_hash_ignores_key_order() -> None:
    """The same settings in any key order give the same 16-digit hash; different settings another."""
    a = routine_hash({"slug": "standard", "rounds": 1, "items": [{"reps": 6}]})
    b = routine_hash({"items": [{"reps": 6}], "rounds": 1, "slug": "standard"})
    c = routine_hash({"items": [{"reps": 7}], "rounds": 1, "slug": "standard"})
    assert a == b != c and len(a) == 16


# --- CSV ---------------------------------------------------------------------------------------------

_text = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=80)
_note = _text.filter(lambda t: not any((ord(c) < 32 and c not in "\t\n") or c == "\x7f" for c in t))
_slug = st.from_regex(r"[a-z0-9][a-z0-9-]{0,20}", fullmatch=True)
_sessions = st.builds(
    Session,
    id=st.from_regex(r"[A-Za-z0-9_-]{8,40}", fullmatch=True),
    at=st.datetimes(
        min_value=dt.datetime(2001, 1, 1),
        max_value=dt.datetime(2199, 1, 1),
        timezones=st.sampled_from(
            [UTC, dt.timezone(dt.timedelta(hours=5, minutes=30)), dt.timezone(dt.timedelta(hours=-8))]
        ),
    ).map(lambda d: d.replace(microsecond=0)),
    routine=_slug,
    done=st.sampled_from(["full", "partial"]),
    pain_before=st.integers(0, 10),
    pain_after=st.integers(0, 10),
    felt=st.sampled_from(["easy", "right", "hard"]),
    routine_hash=st.none() | st.from_regex(r"[0-9a-f]{16}", fullmatch=True),
    programme=st.none(),
    week=st.none(),
    warnings=st.lists(st.sampled_from(list(WARNINGS)), unique=True).map(
        lambda ws: tuple(w for w in WARNINGS if w in ws)
    ),
    note=st.none() | _note.filter(lambda t: bool(t.strip())),
)
_programme_sessions = st.builds(
    lambda s, p, w: Session(**{**s.__dict__, "programme": p, "week": w}), _sessions, _slug, st.integers(1, 52)
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_sessions | _programme_sessions, max_size=8, unique_by=lambda s: s.id))
def test_csv_round_trips_exactly(tmp_path: Path, sessions: list[Session]) -> None:
    """Export then import gives the same sessions, and exporting them again gives the same bytes."""
    text = to_csv(sessions)
    back = from_csv(text, "log.csv")
    assert back == sessions
    assert to_csv(back) == text
    db = Log(Path(tempfile.mkdtemp(dir=tmp_path)) / "log.sqlite3")  # a new log for each example
    db.add_many(back)
    assert to_csv(db.sessions()) == to_csv(sorted(sessions, key=lambda s: s.at))


def test_csv_errors_name_file_line_and_field() -> None:
    """A bad cell is reported with the file, its line (quoted newlines counted) and the field."""
    good = session(1, note="two\nlines")
    bad = session(2).fields() | {"pain_after": "12"}
    text = to_csv([good]) + ",".join(bad[f] for f in FIELDS) + "\r\n"
    with pytest.raises(InputError) as caught:
        from_csv(text, "mine.csv")
    assert str(caught.value.where) == "mine.csv, line 4, field 'pain_after'"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("id,at\r\n", "column 'routine' is missing"),
        (",".join([*FIELDS, "mood"]) + "\r\n", "unknown column 'mood'"),
        (",".join(FIELDS) + "\r\na,b\r\n", "2 cells where the header has 12"),
        (",".join(FIELDS) + '\r\n"unclosed,\r\n', "not CSV"),
    ],
)
def test_csv_shape_errors(text: str, message: str) -> None:
    """A file that is not the log's CSV is refused with what is wrong."""
    with pytest.raises(InputError, match=message):
        from_csv(text, "x.csv")


def test_csv_same_id_twice_is_refused() -> None:
    """Two rows with one id are refused, naming both lines."""
    text = to_csv([session(1), session(1, pain_after=4)])
    with pytest.raises(InputError, match="also on line 2"):
        from_csv(text, "x.csv")


def test_read_bounded() -> None:
    """Reads stop at the limit: more is refused plainly, and bytes that are not UTF-8 too."""
    assert read_bounded(io.BytesIO(b"\xef\xbb\xbfid\n"), "x.csv") == "id\n"
    with pytest.raises(InputError, match="larger than 4 MB"):
        read_bounded(io.BytesIO(b"a" * (MAX_BYTES + 1)), "x.csv")
    with pytest.raises(InputError, match="not UTF-8"):
        read_bounded(io.BytesIO(b"id\n\xff"), "x.csv")


# --- the command line --------------------------------------------------------------------------------


def test_cli_add_list_export_import(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """log add records, list and list --json show it, export writes CSV, import into another log round-trips."""
    db = tmp_path / "a.sqlite3"
    assert (
        main(
            [
                "log",
                "add",
                "--routine",
                "standard",
                "--done",
                "full",
                "--pain-before",
                "3",
                "--pain-after",
                "2",
                "--felt",
                "right",
                "--note",
                "felt loose",
                "--at",
                "2026-11-23T18:00:00+00:00",
                "--db",
                str(db),
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "log",
                "add",
                "--programme",
                "six-weeks",
                "--week",
                "2",
                "--done",
                "partial",
                "--pain-before",
                "4",
                "--pain-after",
                "4",
                "--felt",
                "hard",
                "--warning",
                "numbness",
                "--at",
                "2026-11-24T18:00:00+00:00",
                "--db",
                str(db),
            ]
        )
        == 0
    )
    out = capsys.readouterr()
    assert "Recorded:" in out.out and "see a clinician" in out.err.lower()
    assert main(["log", "list", "--db", str(db)]) == 0
    listed = capsys.readouterr().out
    assert "standard" in listed and "six-weeks week 2" in listed and "WARNING: numbness" in listed
    assert main(["log", "list", "--json", "--db", str(db)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [d["routine"] for d in data] == ["standard", "week-02"]
    assert (
        data[1]["programme"] == "six-weeks" and data[1]["week"] == 2 and data[1]["warnings"] == ["numbness"]
    )
    assert data[0]["note"] == "felt loose" and len(data[0]["routine_hash"]) == 16
    csv_file = tmp_path / "out" / "log.csv"
    assert main(["log", "export", "--csv", "-o", str(csv_file), "--db", str(db)]) == 0
    assert stat.S_IMODE(csv_file.stat().st_mode) == 0o600
    other = tmp_path / "b.sqlite3"
    assert main(["log", "import", "--csv", str(csv_file), "--db", str(other)]) == 0
    assert "Imported 2 sessions; 0 already recorded." in capsys.readouterr().out
    assert main(["log", "import", "--csv", str(csv_file), "--db", str(other)]) == 0
    assert "Imported 0 sessions; 2 already recorded." in capsys.readouterr().out
    assert main(["log", "export", "--csv", "--db", str(other)]) == 0
    assert capsys.readouterr().out == csv_file.read_bytes().decode("utf-8")


def test_cli_routine_hash_matches_the_built_manifest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The hash log add records for a preset is the one the served page computes from its manifest."""
    from stretchcast.content import load_collection, load_routine
    from stretchcast.pipeline import routine_dict

    routine = load_routine(load_collection(), "standard")
    manifest_routine = json.loads(json.dumps(routine_dict(routine)))
    db = tmp_path / "a.sqlite3"
    main(
        [
            "log",
            "add",
            "--routine",
            "standard",
            "--done",
            "full",
            "--pain-before",
            "1",
            "--pain-after",
            "1",
            "--felt",
            "easy",
            "--db",
            str(db),
        ]
    )
    assert Log(db).sessions()[0].routine_hash == routine_hash(manifest_routine)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--pain-before", "12"], "--pain-before: pain_before '12' is not a whole number from 0 to 10"),
        (["--done", "most"], "--done: done 'most' is not one of full, partial"),
        (["--felt", "meh"], "--felt: felt 'meh'"),
        (["--at", "tomorrow"], "--at: 'tomorrow' is not a date and time"),
        (["--warning", "cramp"], "--warning: 'cramp' is not a warning sign"),
        (["--week", "2"], "--week goes with --programme"),
    ],
)
def test_cli_add_bad_input_exits_2_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    """A bad option exits 2 naming it, and the log gets no session."""
    base = {"--done": "full", "--pain-before": "3", "--pain-after": "2", "--felt": "right"}
    for option, value in zip(args[::2], args[1::2], strict=True):
        base[option] = value
    argv = [
        "log",
        "add",
        "--routine",
        "standard",
        *[x for kv in base.items() for x in kv],
        "--db",
        str(tmp_path / "l.sqlite3"),
    ]
    assert main(argv) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "l.sqlite3").exists() or Log(tmp_path / "l.sqlite3").count() == 0


def test_cli_import_bad_file_exits_2_and_adds_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One bad row anywhere: exit 2 naming file, line and field; none of the good rows are added."""
    rows = [session(n).fields() for n in range(5)]
    rows[3]["felt"] = "grand"
    path = tmp_path / "bad.csv"
    path.write_text(
        ",".join(FIELDS) + "\r\n" + "".join(",".join(r[f] for f in FIELDS) + "\r\n" for r in rows),
        encoding="utf-8",
    )
    db = tmp_path / "l.sqlite3"
    assert main(["log", "import", "--csv", str(path), "--db", str(db)]) == 2
    assert f"{path}, line 5, field 'felt': felt 'grand'" in capsys.readouterr().err
    assert not db.exists()
    big = tmp_path / "big.csv"
    big.write_bytes(b"x" * (MAX_BYTES + 10))
    assert main(["log", "import", "--csv", str(big), "--db", str(db)]) == 2
    assert "larger than 4 MB" in capsys.readouterr().err
    assert main(["log", "import", "--csv", str(tmp_path / "missing.csv"), "--db", str(db)]) == 2


def test_cli_import_from_standard_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """log import --csv - reads the CSV from standard input, bounded like a file."""
    text = to_csv([session(1), session(2)])
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode("utf-8"))))
    db = tmp_path / "l.sqlite3"
    assert main(["log", "import", "--csv", "-", "--db", str(db)]) == 0
    assert "Imported 2 sessions" in capsys.readouterr().out
    assert Log(db).sessions() == [session(1), session(2)]


def test_cli_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """log key prints the key; --rotate prints a new one and the old one stops working."""
    db = tmp_path / "l.sqlite3"
    assert main(["log", "key", "--db", str(db)]) == 0
    first = capsys.readouterr().out.strip()
    assert main(["log", "key", "--rotate", "--db", str(db)]) == 0
    second = capsys.readouterr().out.strip()
    assert len(first) == len(second) == 32 and first != second
    assert Log(db).key() == second


def test_cli_uses_stretchcast_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --db the log is $STRETCHCAST_DATA/log.sqlite3."""
    monkeypatch.setenv("STRETCHCAST_DATA", str(tmp_path / "data"))
    assert main(["log", "list"]) == 0
    assert str(tmp_path / "data" / "log.sqlite3") in capsys.readouterr().out


# --- nothing lost ------------------------------------------------------------------------------------

WRITER = textwrap.dedent(
    """
    import datetime as dt, sys
    from stretchcast.log.model import Session
    from stretchcast.log.store import Log
    log = Log(__import__("pathlib").Path(sys.argv[1]))
    prefix, count, batch = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    at = dt.datetime(2026, 11, 2, tzinfo=dt.timezone.utc)
    for n in range(count):
        items = [
            Session(id=f"{prefix}-{n:05d}-{b}", at=at, routine="standard", done="full", pain_before=3,
                    pain_after=2, felt="right", note="x" * 400)
            for b in range(batch)
        ]
        log.add_many(items)
        print(n, flush=True)  # said only after the commit returned
    """
)


def _writer(db: Path, prefix: str, count: int, batch: int = 1) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(db), prefix, str(count), str(batch)],
        stdout=subprocess.PIPE,
        text=True,
    )


def test_many_writers_lose_nothing(tmp_path: Path) -> None:
    """Threads, processes, HTTP clients and the command line writing at once: every entry is there, once."""
    from stretchcast.serve.server import start_background

    from ._library import fetch

    db = tmp_path / "l.sqlite3"
    log = Log(db)
    folder = tmp_path / "audio"
    folder.mkdir()
    processes = [_writer(db, f"proc{p}", 40) for p in range(3)]
    errors: list[BaseException] = []

    def thread_writer(t: int) -> None:
        try:
            mine = Log(db)
            for n in range(40):
                mine.add(session(0, id=f"thread{t}-{n:05d}"))
        except BaseException as err:  # reported below: a thread's failure must fail the test
            errors.append(err)

    def http_writer(h: int, url: str, key: str) -> None:
        try:
            for n in range(25):
                body = json.dumps(session(0, id=f"http{h}-{n:05d}").as_json())
                headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}
                reply = fetch_post(url, body, headers)
                assert reply == 201, reply
                assert fetch_post(url, body, headers) == 200  # the retry: recorded once
        except BaseException as err:
            errors.append(err)

    def fetch_post(url: str, body: str, headers: dict[str, str]) -> int:
        import http.client
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=60)
        try:
            conn.request("POST", "/api/sessions", body=body.encode(), headers=headers)
            return conn.getresponse().status
        finally:
            conn.close()

    with start_background(folder, log=log) as running:
        threads = [threading.Thread(target=thread_writer, args=(t,)) for t in range(4)]
        threads += [threading.Thread(target=http_writer, args=(h, running.url, log.key())) for h in range(3)]
        for t in threads:
            t.start()
        for n in range(3):
            assert (
                main(
                    [
                        "log",
                        "add",
                        "--routine",
                        "gentle",
                        "--done",
                        "full",
                        "--pain-before",
                        "2",
                        "--pain-after",
                        "1",
                        "--felt",
                        "easy",
                        "--id",
                        f"cli-{n:05d}",
                        "--db",
                        str(db),
                    ]
                )
                == 0
            )
        for t in threads:
            t.join()
        for p in processes:
            p.communicate(timeout=120)
            assert p.returncode == 0
        assert (
            fetch(running.url, "/api/sessions", headers={"Authorization": f"Bearer {log.key()}"}).status
            == 200
        )
    assert errors == []
    ids = {s.id for s in log.sessions()}
    assert log.count() == len(ids) == 3 * 40 + 4 * 40 + 3 * 25 + 3
    assert {f"http2-{n:05d}" for n in range(25)} <= ids and {f"proc1-{n:05d}-0" for n in range(40)} <= ids
    assert log.integrity() == "ok"


def test_a_killed_writer_leaves_a_sound_log_with_every_commit(tmp_path: Path) -> None:
    """Writers killed with SIGKILL at random points: integrity_check passes and every acknowledged commit is there."""
    rng = random.Random(16)
    db = tmp_path / "l.sqlite3"
    Log(db)
    acknowledged: set[str] = set()
    for round_ in range(6):
        stop_after = rng.randint(1, 30)
        writer = _writer(db, f"r{round_}", 10_000, batch=20)
        assert writer.stdout is not None
        for _ in range(stop_after):
            line = writer.stdout.readline()
            assert line, "the writer ended early"
            n = int(line)
            acknowledged |= {f"r{round_}-{n:05d}-{b}" for b in range(20)}
        time.sleep(rng.uniform(0, 0.03))  # a random point within the next transactions (~15 ms each)
        os.kill(writer.pid, signal.SIGKILL)
        writer.communicate()
        assert writer.returncode == -signal.SIGKILL
        log = Log(db)
        assert log.integrity() == "ok"
        ids = {s.id for s in log.sessions()}
        assert acknowledged <= ids
        # a transaction is whole or absent: every batch is all twenty or none
        batches: dict[str, int] = {}
        for ident in ids:
            batches[ident.rsplit("-", 1)[0]] = batches.get(ident.rsplit("-", 1)[0], 0) + 1
        assert set(batches.values()) == {20}
