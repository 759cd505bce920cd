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
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import __version__, words
from .content import (
    PACE_FACTOR_RANGE,
    Collection,
    Routine,
    load_collection,
    load_routine,
    save_routine,
)
from .cues import abandoned_engines
from .errors import StretchcastError
from .pipeline import DEFAULT_BITRATE, DEFAULT_SAMPLE_RATE, BuildOptions, build, plan, with_guidance
from .timeline import Timeline
from .voices import choose_voice
from .voices import commands as voice_commands

log = logging.getLogger("stretchcast")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stretchcast",
        description="Guided audio routines for SI joint stretches: plan them, build them as MP3s.",
        epilog="Start with 'stretchcast list', then 'stretchcast build standard'.",
    )
    parser.add_argument("--version", action="version", version=f"stretchcast {__version__}")
    parser.add_argument(
        "--content", type=Path, metavar="DIR", help="content folder (default: content/si-joint)"
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    sub.add_parser("list", help="exercises with their doses, and routines with their lengths")

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
        help="22050 (default) or 44100",
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


# --- serve: the phone page and the podcast feed (issue 6) ---------------------------------------------


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


# --- end of serve --------------------------------------------------------------------------------------


def _routine(args: argparse.Namespace, collection: Collection) -> Routine:
    routine = load_routine(collection, args.routine).with_overrides(args.overrides)
    return with_guidance(routine, pace=args.pace, chimes=args.chimes, countdown=args.countdown)


def _list(collection: Collection) -> None:
    print(f"{collection.title}: exercises\n")
    for ex in collection.exercises:
        r = ex.ranges
        reps = f"{r.reps.default:g} {ex.reps_unit}".strip()
        allowed = "" if r.reps.min == r.reps.max else f" (allowed {r.reps.min:g} to {r.reps.max:g})"
        hold = ""
        if r.hold.max > 0:
            hold_range = "" if r.hold.min == r.hold.max else f" ({r.hold.min:g} to {r.hold.max:g})"
            hold = f", hold {r.hold.default:g} s{hold_range}"
        print(f"  {ex.id:<14} {ex.name}: {reps}{allowed}{hold}")
    print("\nRoutines (stretchcast build NAME):\n")
    for name in collection.presets():
        routine = load_routine(collection, name)
        print(f"  {name:<14} {words.clock(plan(routine).duration_ms):>6}  {routine.title}")
    print("\nLengths are estimates until built; the voice sets the final length.")


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
    if args.title is not None:
        routine = dataclasses.replace(routine, title=args.title.strip() or routine.title)
    path = save_routine(routine, args.file, overwrite=args.force)
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
        progress=not args.quiet and sys.stderr.isatty(),
        cache=voice_commands.cache_from(args),
    )
    if args.quiet:
        print(result.mp3)
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
    print(f"Manifest: {result.manifest}")
    if result.playlist:
        print(f"Playlist: {result.playlist} ({len(result.split)} tracks)")
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
        _list(collection)
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
        return 130
    except BrokenPipeError:
        # the reader went away (e.g. '| head'): not an error; keep Python from complaining at exit
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115, PTH123 - must stay open until exit
        return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: run, and turn errors into one or two plain lines and an exit code."""
    code = _main(argv)
    if argv is None and abandoned_engines():
        # A hung engine's thread is still inside native code: normal interpreter shutdown could
        # abort in it. Everything the user needs is written and flushed, so leave at once.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


if __name__ == "__main__":
    sys.exit(main())
