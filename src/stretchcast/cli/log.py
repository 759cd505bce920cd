"""``stretchcast log add|list|export|import|key`` and ``stretchcast progress``: the session log's commands."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from stretchcast.errors import InputError, UsageError
from stretchcast.log.model import WARNINGS, Session, format_at, session_from_fields

if TYPE_CHECKING:
    from stretchcast.log.store import Log

DB_HELP = "the log's file (default: $STRETCHCAST_DATA/log.sqlite3, else your user data folder)"


def add_db_option(p: argparse.ArgumentParser) -> None:
    """``--db FILE``, shared by every command that reads or writes the log (serve too)."""
    p.add_argument("--db", type=Path, metavar="FILE", help=DB_HELP)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``log`` (and its subcommands) and ``progress``."""
    p = sub.add_parser("log", help="the session log: add, list, export, import; the phone's key")
    lsub = p.add_subparsers(dest="log_command", metavar="SUBCOMMAND", required=True)

    p_add = lsub.add_parser("add", help="record a session")
    what = p_add.add_mutually_exclusive_group(required=True)
    what.add_argument("--routine", metavar="NAME", help="the routine played (a preset or a routine file)")
    what.add_argument("--programme", metavar="NAME", help="the programme whose week was played (with --week)")
    p_add.add_argument("--week", metavar="N", help="the programme's week")
    p_add.add_argument("--done", required=True, metavar="full|partial", help="all of it, or part")
    p_add.add_argument("--pain-before", required=True, metavar="0-10", help="pain before, 0 (none) to 10")
    p_add.add_argument("--pain-after", required=True, metavar="0-10", help="pain after, 0 (none) to 10")
    p_add.add_argument("--felt", required=True, metavar="easy|right|hard", help="how hard it felt")
    p_add.add_argument("--note", metavar="TEXT", help="a few words, if you like")
    p_add.add_argument(
        "--at", metavar="DATETIME", help="when (ISO 8601, local time if no zone; default: now)"
    )
    p_add.add_argument(
        "--warning",
        action="append",
        default=[],
        metavar="SIGN",
        help=f"a warning sign that came up (repeat for several): {', '.join(WARNINGS)}",
    )
    p_add.add_argument(
        "--id", metavar="ID", help="the session's id (default: a new UUID); a repeat adds nothing"
    )
    add_db_option(p_add)
    p_add.set_defaults(handler=_add)

    p_list = lsub.add_parser("list", help="the sessions recorded, oldest first")
    p_list.add_argument("--json", action="store_true", help="as JSON")
    p_list.add_argument("--last", type=int, metavar="N", help="only the last N")
    add_db_option(p_list)
    p_list.set_defaults(handler=_list)

    p_export = lsub.add_parser("export", help="every session as CSV (to standard output, or -o FILE)")
    p_export.add_argument("--csv", action="store_true", required=True, help="as CSV (the one format)")
    p_export.add_argument(
        "-o", "--out", type=Path, metavar="FILE", help="write to FILE (whole or not at all)"
    )
    add_db_option(p_export)
    p_export.set_defaults(handler=_export)

    p_import = lsub.add_parser("import", help="add the sessions of a CSV made by log export")
    p_import.add_argument(
        "--csv", required=True, metavar="FILE", help="the CSV file ('-' for standard input)"
    )
    add_db_option(p_import)
    p_import.set_defaults(handler=_import)

    p_key = lsub.add_parser("key", help="the key the phone page sends with each check-in")
    p_key.add_argument("--rotate", action="store_true", help="make a new key (phones must open the new link)")
    add_db_option(p_key)
    p_key.set_defaults(handler=_key)

    p_progress = sub.add_parser("progress", help="sessions per week, pain over time, and what to do next")
    p_progress.add_argument("--programme", metavar="NAME", help="measure against this programme's weeks")
    p_progress.add_argument(
        "-o", "--out", type=Path, default=Path("audio"), metavar="DIR", help="where it was built (start date)"
    )
    p_progress.add_argument("--plot", type=Path, metavar="PNG", help="also draw the plots into PNG")
    p_progress.add_argument("--json", action="store_true", help="as JSON")
    add_db_option(p_progress)
    p_progress.set_defaults(handler=_progress)


def open_log(args: argparse.Namespace) -> Log:
    """The log named by ``--db``, or the default one (made and migrated if need be)."""
    from stretchcast.log.store import Log, default_path

    return Log(args.db or default_path())


_OPTIONS = {
    "pain_before": "--pain-before",
    "pain_after": "--pain-after",
    "warnings": "--warning",
    "routine_hash": "--routine",
}


