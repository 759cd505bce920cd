"""The command line's voice parts: voice options for ``build``, and the ``voices`` and ``cache`` commands.

The ``build`` command (``cli.routines``) takes its voice options from here.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from stretchcast.voices import ENGINES, RATE_RANGE, VoiceSettings, engine_statuses
from stretchcast.voices.cache import CACHE_ENV, CueCache, default_cache_dir


def _cache_dir_option(p: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    p.add_argument(
        "--cache-dir",
        type=Path,
        metavar="DIR",
        help=f"cue cache folder (default: ${CACHE_ENV}, else {default_cache_dir()})",
    )


def add_voice_options(p: argparse.ArgumentParser) -> None:
    """``build``'s options for how the voice speaks and where spoken cues are kept."""
    g = p.add_argument_group("voice and cue cache")
    lo, hi = RATE_RANGE
    g.add_argument(
        "--rate",
        type=float,
        default=1.0,
        metavar="FACTOR",
        help=f"speaking rate for piper and espeak, {lo:g} to {hi:g} (default 1; gTTS has --slow)",
    )
    g.add_argument("--lang", default="en", metavar="CODE", help="gTTS language (default: en)")
    g.add_argument(
        "--tld", default="com", metavar="DOMAIN", help="gTTS accent by Google domain: com, co.uk, com.au, ..."
    )
    g.add_argument("--slow", action="store_true", help="gTTS speaks slowly")
    _cache_dir_option(g)
    g.add_argument("--no-cache", action="store_true", help="neither read nor save spoken cues")


def voice_help() -> str:
    """The ``--voice`` option's help text."""
    return f"auto (default: gtts if Google answers, else piper, else espeak), or one of {', '.join(ENGINES)}"


def settings_from(args: argparse.Namespace) -> VoiceSettings:
    """The voice settings given on the command line."""
    return VoiceSettings(lang=args.lang, tld=args.tld, slow=args.slow, rate=args.rate)


def cache_from(args: argparse.Namespace) -> CueCache | bool:
    """The cue cache the command line asks for: a folder, none, or the default."""
    if args.no_cache:
        return False
    return CueCache(args.cache_dir) if args.cache_dir else True


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``voices`` and ``cache``."""
    p_voices = sub.add_parser(
        "voices", help="each voice, whether it works here and why not, and what auto picks"
    )
    p_voices.add_argument("--offline", action="store_true", help="do not ask Google")
    p_voices.set_defaults(handler=lambda args: _voices(offline=args.offline))
    p_cache = sub.add_parser("cache", help="the cue cache: 'cache info' shows it, 'cache clear' empties it")
    p_cache.add_argument("action", choices=("info", "clear"), metavar="info|clear", help="info or clear")
    _cache_dir_option(p_cache)
    p_cache.set_defaults(handler=_cache)


def _cache(args: argparse.Namespace) -> int:
    cache = CueCache(args.cache_dir) if args.cache_dir else CueCache.default()
    if args.action == "clear":
        removed = cache.clear()
        print(f"Removed {removed} cues from {cache.root}.")
    else:
        print(cache.info())
    return 0


def _voices(*, offline: bool) -> int:
    statuses = engine_statuses(offline=offline)
    print("Voices (build --voice NAME):\n")
    for status in statuses:
        state = "works here" if status.available else "unavailable"
        print(f"  {status.name:<7} {state:<12} {status.detail}")
    picked = next((s for s in statuses if s.available), None)
    print()
    if picked is None:
        print("auto: no voice works here; reinstall stretchcast.")
        return 3
    skipped = [f"{s.name}: {s.detail}" for s in statuses[: statuses.index(picked)]]
    why = f" (passed over {'; '.join(skipped)})" if skipped else ""
    print(f"auto picks {picked.name}{why}.")
    print("gTTS sends the text of every cue to Google; piper and espeak never use the network.")
    return 0
