"""HTTP for files, the parts ``http.server`` leaves out: safe paths, ranges, validators, media types.

Each is a small pure function of header values, so the tests can drive every edge case directly.

Paths: a request path is split into segments, each percent-decoded once and refused if it is
empty, ``.`` or ``..``, hidden (a leading dot: dotfiles and the build's temporary ``.part`` files),
or holds a slash, backslash, colon or control character; a file must have a served suffix, lie at
most one folder deep and resolve (symlinks followed) inside the served folder.

Ranges (RFC 9110 section 14): one range is answered 206; a request for several ranges is answered
with the whole file (200), which the RFC allows (a server may ignore ``Range``), browsers never
ask for more than one, and it spares a multipart encoder. A ``Range`` header that does not parse,
or names another unit, is ignored the same way. One whose every range starts at or beyond the end
of the file is answered 416 with ``Content-Range: bytes */size``.
"""

from __future__ import annotations

import email.utils
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timezone
from pathlib import Path
from urllib.parse import unquote

# Fixed here rather than taken from ``mimetypes``, whose answers depend on the platform's tables
# (.vtt and .m3u8 are missing from many). The .m3u8 files are extended M3U playlists of MP3s, not
# HLS streams, so they get the playlist type that players open rather than Apple's HLS type.
MEDIA_TYPES: Mapping[str, str] = {
    ".mp3": "audio/mpeg",
    ".vtt": "text/vtt; charset=utf-8",
    ".m3u8": "audio/mpegurl",
    ".m3u": "audio/mpegurl",
    ".json": "application/json",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".xml": "application/rss+xml; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".pdf": "application/pdf",
}
# What a build leaves in the folder that a phone may fetch; everything else there is never served.
SERVED_SUFFIXES = frozenset({".mp3", ".vtt", ".m3u8", ".m3u", ".json", ".png", ".jpg", ".jpeg", ".pdf"})
MAX_DEPTH = 2  # <slug>.mp3 at the top, <slug>/NN-<exercise>.mp3 one folder down


def url_segments(target: str) -> tuple[str, ...] | None:
    """The decoded path segments of a request target, or None if it could reach outside the folder.

    "/" is ``()``; the query is dropped. Each segment is percent-decoded once (so ``%2e%2e`` is
    ``..`` and refused, and ``%2f`` cannot join two segments) and must be a plain, visible name.
    """
    path = target.partition("?")[0].partition("#")[0]
    if not path.startswith("/"):
        return None  # absolute-form ("http://host/...") and anything odder: not for this server
    if path == "/":
        return ()
    segments = []
    for raw in path[1:].split("/"):
        try:
            segment = unquote(raw, errors="strict")
        except UnicodeDecodeError:
            return None
        if not plain_name(segment):
            return None
        segments.append(segment)
    return tuple(segments)


def plain_name(name: str) -> bool:
    """True for a visible file or folder name with nothing a path could be built from."""
    return (
        bool(name)
        and not name.startswith(".")  # "..", ".", dotfiles, the build's ".name.part" files
        and not name.endswith(".part")
        and not any(c in name for c in "/\\:")
        and all(ord(c) >= 32 and ord(c) != 127 for c in name)
    )


def resolve_file(root: Path, segments: tuple[str, ...]) -> Path | None:
    """The served file that ``segments`` name under ``root`` (already resolved), or None.

    Symlinks are followed and must end inside ``root``, at a regular file with a served suffix
    and no hidden name anywhere on its real path.
    """
    if not segments or len(segments) > MAX_DEPTH or not all(plain_name(s) for s in segments):
        return None
    if Path(segments[-1]).suffix.lower() not in SERVED_SUFFIXES:
        return None
    real = Path(os.path.realpath(root.joinpath(*segments)))
    try:
        inside = real.relative_to(root)
    except ValueError:
        return None
    if len(inside.parts) > MAX_DEPTH or not all(plain_name(p) for p in inside.parts):
        return None
    if real.suffix.lower() not in SERVED_SUFFIXES or not real.is_file():
        return None
    return real


# --- ranges and conditional requests ----------------------------------------------------------------


