"""The ``stretchcast`` command: list, plan and build guided routines.

Exit codes: 0 done; 1 unexpected failure; 2 bad input (nothing written); 3 a voice cannot speak;
4 output cannot be written; 130 interrupted.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn, cast

from . import __version__, words
from .content import (
    DOSE_FIELDS,
    PACE_FACTOR_RANGE,
    Collection,
    Exercise,
    Routine,
    load_collection,
    load_routine,
    save_routine,
)
from .cues import abandoned_engines
from .errors import StretchcastError, did_you_mean
from .export import check_writable
from .pipeline import DEFAULT_BITRATE, DEFAULT_SAMPLE_RATE, BuildOptions, build, plan, with_guidance
from .timeline import Timeline
from .voices import choose_voice
from .voices import commands as voice_commands

log = logging.getLogger("stretchcast")
INTERRUPTED = 130  # the shell's code for a process stopped by Ctrl-C (128 + SIGINT)


class _Parser(argparse.ArgumentParser):
    """argparse, with its mistakes reported like every other stretchcast message: two plain lines.

    Abbreviated options are off: "--no-chime" must not quietly mean "--no-chimes".
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        """Print what was wrong and how to find the right words; exit 2."""
        problem, fix = message, f"Run '{self.prog} --help' to see what it takes."
        choice = re.match(r"argument (\S+): invalid choice: '([^']*)' \(choose from (.*)\)", message)
        unknown = re.match(r"unrecognized arguments: (.*)", message)
        if choice and choice.group(1) == "COMMAND":
            commands = re.findall(r"'([^']*)'", choice.group(3))
            problem = f"there is no command '{choice.group(2)}'"
            fix = f"{did_you_mean(choice.group(2), commands)}Commands: {', '.join(commands)}."
        elif message.startswith("the following arguments are required: COMMAND"):
            problem = "say what to do: a command is needed"
            fix = "Start with 'stretchcast list', then 'stretchcast build standard' (--help lists all)."
        elif message.startswith("the following arguments are required: "):
            problem = f"'{self.prog}' needs {message.split(': ', 1)[1]}"
        elif unknown:
            words = unknown.group(1).split()
            options = [o for o in _all_options(self) if o.startswith("--")]
            hints = [did_you_mean(w, options) for w in words if w.startswith("-")]
            problem = f"unknown argument{'s' if len(words) > 1 else ''}: {unknown.group(1)}"
            fix = "".join(hints) + "Run 'stretchcast COMMAND --help' to see a command's options."
        sys.stderr.write(f"stretchcast: {problem}\n  {fix}\n")
        raise SystemExit(2)


