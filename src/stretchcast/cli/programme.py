"""The programme commands: ``programme list``, ``show``, ``new``, ``build`` and ``start``."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from stretchcast.cli import voices as voice_commands
from stretchcast.cli.encoder import add_encoder_option, encoder_used
from stretchcast.content import Collection, load_collection, load_routine, words
from stretchcast.content.programme import (
    SESSIONS_RANGE,
    Week,
    load_programme,
    programme_names,
    programme_yaml,
    programmes_dir,
    progression,
)
from stretchcast.errors import UsageError
from stretchcast.output.files import OutputSet, check_writable
from stretchcast.sound.formats import DEFAULT_BITRATE, DEFAULT_SAMPLE_RATE
from stretchcast.voices import choose_voice

if TYPE_CHECKING:
    from stretchcast.pipeline import BuildResult


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``programme`` and its subcommands."""
    p = sub.add_parser("programme", help="weeks of practice that progress: list, show, new, build, start")
    psub = p.add_subparsers(dest="programme_command", metavar="SUBCOMMAND", required=True)

    p_list = psub.add_parser("list", help="the programmes there are")
    p_list.set_defaults(handler=_list)

    p_show = psub.add_parser("show", help="a table of the weeks: what changes, minutes, sessions")
    p_show.add_argument("programme", metavar="NAME", help="programme name or file")
    p_show.add_argument("--json", action="store_true", help="the same as data")
    p_show.set_defaults(handler=_show)

    p_new = psub.add_parser("new", help="write a programme stepping evenly from one routine to another")
    p_new.add_argument("file", type=Path, metavar="FILE", help="the programme file to create (.yaml)")
    p_new.add_argument(
        "--from", dest="start", default="gentle", metavar="ROUTINE", help="week 1 (default: gentle)"
    )
    p_new.add_argument(
        "--to", dest="end", default="full", metavar="ROUTINE", help="the last week (default: full)"
    )
    p_new.add_argument("--weeks", type=int, default=6, metavar="N", help="how many weeks (default: 6)")
    lo, hi = SESSIONS_RANGE
    p_new.add_argument(
        "--sessions", type=int, default=4, metavar="N", help=f"sessions a week, {lo} to {hi} (default: 4)"
    )
    p_new.add_argument("--title", help="the programme's title")
    p_new.add_argument("--force", action="store_true", help="replace FILE if it exists")
    p_new.set_defaults(handler=_new)

    p_build = psub.add_parser("build", help="one track a week, into OUT/NAME/week-01.mp3 ...")
    p_build.add_argument("programme", metavar="NAME", help="programme name or file")
    p_build.add_argument(
        "-o", "--out", type=Path, default=Path("audio"), metavar="DIR", help="output folder (default: audio)"
    )
    p_build.add_argument("--voice", metavar="NAME", help=voice_commands.voice_help())
    p_build.add_argument("--offline", action="store_true", help="never use the network")
    p_build.add_argument("--sample-rate", type=int, default=DEFAULT_SAMPLE_RATE, metavar="HZ")
    p_build.add_argument("--bitrate", type=int, default=DEFAULT_BITRATE, metavar="KBPS")
    add_encoder_option(p_build)
    p_build.add_argument(
        "-q", "--quiet", action="store_true", help="print only the programme manifest's path"
    )
    voice_commands.add_voice_options(p_build)
    p_build.set_defaults(handler=_build)

    p_start = psub.add_parser("start", help="record the day week 1 began (the phone page marks this week)")
    p_start.add_argument("programme", metavar="NAME", help="programme name or file")
    p_start.add_argument("--on", metavar="DATE", help="YYYY-MM-DD (default: today)")
    p_start.add_argument(
        "-o", "--out", type=Path, default=Path("audio"), metavar="DIR", help="output folder (default: audio)"
    )
    p_start.set_defaults(handler=_start)


def _collection(args: argparse.Namespace) -> Collection:
    return load_collection(args.content)


def _list(args: argparse.Namespace) -> int:
    collection = _collection(args)
    names = programme_names(collection)
    if not names:
        print(f"No programmes in {programmes_dir(collection)}. Make one: stretchcast programme new FILE")
        return 0
    print("Programmes (stretchcast programme show NAME):\n")
    for name in names:
        programme = load_programme(collection, name)
        print(
            f"  {name:<14} {len(programme.weeks)} weeks, {programme.sessions_per_week} sessions a week  "
            f"{programme.title}"
        )
    return 0


