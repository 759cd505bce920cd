"""Numbers and durations as spoken English: "eight", "two seconds", "about seven minutes"."""

from __future__ import annotations

_ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def number(n: int) -> str:
    """``n`` in words for 0 to 999 ("forty-two"); digits beyond that."""
    if n < 0 or n > 999:
        return str(n)
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens] + (f"-{_ONES[ones]}" if ones else "")
    hundreds, rest = divmod(n, 100)
    return f"{_ONES[hundreds]} hundred" + (f" and {number(rest)}" if rest else "")


def seconds(value: float) -> str:
    """A duration in seconds as spoken: "one second", "ten seconds", "two and a half seconds"."""
    whole = int(value)
    half = abs(value - whole - 0.5) < 1e-9
    if whole == 1 and not half:
        return "one second"
    if whole == 0 and half:
        return "half a second"
    return f"{number(whole)}{' and a half' if half else ''} seconds"


def minutes(ms: int) -> str:
    """A track length as a spoken estimate: "about a minute", "about seven minutes"."""
    whole = max(1, round(ms / 60000))
    return "about a minute" if whole == 1 else f"about {number(whole)} minutes"


def clock(ms: int) -> str:
    """A time or length for screens: "6:05" or "1:02:03".

    Whole seconds are cut, not rounded, as audio players do: a chapter listed at 0:29 starts
    where the player's clock shows 0:29, and a track's length matches the player's.
    """
    total = ms // 1000
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"
