"""Which text is printable: the rule every text field follows, where it is read and where it is written.

Control characters (escape codes, bidirectional overrides, NUL) are refused wherever text enters,
because they end up in spoken cues, ID3 tags, page titles and terminals. Real emoji sequences are
allowed: a zero-width joiner (U+200D) or non-joiner (U+200C) between two symbols or letters (a
person in lotus position with a skin tone, a family; joins in Indic and Persian scripts), and the
tag characters of a subdivision flag (the black flag U+1F3F4, tags, then the cancel tag U+E007F).
Regional-indicator flags, variation selectors and skin-tone modifiers are printable already.
"""

from __future__ import annotations

import unicodedata

from stretchcast.errors import ContentError, Where

_JOINERS = frozenset("\u200c\u200d")
_BLACK_FLAG = "\U0001f3f4"
_CANCEL_TAG = "\U000e007f"


def _is_tag(c: str) -> bool:
    return "\U000e0020" <= c <= "\U000e007e"


def _joinable(c: str) -> bool:
    """Whether a joiner may stand next to ``c``: a symbol, a letter or a mark (never a control)."""
    return unicodedata.category(c)[0] in "LMS"


def _in_tag_sequence(text: str, i: int) -> bool:
    """Whether ``text[i]`` is part of a flag's tag sequence: U+1F3F4, tags, U+E007F."""
    start = i
    while start > 0 and _is_tag(text[start - 1]):
        start -= 1
    if start == 0 or text[start - 1] != _BLACK_FLAG:
        return False
    end = i
    while end < len(text) and _is_tag(text[end]):
        end += 1
    return end < len(text) and text[end] == _CANCEL_TAG and end > start


def unprintable(text: str, *, newlines: bool = True) -> str | None:
    """The first character of ``text`` that is not printable text (by the rule above), or None."""
    last = len(text) - 1
    for i, c in enumerate(text):
        if c.isprintable() or (newlines and c == "\n"):
            continue
        if c in _JOINERS and 0 < i < last and _joinable(text[i - 1]) and _joinable(text[i + 1]):
            continue
        if (_is_tag(c) or c == _CANCEL_TAG) and _in_tag_sequence(text, i):
            continue
        return c
    return None


def check_text(value: str, where: Where, *, max_len: int) -> str:
    """Check that ``value`` is a short, printable line of text; return it with spaces tidied."""
    text = value.strip()
    if not text:
        raise ContentError("must not be empty", where=where)
    if len(text) > max_len:
        raise ContentError(
            f"text is {len(text)} characters long; at most {max_len} are allowed",
            where=where,
            fix="Split it into shorter sentences: they are spoken one at a time.",
        )
    bad = unprintable(text)
    if bad is not None:
        raise ContentError(f"contains a control character (U+{ord(bad):04X})", where=where, fix="Remove it.")
    return " ".join(text.split())
