"""Write a build's files all or nothing: staged beside their targets, then renamed together.

Every file is written to a hidden temporary file in the same folder and renamed into place only
once it is complete (and with :class:`OutputSet`, only once every file of the build is complete),
so a crash, a full disk or Ctrl-C leaves the previous track untouched and no partial file behind.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import re
import signal
import tempfile
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from stretchcast.atomic import temporary_beside
from stretchcast.errors import OutputError, Where

log = logging.getLogger(__name__)

#: The most a manifest is read of. The longest routine's manifest is a few hundred KiB (every event
#: listed); a file far larger is not a manifest, and is refused without being read into memory.
MAX_MANIFEST_BYTES = 16 * 1024 * 1024


def _explain(err: OSError, path: Path) -> OutputError:
    if err.errno == errno.ENOSPC:
        return OutputError("the disk is full", where=Where(path), fix="Free some space and build again.")
    if err.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return OutputError(
            "cannot write here (permission denied or read-only)",
            where=Where(path),
            fix="Choose another folder with -o DIR.",
        )
    return OutputError(f"cannot write ({err.strerror or err})", where=Where(path), fix=_OTHER_FOLDER)


_OTHER_FOLDER = "Choose another output folder (-o DIR on the command line)."


def _loop(path: Path) -> bool:
    """Whether ``path`` is a symbolic link that leads round in a loop."""
    try:
        path.stat()
    except OSError as err:
        return err.errno == errno.ELOOP
    return False


def check_writable(folder: Path) -> None:
    """Fail early, before any synthesis, if ``folder`` cannot take new files.

    Nothing is created: a folder that does not exist yet is made when the first file is written,
    so a build that fails before then leaves no trace.
    """
    existing = folder
    while not os.path.lexists(existing) and existing != existing.parent:
        existing = existing.parent
    if _loop(existing):
        raise OutputError(
            "cannot write here: it is a symbolic link that leads round in a loop",
            where=Where(existing),
            fix=_OTHER_FOLDER,
        )
    if not existing.is_dir():
        raise OutputError(
            "cannot write here: it is a file, not a folder" if existing.exists() else "cannot write here",
            where=Where(existing),
            fix=_OTHER_FOLDER,
        )
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as err:
        raise _explain(err, folder) from err


#: What each file a build writes is, for messages: its name's ending and its description.
_TRACK_FILES = (
    (".mp3", "the MP3"),
    (".json", "the manifest"),
    (".vtt", "the captions"),
    (".png", "the cover"),
    (".m3u8", "the playlist"),
)


def check_outputs(folder: Path, slug: str, *, split: bool, also: Sequence[tuple[str, str]] = ()) -> None:
    """Fail before any synthesis if a build named ``slug`` cannot put its files in ``folder``.

    Besides :func:`check_writable`: a folder, or a symbolic link loop, where one of the track's
    files goes (a file there is fine: it is replaced whole), and for ``split`` a file or a loop
    where the folder of split tracks goes. Found after the voice has spoken every cue, each of
    these would cost minutes; found here, none of it is done. ``also`` names more files the
    command writes beside the track, as (suffix, what it is).
    """
    check_writable(folder)
    for suffix, what in (*_TRACK_FILES, *also):
        path = folder / f"{slug}{suffix}"
        if _loop(path):
            raise OutputError(
                f"cannot write {what}: a symbolic link that leads round in a loop is in its place",
                where=Where(path),
                fix="Remove the link, or choose another folder (-o DIR) or name (--name NAME).",
            )
        if path.is_dir():
            raise OutputError(
                f"cannot write {what}: a folder is in its place",
                where=Where(path),
                fix="Move the folder away, or choose another folder (-o DIR) or name (--name NAME).",
            )
    tracks = folder / slug
    if split and (_loop(tracks) or (os.path.lexists(tracks) and not tracks.is_dir())):
        raise OutputError(
            "cannot write the split tracks: a file is where their folder goes",
            where=Where(tracks),
            fix="Move the file away, or choose another folder (-o DIR) or name (--name NAME).",
        )


@contextlib.contextmanager
def exclusive(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``folder`` while the block runs (waiting for any other holder).

    Two builds writing into one folder at once take turns to put their files in place, so the
    folder never holds one build's MP3 beside the other's manifest. The lock is taken on the
    folder itself (``flock`` on its descriptor), so no lock file is ever left behind. Where
    ``fcntl`` does not exist (Windows) the block runs unlocked.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not on the platforms CI runs
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


@contextlib.contextmanager
def interrupts_deferred() -> Iterator[None]:
    """Let Ctrl-C wait until the block has finished, then raise it.

    Used around the renames that put a build's files in place: stopping halfway would leave a new
    MP3 beside an old manifest. Outside the main thread (where signals cannot be handled) it does
    nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, _frame: received.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous if previous is not None else signal.default_int_handler)
    if received:
        raise KeyboardInterrupt


