"""The routine commands: ``list``, ``plan``, ``new`` and ``build``."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from stretchcast.cli import voices as voice_commands
from stretchcast.cli.encoder import add_encoder_option, encoder_line
from stretchcast.cli.progress import TerminalProgress
from stretchcast.content import (
    Collection,
    Exercise,
    Routine,
    load_collection,
    load_routine,
    save_routine,
    words,
)
from stretchcast.content.schema import DOSE, DOSE_FIELDS, FLAGS, PACE_FACTOR_RANGE, TITLE
from stretchcast.errors import InputError, UsageError, shown
from stretchcast.handout.papers import PAPERS
from stretchcast.output.files import check_outputs
from stretchcast.progress import no_progress
from stretchcast.sound.formats import DEFAULT_BITRATE, DEFAULT_SAMPLE_RATE
from stretchcast.timeline import Timeline
from stretchcast.voices import choose_voice

#: What ``build --handout`` writes beside the track, checked with the track's own files.
HANDOUT_FILES = ((".pdf", "the handout"), (".html", "the handout's web page"))

RoutineCommand = Callable[[argparse.Namespace, Routine], int]


def _with_routine(command: RoutineCommand) -> Callable[[argparse.Namespace], int]:
    """A handler that loads the routine the arguments name (with their changes), then runs ``command``."""

    def handler(args: argparse.Namespace) -> int:
        return command(args, _routine(args, load_collection(args.content)))

    return handler


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``list``, ``plan``, ``new`` and ``build``."""
    p_list = sub.add_parser(
        "list", help="exercises with their doses and ranges, and routines with their lengths"
    )
    p_list.add_argument("--json", action="store_true", help="the same as data")
    p_list.set_defaults(handler=_list)

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
            help=f"change a dose, e.g. --set knee-sways.reps=6 (fields: {', '.join(DOSE_FIELDS)})",
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
        minutes_arg(p)

    p_plan = sub.add_parser("plan", help="the timeline and total length, without making audio")
    routine_args(p_plan)
    p_plan.set_defaults(handler=_with_routine(_plan))
    p_plan.add_argument(
        "--json",
        action="store_true",
        help="print the manifest's structure (estimated speech lengths)",
    )
    p_plan.add_argument("--events", action="store_true", help="list every event, not just the chapters")

    p_new = sub.add_parser("new", help="write a routine file to edit, starting from a preset")
    p_new.add_argument("file", metavar="FILE", help="the routine file to create (.yaml)")
    p_new.add_argument(
        "--from", dest="routine", default="standard", metavar="ROUTINE", help="start from (default: standard)"
    )
    p_new.add_argument("--title", help="the routine's title (default: the starting routine's)")
    p_new.add_argument("--force", action="store_true", help="replace FILE if it exists")
    change_args(p_new)
    p_new.set_defaults(handler=_with_routine(_new))

    p_build = sub.add_parser("build", help="render a routine to an MP3 and its manifest")
    routine_args(p_build)
    p_build.set_defaults(handler=_with_routine(_build))
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
    add_encoder_option(p_build)
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
    p_build.add_argument(
        "--handout",
        action="store_true",
        help="also the printed handout beside the track: NAME.pdf and NAME.html",
    )
    p_build.add_argument(
        "--paper", default="a4", type=str.lower, choices=sorted(PAPERS), help="handout paper"
    )
    p_build.add_argument(
        "--url", metavar="URL", help="the phone page's address, printed as a QR code on the handout"
    )
    voice_commands.add_voice_options(p_build)


def minutes_arg(p: argparse.ArgumentParser) -> None:
    """``--minutes N``: the doses solved for the time you have (``stretchcast.timeline.fit``)."""
    p.add_argument(
        "--minutes",
        type=float,
        metavar="N",
        help="solve the doses (each within its range) so the track lasts N minutes, within 15 s",
    )


def _changes(args: argparse.Namespace) -> list[str]:
    """The command-line changes to the routine, as typed."""
    changes = [f"--set {o}" for o in args.overrides]
    if args.pace is not None:
        changes.append(f"--pace {args.pace:g}")
    changes += [f"--no-{name}" for name in ("chimes", "countdown") if getattr(args, name) is False]
    if args.minutes is not None:
        changes.append(f"--minutes {args.minutes:g}")
    return changes


def routine_from_args(args: argparse.Namespace, collection: Collection) -> Routine:
    """The routine the arguments name, with their changes: ``--set``, guidance, then ``--minutes``."""
    from stretchcast.pipeline import with_guidance

    # a changed routine comes back titled "... (adjusted)": it is not the file it came from
    routine = load_routine(collection, args.routine).with_overrides(args.overrides)
    routine = with_guidance(routine, pace=args.pace, chimes=args.chimes, countdown=args.countdown)
    if args.minutes is not None:
        from stretchcast.timeline.fit import fit_minutes  # only for --minutes

        if args.overrides:
            raise UsageError(
                "--minutes and --set both choose the doses",
                fix="Use one: --minutes to fit the time you have, or --set for the doses you want.",
            )
        routine = fit_minutes(routine, args.minutes).routine
    return routine