def _all_options(parser: argparse.ArgumentParser) -> list[str]:
    """Every option string of ``parser`` and of its subcommands."""
    found: list[str] = []
    for action in parser._actions:
        found += action.option_strings
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                found += _all_options(child)
    return sorted(set(found))


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="stretchcast",
        description="Guided audio routines for SI joint stretches: plan them, build them as MP3s.",
        epilog="Start with 'stretchcast list', then 'stretchcast build standard'.",
    )
    parser.add_argument("--version", action="version", version=f"stretchcast {__version__}")
    parser.add_argument(
        "--content", type=Path, metavar="DIR", help="content folder (default: content/si-joint)"
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logging")
    sub = cast(
        "argparse._SubParsersAction[argparse.ArgumentParser]",
        parser.add_subparsers(dest="command", metavar="COMMAND", required=True),
    )

    p_list = sub.add_parser(
        "list", help="exercises with their doses and ranges, and routines with their lengths"
    )
    p_list.add_argument("--json", action="store_true", help="the same as data")

    def routine_args(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "routine",
            nargs="?",
            default="standard",
            metavar="ROUTINE",
            help="preset name or routine file (default: standard)",
        )
        change_args(p)

    def change_args(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--set",
            dest="overrides",
            action="append",
            default=[],
            metavar="EXERCISE.FIELD=VALUE",
            help="change a dose, e.g. --set knee-sways.reps=6 (fields: reps, hold, rest, sets, pace)",
        )
        lo, hi = PACE_FACTOR_RANGE
        p.add_argument(
            "--pace",
            type=float,
            metavar="FACTOR",
            help=f"stretch ({hi:g} max) or shorten ({lo:g} min) the time for each movement",
        )
        p.add_argument(
            "--no-chimes",
            dest="chimes",
            action="store_false",
            default=None,
            help="no chime at the start of each exercise and the end",
        )
        p.add_argument(
            "--no-countdown",
            dest="countdown",
            action="store_false",
            default=None,
            help="no 'three, two, one' in long holds",
        )

    p_plan = sub.add_parser("plan", help="the timeline and total length, without making audio")
    routine_args(p_plan)
    p_plan.add_argument(
        "--json",
        action="store_true",
        help="print the manifest's structure (estimated speech lengths)",
    )
    p_plan.add_argument("--events", action="store_true", help="list every event, not just the chapters")

    p_new = sub.add_parser("new", help="write a routine file to edit, starting from a preset")
    p_new.add_argument("file", type=Path, metavar="FILE", help="the routine file to create (.yaml)")
    p_new.add_argument(
        "--from", dest="routine", default="standard", metavar="ROUTINE", help="start from (default: standard)"
    )
    p_new.add_argument("--title", help="the routine's title (default: the starting routine's)")
    p_new.add_argument("--force", action="store_true", help="replace FILE if it exists")
    change_args(p_new)

    p_build = sub.add_parser("build", help="render a routine to an MP3 and its manifest")
    routine_args(p_build)
    p_build.add_argument(
        "-o",
        "--out",
        type=Path,
        default=Path("audio"),
        metavar="DIR",
        help="output folder (default: audio)",
    )
    p_build.add_argument("--voice", metavar="NAME", help=voice_commands.voice_help())
    p_build.add_argument(
        "--offline", action="store_true", help="never use the network: auto picks an offline voice"
    )
    p_build.add_argument(
        "--name", metavar="NAME", help="output file name without extension (default: the routine's)"
    )
    p_build.add_argument(
        "--sample-rate",
        type=int,
        default=DEFAULT_SAMPLE_RATE,
        metavar="HZ",
        help="16000, 22050 (default), 24000, 32000, 44100 or 48000",
    )
    p_build.add_argument(
        "--bitrate",
        type=int,
        default=DEFAULT_BITRATE,
        metavar="KBPS",
        help="MP3 bitrate, constant (default: 64)",
    )
    p_build.add_argument(
        "--split",
        action="store_true",
        help="also one MP3 per exercise in OUT/NAME/ and a playlist OUT/NAME.m3u8",
    )
    p_build.add_argument(
        "--year",
        type=int,
        metavar="YEAR",
        help="year tag (default: the content's year, for reproducible files)",
    )
    p_build.add_argument("-q", "--quiet", action="store_true", help="print only the MP3's path")
    _serve_parser(sub)
    voice_commands.add_voice_options(p_build)
    voice_commands.add_commands(sub)
    return parser


# -- serve: the phone page and the podcast feed --------------------------------------------------------


def _serve_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from .serve import DEFAULT_PORT

    p = sub.add_parser("serve", help="play the built routines on a phone: a web page and a podcast feed")
    p.add_argument(
        "folder",
        nargs="?",
        type=Path,
        default=Path("audio"),
        metavar="DIR",
        help="folder to serve (default: audio)",
    )
    p.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        metavar="N",
        help=f"port to listen on (default: {DEFAULT_PORT}; 0 picks a free one)",
    )
    p.add_argument(
        "--lan",
        action="store_true",
        help="listen on this computer's Wi-Fi address and print a QR code to open it on a phone",
    )


