"""Messages in the routine builder's own words, and where each one is shown.

Errors come from the stages below, which speak the command line's language ("--force",
"--voice piper"). The builder has a "Replace if it exists" tick box and a Voice list instead, so
each message is put into its words before it is shown. No widgets here: tests check the words
without a kernel.
"""

from __future__ import annotations

import re

#: (pattern, replacement), most specific first.
_BUILDER_WORDS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\('--force', or 'Replace' in the builder\)"), "(tick 'Replace if it exists')"),
    (re.compile(r"'?--force'?"), "'Replace if it exists'"),
    (
        re.compile(r"Voices: auto, [^(]*\('stretchcast voices' shows which work here\)\."),
        "Choose a voice from the Voice list.",
    ),
    (re.compile(r"use --voice (\w+) \(offline\)"), r"choose \1 in the Voice list (it works offline)"),
    (re.compile(r"use --voice (\w+)"), r"choose \1 in the Voice list"),
    (re.compile(r" with --voice\b"), " from the Voice list"),
    (re.compile(r"--voice (\w+)"), r"\1 (in the Voice list)"),
    (re.compile(r"--voice\b"), "the Voice list"),
    (re.compile(r"not tried: --offline"), "not tried: the builder was made offline"),
    (re.compile(r"--pace\b"), "the Pace slider"),
    (re.compile(r"--name\b"), "the File name"),
)

#: Where a problem with each setting is shown: the message area beside its control.
SLOTS = ("title", "exercises", "fit", "guidance", "plan", "render", "save")


def builder_words(message: str) -> str:
    """``message`` with the command line's options replaced by the builder's controls."""
    for pattern, replacement in _BUILDER_WORDS:
        message = pattern.sub(replacement, message)
    return message


def slot_for(setting: str) -> str:
    """The message area beside the control for ``setting`` (a model trait or an exercise's field)."""
    if setting in ("preset", "title", "file_name"):
        return "title"
    if setting in ("include", "reps", "hold", "rest", "sets", "exercises", "order"):
        return "exercises"
    if setting in ("voice", "pace", "rounds", "chimes", "countdown"):
        return "guidance"
    return "plan"


__all__ = ["SLOTS", "builder_words", "slot_for"]
