"""Files written whole or not at all: a hidden temporary file beside the target, then renamed.

A reader (a player, the phone page, another build, the cue cache in another process) finds the old
file or the new one, never part of one, and whatever stops a write (a full disk, Ctrl-C) leaves no
temporary file behind. Every file the product writes goes through here: routine files, cue cache
entries and prepared cues, and (staged together, see ``output.files.OutputSet``) a build's files.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

#: Temporary files end so (the server refuses to serve them; ``stretchcast cache info`` counts them).
PARTIAL_SUFFIX = ".part"


def temporary_beside(path: Path, *, prefix: str | None = None) -> Path:
    """A new, empty, hidden file in ``path``'s folder, named after it: ``.<name>.XXXXXXXX.part``.

    Beside the target, so that renaming it into place never crosses a file system. The file is the
    caller's to fill, rename and, on failure, remove.
    """
    fd, name = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}." if prefix is None else prefix, suffix=PARTIAL_SUFFIX
    )
    os.close(fd)
    return Path(name)


def write_atomic(
    path: Path,
    data: bytes | Sequence[bytes],
    *,
    replace: bool = True,
    sync: bool = False,
    mode: int | None = None,
    prefix: str | None = None,
) -> None:
    """Write ``data`` (bytes, or pieces written in order) to ``path`` whole, or not at all.

    With ``replace=False`` the file is linked into place, which never replaces an existing name: a
    ``FileExistsError`` then, with no window between a caller's check and the write in which
    another writer's file could be clobbered. ``sync`` flushes the file to disk before it appears
    (for what a person wrote; cache entries skip it, since a torn entry fails its checksum and is
    made again). ``mode`` sets the permissions (the temporary file is made private, 0600).
    Errors are the ``OSError`` that stopped the write; the caller says what it means.
    """
    pieces = (data,) if isinstance(data, bytes) else data
    tmp = temporary_beside(path, prefix=prefix)
    placed = False
    try:
        with tmp.open("wb") as fp:
            for piece in pieces:
                fp.write(piece)
            if sync:
                fp.flush()
                os.fsync(fp.fileno())
        if mode is not None:
            tmp.chmod(mode)
        if replace:
            tmp.replace(path)
            placed = True
        else:
            os.link(tmp, path)
    finally:
        if not placed:
            with contextlib.suppress(OSError):
                tmp.unlink()


__all__ = ["PARTIAL_SUFFIX", "temporary_beside", "write_atomic"]