def _serve(args: argparse.Namespace) -> int:
    from . import serve

    server = serve.listen(args.folder, port=args.port, lan=args.lan)
    with server:
        print(serve.banner(server, lan=args.lan, colour=sys.stdout.isatty()), flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            print("Stopped.")
    return 0


def _changes(args: argparse.Namespace) -> list[str]:
    """The command-line changes to the routine, as typed."""
    changes = [f"--set {o}" for o in args.overrides]
    if args.pace is not None:
        changes.append(f"--pace {args.pace:g}")
    changes += [f"--no-{name}" for name in ("chimes", "countdown") if getattr(args, name) is False]
    return changes


def _routine(args: argparse.Namespace, collection: Collection) -> Routine:
    # a changed routine comes back titled "... (adjusted)": it is not the file it came from
    routine = load_routine(collection, args.routine).with_overrides(args.overrides)
    return with_guidance(routine, pace=args.pace, chimes=args.chimes, countdown=args.countdown)


_FIELD_UNITS = {"reps": "", "hold": " s", "pace": " s", "rest": " s", "sets": ""}


def _dose_lines(ex: Exercise) -> list[str]:
    """Every dose field: its default and the range a routine or --set may use."""
    parts = []
    for field in DOSE_FIELDS:
        rng = ex.ranges.of(field)
        if field == "hold" and rng.max == 0:
            parts.append("hold: none")
            continue
        unit = _FIELD_UNITS[field]
        allowed = "fixed" if rng.min == rng.max else f"{rng.min:g} to {rng.max:g}"
        per = f" {ex.reps_unit}" if field == "reps" else ""
        parts.append(f"{field} {rng.default:g}{unit}{per} ({allowed})")
    return ["; ".join(parts[:2]), "; ".join(parts[2:])]


def _list(collection: Collection, as_json: bool) -> None:
    presets = [(name, load_routine(collection, name)) for name in collection.presets()]
    if as_json:
        data = {
            "collection": collection.id,
            "exercises": [
                {
                    "id": ex.id,
                    "name": ex.name,
                    "position": ex.position,
                    "dose": {
                        f: dataclasses.asdict(ex.ranges.of(f)) | {"unit": _FIELD_UNITS[f].strip()}
                        for f in DOSE_FIELDS
                    },
                }
                for ex in collection.exercises
            ],
            "routines": [
                {"name": name, "title": r.title, "estimated_ms": plan(r).duration_ms} for name, r in presets
            ],
        }
        json.dump(data, sys.stdout, indent=2)
        print()
        return
    print(f"{collection.title}: exercises, each dose's default and (allowed range)\n")
    for ex in collection.exercises:
        print(f"  {ex.id:<14} {ex.name}: {ex.position[:1].lower()}{ex.position[1:].rstrip('.')}")
        for line in _dose_lines(ex):
            print(f"  {'':<14}   {line}")
    print("\n  'fixed': the source gives one value, so routines cannot change it.")
    print("\nRoutines (stretchcast build NAME):\n")
    for name, routine in presets:
        print(f"  {name:<14} {words.clock(plan(routine).duration_ms):>6}  {routine.title}")
    print("\nChange a dose with --set EXERCISE.FIELD=VALUE. Lengths are estimates until built.")


def _print_plan(timeline: Timeline, routine: Routine, events: bool) -> None:
    print(f"{routine.title}: {words.clock(timeline.duration_ms)} (estimated)\n")
    for ch in timeline.chapters:
        holds = [h for h in timeline.holds if ch.start_ms <= h.start_ms < ch.end_ms]
        hold_text = f", {len(holds)} holds of {holds[0].duration_ms / 1000:g} s" if holds else ""
        length = words.clock(ch.end_ms - ch.start_ms)
        print(f"  {words.clock(ch.start_ms):>6}  {ch.title}  ({length}{hold_text})")
        if events:
            for e in timeline.events:
                if ch.start_ms <= e.start_ms < ch.end_ms:
                    what = (
                        e.text
                        if e.kind == "speech"
                        else (f"chime ({e.text})" if e.kind == "tone" else f"[{e.role}]")
                    )
                    print(f"           {e.start_ms / 1000:8.2f} {e.duration_ms / 1000:6.2f}s  {what}")
    print(f"\n  Total {words.clock(timeline.duration_ms)}; {len(timeline.texts())} distinct cues to speak.")


def _plan_json(timeline: Timeline, routine: Routine) -> dict[str, Any]:
    from .pipeline import routine_dict

    return {"estimated": True, "routine": routine_dict(routine), **timeline.to_dict()}


def _new(args: argparse.Namespace, routine: Routine) -> int:
    path = (
        args.file if args.file.suffix in {".yaml", ".yml"} else args.file.with_name(args.file.name + ".yaml")
    )
    changes = _changes(args)
    if args.title is not None or changes:
        # the starting routine's description no longer describes this one
        made = f"Made from the '{args.routine}' routine" + (f" with {' '.join(changes)}." if changes else ".")
        routine = dataclasses.replace(
            routine, title=(args.title or "").strip() or routine.title, description=made
        )
    save_routine(routine, path, overwrite=args.force)
    print(f"Wrote {path}. Edit it, then: stretchcast build {path}")
    return 0


def _plan(args: argparse.Namespace, routine: Routine) -> int:
    timeline = plan(routine)
    if args.json:
        json.dump(_plan_json(timeline, routine), sys.stdout, indent=2)
        print()
    else:
        _print_plan(timeline, routine, args.events)
    return 0


def _build(args: argparse.Namespace, routine: Routine) -> int:
    options = BuildOptions(
        out_dir=args.out,
        sample_rate=args.sample_rate,
        bitrate=args.bitrate,
        name=args.name,
        split=args.split,
        year=args.year,
    )
    check_writable(options.out_dir)  # before a voice is loaded or asked anything
    choice = choose_voice(
        args.voice or routine.voice or "auto",
        offline=args.offline,
        settings=voice_commands.settings_from(args),
    )
    if not args.quiet:
        print(f"Voice: {choice.voice.describe()} ({choice.reason})", flush=True)
    result = build(
        routine,
        voice=choice,
        options=options,
        progress=not args.quiet,
        cache=voice_commands.cache_from(args),
    )
    if args.quiet:
        print(result.mp3.resolve())
        return 0
    if result.voice_reason != choice.reason:
        print(f"Voice changed: {result.voice} ({result.voice_reason})")
    print(
        f"Built {routine.title}: {words.clock(result.timeline.duration_ms)}, "
        f"{result.size_bytes / 1e6:.1f} MB, {result.loudness_lufs:.1f} LUFS, "
        f"peak {result.true_peak_dbtp:.1f} dBTP, "
        f"{result.cues_synthesized + result.cues_cached} cues ({result.cues_synthesized} new, "
        f"{result.cues_cached} from the cache), in {result.seconds:.1f} s"
    )
    print(f"Manifest: {result.manifest.resolve()}")
    if result.playlist:
        print(f"Playlist: {result.playlist.resolve()} ({len(result.split)} tracks)")
    print(f"MP3: {result.mp3.resolve()}")
    return 0


_ROUTINE_COMMANDS = {"new": _new, "plan": _plan, "build": _build}


def run(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (exceptions propagate)."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.WARNING,
        format="%(name)s: %(message)s" if args.debug else "stretchcast: %(message)s",
    )
    if args.command == "serve":  # needs no content folder, only built files
        return _serve(args)
    if args.command in voice_commands.COMMANDS:
        return voice_commands.run_command(args)
    collection = load_collection(args.content)
    if args.command == "list":
        _list(collection, args.json)
        return 0
    return _ROUTINE_COMMANDS[args.command](args, _routine(args, collection))


def _main(argv: Sequence[str] | None) -> int:
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        return run(argv)
    except StretchcastError as err:
        if debug:
            raise
        print(f"stretchcast: {err.message}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        if debug:
            raise
        print("stretchcast: interrupted; no partial files were left behind.", file=sys.stderr)
        return INTERRUPTED
    except BrokenPipeError:
        # the reader went away (e.g. '| head'): not an error; keep Python from complaining at exit
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115, PTH123 - must stay open until exit
        return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: run, and turn errors into one or two plain lines and an exit code."""
    code = _main(argv)
    if argv is None and (code == INTERRUPTED or abandoned_engines()):
        # After Ctrl-C or a hung engine, a native engine (onnxruntime) may still be running in a
        # thread, and interpreter shutdown would abort inside it ("terminate called without an
        # active exception"). Every file was already cleaned up while the exception unwound and
        # the message is printed, so leave at once with the right exit code.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


if __name__ == "__main__":
    sys.exit(main())