class OutputSet:
    """Files written together: each staged to a temporary file beside its target, then all renamed.

    Nothing replaces an existing file until every file of the set has been written and flushed,
    so a failure at any point leaves the previous build's files as they were and removes the
    temporary files. ``commit`` renames in the order files were added: add the index (the
    manifest) last, so a reader never finds it pointing at a file that is not there yet.
    """

    def __init__(self) -> None:
        self._staged: list[tuple[Path, Path]] = []
        self._made_dirs: list[Path] = []

    def __enter__(self) -> OutputSet:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is not None:
            self.discard()

    def add(self, path: Path, data: bytes) -> None:
        """Stage ``data`` to become ``path``."""
        with self.stream(path) as fp:
            fp.write(data)

    @contextlib.contextmanager
    def stream(self, path: Path) -> Iterator[IO[bytes]]:
        """Stage a file to become ``path``, written through the file object given (seekable).

        For outputs too large to hold whole, such as an MP3 encoded as it is written. The file is
        flushed and synced when the block ends; an error inside it discards the whole set.
        """
        tmp = self._stage(path)
        try:
            with tmp.open("r+b") as fp:
                yield fp
                fp.flush()
                os.fsync(fp.fileno())
            tmp.chmod(0o644)
        except OSError as err:
            raise _explain(err, path) from err

    def _stage(self, path: Path) -> Path:
        """A new empty temporary file beside ``path``, recorded so commit or discard will find it."""
        try:
            if not path.parent.is_dir():
                missing = [p for p in (path.parent, *path.parent.parents) if not p.exists()]
                path.parent.mkdir(parents=True, exist_ok=True)
                self._made_dirs.extend(missing)
            tmp = temporary_beside(path)
        except OSError as err:
            raise _explain(err, path.parent) from err
        self._staged.append((tmp, path))
        return tmp

    def add_text(self, path: Path, text: str) -> None:
        """Stage UTF-8 ``text`` to become ``path``."""
        self.add(path, text.encode("utf-8"))

    def commit(self) -> None:
        """Move every staged file into place, in the order added."""
        try:
            for tmp, path in self._staged:
                tmp.replace(path)
        except OSError as err:
            self.discard()
            raise _explain(err, path) from err
        self._staged = []
        self._made_dirs = []

    def discard(self) -> None:
        """Remove the staged files (and folders made for them that are left empty)."""
        for tmp, _path in self._staged:
            tmp.unlink(missing_ok=True)
        self._staged = []
        for folder in self._made_dirs:
            with contextlib.suppress(OSError):
                folder.rmdir()
        self._made_dirs = []


def remove_stale(folder: Path, keep: set[str], pattern: re.Pattern[str]) -> list[Path]:
    """Delete files in ``folder`` named like ``pattern`` and not in ``keep``: a previous build's leftovers."""
    removed: list[Path] = []
    if not folder.is_dir():
        return removed
    for path in sorted(folder.iterdir()):
        if path.is_file() and pattern.fullmatch(path.name) and path.name not in keep:
            path.unlink()
            removed.append(path)
            log.debug("removed stale %s", path)
    with contextlib.suppress(OSError):
        folder.rmdir()  # only if empty
    return removed


def json_text(data: dict[str, Any]) -> str:
    """``data`` as the pretty, stable JSON every manifest uses."""
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
