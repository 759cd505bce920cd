"""The one exception family: every error stretchcast reports to a person.

Each message names what was wrong, where (file, line, field) and what to do about it. The
command line prints ``str(error)`` and exits with ``error.exit_code``; nothing else needs a
traceback unless ``--debug`` is given.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


def shown(text: str) -> str:
    """``text`` safe to print on one line: control characters as escapes (``\\n``, ``\\x1b``).

    File names and values people typed are echoed in messages; a name holding terminal escape codes
    must not clear the screen, and a value holding a newline must not spread over several lines.
    """
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


@dataclass(frozen=True)
class Where:
    """A place in an input: a file, optionally a line and column, optionally a field path."""

    path: Path | str | None = None
    line: int | None = None  # 1-based
    column: int | None = None  # 1-based
    field: str | None = None

    def __str__(self) -> str:
        parts: list[str] = []
        if self.path is not None:
            loc = shown(str(self.path))
            if self.line is not None:
                loc += f", line {self.line}"
                if self.column is not None:
                    loc += f", column {self.column}"
            parts.append(loc)
        if self.field:
            parts.append(f"field '{shown(self.field)}'")
        return ", ".join(parts)


class StretchcastError(Exception):
    """Base class: something went wrong that the user can understand and act on."""

    exit_code = 1

    def __init__(self, problem: str, *, where: Where | None = None, fix: str | None = None) -> None:
        self.problem = problem
        self.where = where
        self.fix = fix
        super().__init__(self.message)

    @property
    def head(self) -> str:
        """The first line: where, then what was wrong."""
        return f"{self.where}: {self.problem}" if self.where and str(self.where) else self.problem

    @property
    def message(self) -> str:
        """The whole message: where, what, and the fix, in at most two lines."""
        return f"{self.head}\n  {self.fix}" if self.fix else self.head


class InputError(StretchcastError):
    """Bad input from the user: a content or routine file, a ``--set`` or a CLI value."""

    exit_code = 2


class ContentError(InputError):
    """An exercise, collection or routine file is malformed or out of range."""


class UsageError(InputError):
    """A command-line value is wrong (an unknown routine, a bad ``--set``)."""


class VoiceError(StretchcastError):
    """A voice engine cannot speak: not installed, unreachable, or it failed."""

    exit_code = 3


class OutputError(StretchcastError):
    """Output could not be written (folder not writable, disk full); nothing was left behind."""

    exit_code = 4


def closest(word: str, choices: Sequence[str]) -> str | None:
    """The choice ``word`` was most likely meant to be, or None.

    Two swapped neighbouring letters ("rpes") are the commonest typo and beat any other near
    match (difflib alone would offer "rest", a valid field that silently changes the routine).
    """
    if word in choices:
        return word
    lowered = {c.lower(): c for c in choices}
    if word.lower() in lowered:
        return lowered[word.lower()]
    for i in range(len(word) - 1):
        swapped = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        if swapped.lower() in lowered:
            return lowered[swapped.lower()]
    close = difflib.get_close_matches(word, list(choices), n=1)
    return close[0] if close else None


def did_you_mean(word: str, choices: Sequence[str]) -> str:
    """ "Did you mean 'x'? " when a choice is close to ``word``, else ""."""
    best = closest(word, choices)
    return f"Did you mean '{best}'? " if best and best != word else ""
