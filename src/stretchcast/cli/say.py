"""``stretchcast say TEXT``: hear one line as a track would say it, before building a routine.

The line goes through the collection's pronunciation table and the cue levelling (``sound.say``),
is written as a small MP3 (or WAV, by the file's suffix), and the command prints where, what the
voice was asked to say, and the engines' phonemes with ``--phonemes``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from stretchcast.cli import voices as voice_commands

DEFAULT_OUTPUT = Path("say.mp3")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``say``."""
    p = sub.add_parser(
        "say",
        help="speak one line as a track would (pronunciation table, levelling) into a small MP3",
        description="Speak TEXT with the chosen voice through the content's pronunciation table and "
        "the cue levelling, and write it as an MP3 (or a WAV, by the suffix of -o).",
    )
    p.add_argument("text", nargs="+", metavar="TEXT", help='the line to say, e.g. "Your SI joint."')
    p.add_argument("--voice", metavar="V", help=voice_commands.voice_help())
    p.add_argument("--offline", action="store_true", help="never ask Google (auto picks piper or espeak)")
    p.add_argument(
        "-o",
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        metavar="FILE",
        help=f"where to write it, .mp3 or .wav (default: {DEFAULT_OUTPUT})",
    )
    p.add_argument("--phonemes", action="store_true", help="also print espeak-ng's and Piper's phonemes")
    voice_commands.add_voice_options(p)
    p.set_defaults(handler=_say)


def _say(args: argparse.Namespace) -> int:
    # imported here: registering ``say`` (every command's start) must not load the sound stage
    from stretchcast.content import load_collection
    from stretchcast.output.files import OutputSet, check_writable
    from stretchcast.sound.say import format_for, say
    from stretchcast.voices import choose_voice
    from stretchcast.voices.cache import CueCache
    from stretchcast.voices.phonemes import espeak_phonemes, piper_available, piper_phonemes, problems

    text = " ".join(args.text)
    out: Path = args.output
    fmt = format_for(out.suffix)  # a wrong suffix is a mistake found before any voice is asked
    pronunciations = load_collection(args.content).pronunciations
    check_writable(out.parent)
    choice = choose_voice(
        args.voice or "auto", offline=args.offline, settings=voice_commands.settings_from(args)
    )
    cache = voice_commands.cache_from(args)
    said = say(
        text,
        choice.voice,
        pronunciations=pronunciations,
        cache=CueCache.default() if cache is True else cache or None,
    )
    with OutputSet() as files:
        files.add(out, said.encode(fmt))
        files.commit()
    print(f"Voice: {choice.voice.describe()} ({choice.reason})")
    if said.spoken != said.text:
        print(f"Spoken as: {said.spoken}")
    if args.phonemes:
        print(f"espeak-ng: /{espeak_phonemes(said.spoken)}/")
        if piper_available():
            print(f"Piper:     /{piper_phonemes(said.spoken)}/")
    for problem in problems(said.text, pronunciations):
        print(f"Check: {problem} (add a line to pronunciation.yaml in the content folder)")
    print(f"Wrote {out} ({said.duration_ms / 1000:.1f} s).")
    return 0