_routine = routine_from_args


def _flagged(err: InputError, given: set[str]) -> InputError:
    """``err`` as the command line spells it: a field that came from a flag named by the flag.

    The library names fields (``field 'title'``); a person who typed ``--title`` should read
    ``--title`` and not a routine file's field they never saw.
    """
    field = err.where.field if err.where else None
    flag = FLAGS.get(field or "")
    if field not in given or flag is None:
        return err
    return UsageError(f"{flag}: {err.problem}", fix=err.fix)


def _dose_lines(ex: Exercise) -> list[str]:
    """Every dose field: its default and the range a routine or --set may use."""
    parts = []
    for spec in DOSE:
        field = spec.name
        rng = ex.ranges.of(field)
        if field == "hold" and rng.max == 0:
            parts.append("hold: none")
            continue
        allowed = "fixed" if rng.min == rng.max else f"{rng.min:g} to {rng.max:g}"
        per = f" {ex.reps_unit}" if field == "reps" else ""
        parts.append(f"{field} {rng.default:g}{spec.spaced_unit}{per} ({allowed})")
    return ["; ".join(parts[:2]), "; ".join(parts[2:])]


def _list(args: argparse.Namespace) -> int:
    from stretchcast.pipeline import plan  # the sound stage and numpy: not for registering commands

    collection = load_collection(args.content)
    as_json = args.json
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
                        f.name: dataclasses.asdict(ex.ranges.of(f.name)) | {"unit": f.unit} for f in DOSE
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
        return 0
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
    return 0


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
    from stretchcast.pipeline import routine_dict

    return {"estimated": True, "routine": routine_dict(routine), **timeline.to_dict()}


def _new(args: argparse.Namespace, routine: Routine) -> int:
    file = Path(args.file)
    if not args.file.strip() or not file.name:
        raise UsageError(f"'{shown(args.file)}' is not a file name", fix="Give a name, like my-routine.yaml.")
    path = file if file.suffix in {".yaml", ".yml"} else file.with_name(file.name + ".yaml")
    changes = _changes(args)
    given = {TITLE.name} if args.title is not None else set()
    try:
        if args.title is not None or changes:
            # the starting routine's description no longer describes this one
            made = f"Made from the '{args.routine}' routine" + (
                f" with {' '.join(changes)}." if changes else "."
            )
            # checked as a routine file's title is when read back; written as typed (trimmed)
            title = (args.title or "").strip()
            if title:
                TITLE.check(title)
            routine = dataclasses.replace(routine, title=title or routine.title, description=made)
        save_routine(routine, path, overwrite=args.force)
    except InputError as err:
        raise _flagged(err, given) from None
    print(f"Wrote {shown(str(path))}. Edit it, then: stretchcast build {shown(str(path))}")
    return 0


def _plan(args: argparse.Namespace, routine: Routine) -> int:
    from stretchcast.pipeline import plan

    timeline = plan(routine)
    if args.json:
        json.dump(_plan_json(timeline, routine), sys.stdout, indent=2)
        print()
    else:
        _print_plan(timeline, routine, args.events)
    return 0


def _build(args: argparse.Namespace, routine: Routine) -> int:
    from stretchcast.pipeline import BuildOptions, build

    options = BuildOptions(
        out_dir=args.out,
        sample_rate=args.sample_rate,
        bitrate=args.bitrate,
        name=args.name,
        split=args.split,
        year=args.year,
        encoder=args.encoder,
    )
    if args.url is not None and not args.url.startswith(("http://", "https://")):
        raise UsageError(f"--url {args.url} is not a web address", fix="Give the address serve prints.")
    # every file the build will write, before a voice is loaded or asked anything
    check_outputs(
        options.out_dir,
        options.name or routine.slug,
        split=options.split,
        also=HANDOUT_FILES if args.handout else (),
    )
    choice = choose_voice(
        args.voice or routine.voice or "auto",
        offline=args.offline,
        settings=voice_commands.settings_from(args),
    )
    if not args.quiet:
        print(f"Voice: {choice.voice.describe()} ({choice.reason})", flush=True)
    progress = TerminalProgress() if not args.quiet else None
    try:
        result = build(
            routine,
            voice=choice,
            options=options,
            on_progress=progress or no_progress,
            cache=voice_commands.cache_from(args),
        )
    finally:
        if progress is not None:
            progress.close()  # a failed build leaves no bar behind its message
    if args.handout:  # beside the track, named like it, so `serve` links it
        from stretchcast.handout import routine_sheet, write_handout  # fpdf: ~0.3 s, only when asked

        sheet = routine_sheet(routine, track=result.mp3.name, url=args.url)
        printed = write_handout(sheet, result.mp3.parent, paper=args.paper, name=result.mp3.stem)
        if not args.quiet:
            print(f"Handout: {printed.pdf.resolve()}")
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
    print(encoder_line(result))
    print(f"Manifest: {result.manifest.resolve()}")
    if result.playlist:
        print(f"Playlist: {result.playlist.resolve()} ({len(result.split)} tracks)")
    print(f"MP3: {result.mp3.resolve()}")
    return 0
