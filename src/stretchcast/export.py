"""Write a track's files into the output folder: MP3 with ID3 tags and chapters, and the manifest.

Every file is written to a hidden temporary file in the same folder and renamed into place only
once it is complete, so a crash, a full disk or Ctrl-C leaves the previous track untouched and no
partial file behind.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from mutagen.id3 import CHAP, COMM, CTOC, ID3, TALB, TCON, TIT2, TPE1, TRCK, CTOCFlags

from .errors import OutputError, Where
from .timeline import Chapter

log = logging.getLogger(__name__)


def _explain(err: OSError, path: Path) -> OutputError:
    if err.errno == errno.ENOSPC:
        return OutputError("the disk is full", where=Where(path), fix="Free some space and build again.")
    if err.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return OutputError(
            "cannot write here (permission denied or read-only)",
            where=Where(path),
            fix="Choose another folder with -o DIR.",
        )
    return OutputError(f"cannot write ({err.strerror or err})", where=Where(path))


@contextlib.contextmanager
def atomic_file(path: Path, mode: str = "wb") -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path``; on success it replaces ``path``, on any error it vanishes."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    except OSError as err:
        raise _explain(err, path.parent) from err
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, mode) as fp:
            yield fp
            fp.flush()
            os.fsync(fp.fileno())
        tmp.chmod(0o644)
        tmp.replace(path)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise _explain(err, path) from err
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def check_writable(folder: Path) -> None:
    """Fail early, before any synthesis, if ``folder`` cannot take new files.

    Nothing is created: a folder that does not exist yet is made when the first file is written,
    so a build that fails before then leaves no trace.
    """
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise OutputError(
            "cannot write here: it is a file, not a folder",
            where=Where(existing),
            fix="Choose another output folder (-o DIR on the command line).",
        )
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as err:
        raise _explain(err, folder) from err


@dataclass(frozen=True)
class Tags:
    """What a phone shows for a track."""

    title: str
    album: str
    artist: str = "stretchcast"
    genre: str = "Fitness"
    track: int | None = None
    tracks: int | None = None
    comment: str | None = None


def id3_tag(tags: Tags, chapters: tuple[Chapter, ...] = ()) -> ID3:
    """An ID3v2.4 tag with the basics, and one CHAP per chapter listed, in order, by a CTOC."""
    id3 = ID3()
    id3.add(TIT2(encoding=3, text=tags.title))
    id3.add(TPE1(encoding=3, text=tags.artist))
    id3.add(TALB(encoding=3, text=tags.album))
    id3.add(TCON(encoding=3, text=tags.genre))
    if tags.track is not None:
        id3.add(TRCK(encoding=3, text=f"{tags.track}/{tags.tracks}" if tags.tracks else str(tags.track)))
    if tags.comment:
        id3.add(COMM(encoding=3, lang="eng", desc="", text=tags.comment))
    ids = []
    for i, ch in enumerate(chapters):
        element = f"chp{i:03d}"
        ids.append(element)
        id3.add(
            CHAP(
                element_id=element,
                start_time=ch.start_ms,
                end_time=ch.end_ms,
                start_offset=0xFFFFFFFF,
                end_offset=0xFFFFFFFF,
                sub_frames=[TIT2(encoding=3, text=ch.title)],
            )
        )
    if ids:
        id3.add(
            CTOC(
                element_id="toc",
                flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
                child_element_ids=ids,
                sub_frames=[TIT2(encoding=3, text="Exercises")],
            )
        )
    return id3


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` as pretty JSON, atomically."""
    with atomic_file(path, "w") as fp:
        json.dump(data, fp, indent=2, ensure_ascii=False)
        fp.write("\n")