def _show(args: argparse.Namespace) -> int:
    from stretchcast.pipeline.programme import programme_dict, week_rows

    programme = load_programme(_collection(args), args.programme)
    if args.json:
        json.dump(programme_dict(programme), sys.stdout, indent=2)
        print()
        return 0
    print(f"{programme.title}: {len(programme.weeks)} weeks, {programme.sessions_per_week} sessions a week\n")
    print(f"  {'week':>4}  {'minutes':>7}  {'sessions':>8}  what changes")
    for row in week_rows(programme):
        minutes = f"{row.estimated_ms / 60000:.1f}"
        print(f"  {row.number:>4}  {minutes:>7}  {programme.sessions_per_week:>8}  {row.changes}")
    print(
        "\nKeep each week's amount for the whole week; move on when it feels consistently easier and any"
        "\ndiscomfort settles within a day; go back a week if it is too hard. Sharp pain, or pain spreading"
        "\ndown a leg: stop, and see a clinician. Minutes are estimates until built."
    )
    return 0


def _new(args: argparse.Namespace) -> int:
    collection = _collection(args)
    lo, hi = SESSIONS_RANGE
    if not lo <= args.sessions <= hi:
        raise UsageError(
            f"--sessions {args.sessions} is out of range", fix=f"Use {lo} to {hi} sessions a week."
        )
    path: Path = (
        args.file if args.file.suffix in {".yaml", ".yml"} else args.file.with_name(args.file.name + ".yaml")
    )
    if path.exists() and not args.force:
        raise UsageError(f"{path} already exists", fix="Choose another name, or add --force to replace it.")
    start = load_routine(collection, args.start)
    end = load_routine(collection, args.end)
    routines = progression(start, end, args.weeks)
    preset = args.start if args.start in collection.presets() else None
    title = (args.title or "").strip() or f"{len(routines)} weeks from {start.slug} to {end.slug}"
    made = (
        f"Made by: stretchcast programme new {path.name} --from {args.start} --to {args.end} "
        f"--weeks {args.weeks} --sessions {args.sessions}"
    )
    text = programme_yaml(title, routines, sessions_per_week=args.sessions, preset=preset, made_from=made)
    if path.parent != Path() and not path.parent.is_dir():
        raise UsageError(f"folder {path.parent} does not exist", fix="Create it first, or give another path.")
    check_writable(path.parent)
    with tempfile.TemporaryDirectory() as scratch:  # checked as a programme before it is put in place
        draft = Path(scratch) / path.name
        draft.write_text(text, encoding="utf-8")
        load_programme(collection, draft)
    with OutputSet() as files:
        files.add_text(path, text)
        files.commit()
    print(f"Wrote {path} ({len(routines)} weeks). See it: stretchcast programme show {path}")
    return 0


def _build(args: argparse.Namespace) -> int:
    from stretchcast.pipeline import BuildOptions
    from stretchcast.pipeline.programme import build_programme

    collection = _collection(args)
    programme = load_programme(collection, args.programme)
    options = BuildOptions(
        out_dir=args.out, sample_rate=args.sample_rate, bitrate=args.bitrate, encoder=args.encoder
    )
    check_writable(args.out)
    choice = choose_voice(
        args.voice or "auto", offline=args.offline, settings=voice_commands.settings_from(args)
    )
    if not args.quiet:
        print(f"Voice: {choice.voice.describe()} ({choice.reason})", flush=True)
        print(f"Building {programme.title}: {len(programme.weeks)} weeks", flush=True)

    def on_week(week: Week, result: BuildResult) -> None:
        if not args.quiet:
            print(
                f"  week {week.number:>2}: {words.clock(result.timeline.duration_ms):>6}  {result.mp3}"
                f"  ({encoder_used(result)})",
                flush=True,
            )

    result = build_programme(
        programme,
        out_dir=args.out,
        voice=choice,
        options=options,
        cache=voice_commands.cache_from(args),
        on_week=on_week,
    )
    if args.quiet:
        print(result.manifest.resolve())
        return 0
    print(f"Programme manifest: {result.manifest.resolve()}")
    print(f"Start it: stretchcast programme start {args.programme} -o {args.out}")
    return 0


def _start(args: argparse.Namespace) -> int:
    from stretchcast.pipeline.programme import parse_date, record_start

    collection = _collection(args)
    programme = load_programme(collection, args.programme)
    on = parse_date(args.on) if args.on else dt.date.today()
    folder = args.out / programme.slug
    if not folder.is_dir():
        raise UsageError(
            f"{folder} does not exist: the programme has not been built there",
            fix=f"Build it first: stretchcast programme build {args.programme} -o {args.out}",
        )
    path = record_start(programme, args.out, on)
    print(f"Started {programme.title} on {on.isoformat()} (recorded in {path}).")
    return 0
