"""Spoken forms apart from written forms: a collection's pronunciation table.

``content/<collection>/pronunciation.yaml`` maps a written word to what a voice should be asked to
say instead (``SI: S I``, so no engine reads the SI joint as the "see joint"). The table is applied
to every cue just before it reaches a voice or the cue cache (``sound.cues.CueSet``), so captions,
chapters, tags and the manifest keep the written text, while the cache is keyed by what is said:
adding an entry re-speaks exactly the cues it changes, once.

A written word is matched whole and case-sensitively: ``SI`` changes "SI joint" and "SI's", but not
"Sit" or "si". The table is applied in one pass, so a spoken form is never looked up again.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from stretchcast.content import strict_yaml as _yaml

FILE_NAME = "pronunciation.yaml"
_WORD = re.compile(r"^[A-Za-z0-9][A-Za-z0-9'.-]*$")
_SPOKEN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9' ,.-]*$")


@dataclass(frozen=True)
class Pronunciations:
    """Written word -> spoken form; ``spoken(text)`` is what a voice is asked to say for ``text``."""

    entries: tuple[tuple[str, str], ...] = ()
    _pattern: re.Pattern[str] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.entries:
            # Longest first, so "SIJ" wins over "SI" when both are listed.
            words = sorted((w for w, _ in self.entries), key=len, reverse=True)
            alternatives = "|".join(re.escape(w) for w in words)
            # Whole words: not inside a longer word (letters, digits, underscore) on either side.
            object.__setattr__(self, "_pattern", re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)"))

    @property
    def table(self) -> Mapping[str, str]:
        """The entries as a mapping."""
        return dict(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.entries)

    def spoken(self, text: str) -> str:
        """``text`` as a voice should be asked to say it."""
        if self._pattern is None:
            return text
        table = self.table
        return self._pattern.sub(lambda m: table[m.group(0)], text)


NONE = Pronunciations()


def load_pronunciations(root: Path) -> Pronunciations:
    """``root/pronunciation.yaml`` checked field by field (an empty table when there is no file)."""
    path = root / FILE_NAME
    if not path.is_file():
        return NONE
    node = _yaml.read_document(path)
    doc = _yaml.Mapping(node, path, fix="Write one 'WORD: spoken form' line per word, like 'SI: S I'.")
    entries: list[tuple[str, str]] = []
    for word in doc:
        spoken = doc.text(word, max_len=80)
        assert spoken is not None  # required
        if not _WORD.match(word):
            raise doc.error(
                f"'{word}' is not a single written word",
                key=word,
                fix="Name one word as it is written in the content, like 'SI' or 'Pilates'.",
            )
        if not _SPOKEN.match(spoken):
            raise doc.error(
                f"spoken form '{spoken}' has characters a voice would read out or trip on",
                key=word,
                fix="Use plain words, letters and spaces, like 'S I'.",
            )
        if spoken == word:
            raise doc.error(
                f"'{word}' is spoken as written; the entry changes nothing",
                key=word,
                fix="Remove the line, or give the form the voices should say.",
            )
        entries.append((word, spoken))
    doc.finish()
    return Pronunciations(tuple(entries))


__all__ = ["FILE_NAME", "NONE", "Pronunciations", "load_pronunciations"]
