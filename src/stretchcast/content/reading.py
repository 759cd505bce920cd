"""Read a file whole, but never more than a limit, and only if it is a regular file.

Every file stretchcast reads (content, routine files, manifests, playlists) goes through
:func:`read_bounded`: it opens the file once, asks the open file what it is, and reads at most
``limit + 1`` bytes, so a link to ``/dev/zero``, a FIFO nobody writes to or a file of gigabytes is
refused with its true reason instead of hanging or filling memory. Opening with ``O_NONBLOCK`` keeps
the open of a FIFO from waiting for a writer; it changes nothing for a regular file.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from stretchcast.errors import ContentError, StretchcastError, Where


def _kind(mode: int) -> str:
    """What a file that is not a regular file is, in plain words."""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _size(n: int) -> str:
    return f"{n // 1024} KiB" if n < 1024 * 1024 * 10 else f"{n // (1024 * 1024)} MiB"


def read_bounded(
    path: Path,
    limit: int,
    *,
    error: type[StretchcastError] = ContentError,
    what: str = "file",
    fix: str | None = None,
) -> bytes:
    """The bytes of the regular file ``path``, at most ``limit``; else ``error`` saying why not.

    ``what`` names the file in messages ("content file", "manifest"); ``fix`` is the advice for a
    file that is missing.
    """
    where = Where(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise error("file not found", where=where, fix=fix or "Check the path.") from None
    except OSError as err:
        fix = None
        if err.errno == errno.ELOOP:
            problem = "is a symbolic link that leads round in a loop"
            fix = f"Point the link at a {what}, or give the {what}'s own path."
        elif err.errno in (errno.EACCES, errno.EPERM):
            problem = "cannot be read (permission denied)"
        elif err.errno == errno.ENOTDIR:
            problem = "is not a file: a part of its path is a file, not a folder"
        else:
            problem = f"cannot be read ({err.strerror or err})"
        raise error(problem, where=where, fix=fix) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            kind = _kind(st.st_mode)
            raise error(f"is {kind}, not a {what}", where=where, fix=f"Give the path to a {what}.")
        chunks: list[bytes] = []
        left = limit + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 16))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    except OSError as err:
        raise error(f"cannot be read ({err.strerror or err})", where=where) from None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > limit:
        size = max(st.st_size, len(data))
        raise error(
            f"file is {_size(size)}; a {what} is at most {_size(limit)}",
            where=where,
            fix=f"Is this the right file? A {what} is much smaller.",
        )
    return data