@dataclass(frozen=True)
class ByteRange:
    """Bytes ``start`` to ``end`` (both included) of a representation ``size`` bytes long."""

    start: int
    end: int
    size: int

    @property
    def length(self) -> int:
        """How many bytes the range holds."""
        return self.end - self.start + 1

    @property
    def content_range(self) -> str:
        """The ``Content-Range`` value of a 206 answer."""
        return f"bytes {self.start}-{self.end}/{self.size}"


class RangeNotSatisfiableError(Exception):
    """Every range asked for starts at or beyond the end of the file: answer 416."""


_INT_RANGE = re.compile(r"([0-9]+)-([0-9]*)")
_SUFFIX_RANGE = re.compile(r"-([0-9]+)")


def select_range(header: str, size: int) -> ByteRange | None:
    """What to send for ``Range: header`` on a ``size``-byte file: one range, or None for all of it.

    Follows RFC 9110 section 14: an unknown unit or a malformed range set is ignored (None), as is
    a request for several ranges (see the module's docstring); raises RangeNotSatisfiableError when no
    range asked for overlaps the file (``bytes=size-``, ``bytes=-0``).
    """
    unit, equals, range_set = header.partition("=")
    if not equals or unit.strip().lower() != "bytes":
        return None
    specs = [s.strip() for s in range_set.split(",")]
    specs = [s for s in specs if s]  # the list syntax allows empty elements
    if not specs:
        return None
    satisfiable: list[ByteRange] = []
    for spec in specs:
        if m := _INT_RANGE.fullmatch(spec):
            first = int(m[1])
            last = int(m[2]) if m[2] else None
            if last is not None and last < first:
                return None  # invalid range-spec: the whole header is ignored
            if first < size:
                end = size - 1 if last is None else min(last, size - 1)
                satisfiable.append(ByteRange(first, end, size))
        elif m := _SUFFIX_RANGE.fullmatch(spec):
            suffix = int(m[1])
            if suffix > 0 and size > 0:
                satisfiable.append(ByteRange(max(size - suffix, 0), size - 1, size))
        else:
            return None
    if not satisfiable:
        raise RangeNotSatisfiableError(header)
    if len(specs) > 1:
        return None
    return satisfiable[0]


@dataclass(frozen=True)
class Validators:
    """What identifies one version of a representation: a strong ETag and, for files, its mtime."""

    etag: str
    last_modified: int | None = None  # whole seconds since the epoch (HTTP dates have no fractions)

    @property
    def last_modified_header(self) -> str | None:
        """``Last-Modified`` as an HTTP date, or None."""
        if self.last_modified is None:
            return None
        return email.utils.formatdate(self.last_modified, usegmt=True)


_ENTITY_TAG = re.compile(r'(W/)?"([^"]*)"')


def _http_date(value: str) -> int | None:
    """Seconds since the epoch for an HTTP date, or None if it is not one."""
    try:
        parsed = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed.tzinfo is None:  # "-0000" in RFC 2822 means UTC of unknown origin: still UTC
        parsed = parsed.replace(tzinfo=timezone.utc)
    return int(parsed.timestamp())


def not_modified(if_none_match: str | None, if_modified_since: str | None, validators: Validators) -> bool:
    """True if a GET or HEAD with these header values should get 304 (RFC 9110 section 13.2.2).

    ``If-None-Match`` wins over ``If-Modified-Since``; tags compare weakly (``W/`` ignored).
    """
    if if_none_match is not None:
        if if_none_match.strip() == "*":
            return True
        ours = _ENTITY_TAG.fullmatch(validators.etag)
        tags = {m[2] for m in _ENTITY_TAG.finditer(if_none_match)}
        return ours is not None and ours[2] in tags
    if if_modified_since is None or validators.last_modified is None:
        return False
    when = _http_date(if_modified_since)
    return when is not None and validators.last_modified <= when


def if_range_allows(value: str, validators: Validators) -> bool:
    """True if ``If-Range: value`` still names this version, so the ``Range`` may be honoured.

    An entity tag must match strongly (a weak one never does); a date must equal Last-Modified.
    """
    value = value.strip()
    if value.startswith(('"', "W/")):
        return not value.startswith("W/") and value == validators.etag
    when = _http_date(value)
    return when is not None and when == validators.last_modified