def _add(args: argparse.Namespace) -> int:
    from stretchcast.content import load_collection
    from stretchcast.log.model import routine_hash
    from stretchcast.pipeline import routine_dict

    collection = load_collection(args.content)
    if args.programme is not None:
        from stretchcast.content.programme import load_programme

        if args.week is None:
            raise UsageError("--programme needs --week", fix="Say which week: --week 2.")
        programme = load_programme(collection, args.programme)
        if not args.week.isdigit() or not 1 <= int(args.week) <= len(programme.weeks):
            raise UsageError(
                f"--week {args.week} is not a week of {programme.slug}",
                fix=f"Use 1 to {len(programme.weeks)}.",
            )
        week = programme.weeks[int(args.week) - 1]
        routine, name, slug, number = week.routine, week.name, programme.slug, str(week.number)
    else:
        if args.week is not None:
            raise UsageError("--week goes with --programme", fix="Leave --week out for a routine.")
        from stretchcast.content import load_routine

        routine = load_routine(collection, args.routine)
        name, slug, number = routine.slug, "", ""
    local = dt.datetime.now().astimezone().tzinfo
    fields = {
        "id": args.id or str(uuid.uuid4()),
        "at": args.at or format_at(dt.datetime.now(dt.timezone.utc).astimezone()),
        "routine": name,
        "routine_hash": routine_hash(routine_dict(routine)),
        "programme": slug,
        "week": number,
        "done": args.done,
        "pain_before": args.pain_before,
        "pain_after": args.pain_after,
        "felt": args.felt,
        "warnings": " ".join(args.warning),
        "note": args.note,
    }
    try:
        session = session_from_fields(fields, default_tz=local)
    except InputError as err:
        field = err.where.field if err.where else None
        option = _OPTIONS.get(field or "", f"--{(field or '').replace('_', '-')}")
        raise UsageError(f"{option}: {err.problem}", fix=err.fix) from None
    added = open_log(args).add(session)
    if not added:
        print(f"Already recorded: session {session.id} (nothing added).")
        return 0
    print(f"Recorded: {_line(session)}")
    if session.warnings or session.pain_after >= 5:
        from stretchcast.log.progress import stop_advice

        print(stop_advice(collection.cautions, session.warnings, session.pain_after), file=sys.stderr)
    return 0


def _line(s: Session) -> str:
    local = s.at.astimezone()
    warnings = f"  WARNING: {', '.join(s.warnings)}" if s.warnings else ""
    note = f"  “{s.note}”" if s.note else ""
    return (
        f"{local:%a %Y-%m-%d %H:%M}  {s.what:<18} {s.done:<7} pain {s.pain_before}->{s.pain_after}  "
        f"{s.felt}{warnings}{note}"
    )


def _list(args: argparse.Namespace) -> int:
    log = open_log(args)
    sessions = log.sessions(limit=args.last)
    if args.json:
        json.dump([s.as_json() for s in sessions], sys.stdout, indent=2, ensure_ascii=False)
        print()
        return 0
    if not sessions:
        print(f"No sessions in {log.path} yet. Record one: stretchcast log add --help")
        return 0
    for s in sessions:
        print(_line(s))
    print(f"\n{len(sessions)} session{'s' * (len(sessions) != 1)} in {log.path}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from stretchcast.log.csvio import to_csv

    text = to_csv(open_log(args).sessions())
    if args.out is None:
        sys.stdout.write(text)
        return 0
    from stretchcast.output.files import OutputSet, check_writable

    check_writable(args.out.parent if str(args.out.parent) else Path())
    with OutputSet() as files:
        files.add_text(args.out, text)
        files.commit()
    args.out.chmod(0o600)  # a health record: readable by its owner only, like the log itself
    print(f"Wrote {args.out}", file=sys.stderr)
    return 0


def _import(args: argparse.Namespace) -> int:
    from stretchcast.log.csvio import from_csv, read_bounded

    name = "standard input" if args.csv == "-" else args.csv
    if args.csv == "-":
        text = read_bounded(sys.stdin.buffer, name)
    else:
        path = Path(args.csv)
        try:
            with path.open("rb") as stream:
                text = read_bounded(stream, name)
        except OSError as err:
            raise UsageError(f"cannot read {path}: {err.strerror}", fix="Check the path.") from None
    local = dt.datetime.now().astimezone().tzinfo
    sessions = from_csv(text, name, default_tz=local)  # every row checked before the log is opened
    result = open_log(args).add_many(sessions)
    print(f"Imported {result.added} session{'s' * (result.added != 1)}; {result.already} already recorded.")
    return 0


def _key(args: argparse.Namespace) -> int:
    log = open_log(args)
    key = log.rotate_key() if args.rotate else log.key()
    print(key)
    print(
        f"Kept in {log.key_file} (only you can read it). stretchcast serve puts it in the page's link"
        f"{'; phones must open the new link' if args.rotate else ''}.",
        file=sys.stderr,
    )
    return 0


def _progress(args: argparse.Namespace) -> int:
    from stretchcast.log import progress

    report = progress.report_for(
        open_log(args),
        content=args.content,
        programme=args.programme,
        out_dir=args.out,
        today=dt.date.today(),
    )
    if args.json:
        json.dump(report.as_json(), sys.stdout, indent=2, ensure_ascii=False)
        print()
    else:
        print(progress.report_text(report))
    if args.plot is not None:
        try:
            from stretchcast.log.plots import save_figure
        except ImportError as err:
            raise UsageError(
                f"--plot needs matplotlib, which is not installed ({err.name})",
                fix="Install the notebook extra: pip install 'stretchcast[notebook]'.",
            ) from None

        save_figure(report, args.plot)
        print(f"Plots: {args.plot}")
    return 0


__all__ = ["add_db_option", "open_log", "register"]
