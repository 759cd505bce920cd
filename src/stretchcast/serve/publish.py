"""``stretchcast publish``: the phone page, feed and tracks as a static folder for any static host.

The site is what ``serve`` answers, written as files: ``index.html`` (the page, every link in it
relative, so it works under any path prefix), ``feed.xml`` (absolute URLs under the base URL, as
podcast apps need), ``sw.js`` and ``static/`` (the page's own files), ``chapters/<stem>.json``,
``art/<stem>.png`` (covers taken from the MP3s' tags), and the folder's MP3s, captions, playlists,
split tracks and week covers at the same paths as in the served folder. The page and the feed come
from the same renderers as ``serve``'s.

Written whole or not at all: everything goes into a hidden staging folder beside the target,
which is renamed into place once complete; a previous site there is moved aside first and
removed after. A bad base URL, a missing folder or a target that is not a site stops before
anything is written.
"""

from __future__ import annotations

import errno
import shutil
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

from stretchcast.errors import OutputError, UsageError, Where
from stretchcast.output.files import interrupts_deferred
from stretchcast.serve.figures import figure_file, figure_names
from stretchcast.serve.library import ServedRoutine, cover_for, scan
from stretchcast.serve.pages import render_feed, render_page
from stretchcast.serve.podcast import chapters_json, chapters_path

# What a published site always holds: how a folder is recognised as one publish may replace.
SITE_MARKERS = ("index.html", "feed.xml")
# A static host sends no Content-Security-Policy header of ours, so the page carries the policy
# serve sends as a header (less frame-ancestors, which a <meta> cannot set): nothing from elsewhere.
_CSP_META = (
    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'self'; img-src 'self'; "
    "media-src 'self'; style-src 'self'; script-src 'self'; worker-src 'self'; object-src 'none'; "
    "base-uri 'none'\">\n"
)


@dataclass(frozen=True)
class Site:
    """A published site: where it is, its feed's address, how many routines and bytes it holds."""

    folder: Path
    feed_url: str
    routines: int
    files: int
    bytes: int


def check_base_url(text: str) -> str:
    """``text`` as the site's base URL without a trailing slash; UsageError if it cannot be one.

    It must be absolute http or https with a host, and no query, fragment or credentials: the feed's
    links are this plus a path, and an app must be able to fetch them from anywhere.
    """
    fix = "Give the address the folder will be served from, e.g. --base-url https://example.org/stretches"
    try:
        parts = urlsplit(text.strip())
        parts.port  # noqa: B018 - asked only so a bad port raises here
    except ValueError as err:
        raise UsageError(f"--base-url {text!r} is not a URL ({err})", fix=fix) from err
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise UsageError(
            f"--base-url {text!r} must start with https:// (or http://) and name a host", fix=fix
        )
    if parts.query or parts.fragment or "@" in parts.netloc:
        raise UsageError(
            f"--base-url {text!r} must be a plain address: no ?query, #fragment or user@", fix=fix
        )
    if any(c.isspace() or ord(c) < 32 for c in text.strip()):
        raise UsageError(f"--base-url {text!r} holds spaces or control characters", fix=fix)
    return f"{parts.scheme}://{parts.netloc}{parts.path}".rstrip("/")


def _check_target(folder: Path, out: Path) -> None:
    """Refuse a target that would overwrite the routines themselves or a folder that is not a site."""
    source, target = folder.resolve(), out.resolve()
    if target == source or target in source.parents or source in target.parents:
        raise UsageError(
            f"the site '{out}' and the routines' folder '{folder}' overlap",
            fix="Publish into a folder of its own, beside the routines: -o site",
        )
    if out.exists() and not out.is_dir():
        raise UsageError(f"'{out}' is a file, not a folder", fix="Choose another folder with -o SITE.")
    if out.is_dir() and any(out.iterdir()) and not all((out / name).is_file() for name in SITE_MARKERS):
        raise UsageError(
            f"'{out}' holds files but is not a site stretchcast published (no index.html and feed.xml)",
            fix="Choose an empty or new folder with -o SITE; publish replaces only its own sites.",
        )


def _web_files() -> list[tuple[str, bytes]]:
    """The page's own files, as the site holds them: ``sw.js`` at the top, the rest under ``static/``."""
    web = resources.files("stretchcast.serve").joinpath("web")
    files = []
    for entry in sorted(web.iterdir(), key=lambda e: e.name):
        if entry.is_file() and not entry.name.startswith("."):
            target = entry.name if entry.name == "sw.js" else f"static/{entry.name}"
            files.append((target, entry.read_bytes()))
    return files


def _routine_files(routine: ServedRoutine) -> list[str]:
    """Every file of the folder the routine's card and episode link to, as "/" paths."""
    files = [routine.audio]
    files += [f for f in (routine.captions, routine.playlist, routine.cover_file, routine.manifest) if f]
    files += [t.file for t in routine.split]
    return files


def publish(folder: Path, base_url: str, out: Path) -> Site:
    """Write the static site for ``folder``'s routines into ``out``, whole or not at all."""
    base = check_base_url(base_url)
    if not folder.is_dir():
        raise UsageError(
            f"'{folder}' is a file, not a folder" if folder.exists() else f"folder '{folder}' not found",
            fix="Build a routine first (stretchcast build standard), or name it: stretchcast publish DIR.",
        )
    _check_target(folder, out)
    routines = scan(folder)
    if not routines:
        raise UsageError(
            f"nothing to publish: '{folder}' holds no routines",
            fix="Build one first (stretchcast build standard), then publish again.",
        )
    root = folder.resolve()
    parent = out.resolve().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=parent, prefix=f".{out.name}.", suffix=".part"))
    except OSError as err:
        raise _output_error(err, parent) from err
    try:
        count, size = _write_site(staging, root, routines, base)
        _swap_in(staging, out.resolve())
    except OSError as err:
        raise _output_error(err, out) from err
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return Site(out, f"{base}/feed.xml", len(routines), count, size)


def _write_site(staging: Path, root: Path, routines: tuple[ServedRoutine, ...], base: str) -> tuple[int, int]:
    """Fill ``staging`` with the site; return how many files and bytes it holds."""

    def put(path: str, data: bytes) -> None:
        target = staging.joinpath(*path.split("/"))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)

    for path, data in _web_files():
        put(path, data)
    page = render_page(routines, base, published=True).replace("<head>\n", "<head>\n" + _CSP_META, 1)
    put("index.html", page.encode("utf-8"))
    put("feed.xml", render_feed(routines, base))
    for name in figure_names(root, routines):  # what the page's moving figures read, beside it
        body = figure_file(name)
        if body is not None:
            put(f"figures/{name}", body)
    for routine in routines:
        for file in _routine_files(routine):
            target = staging.joinpath(*file.split("/"))
            target.parent.mkdir(parents=True, exist_ok=True)
            # copy2 keeps the modification time: the feed's dates stay those of the builds
            shutil.copy2(root.joinpath(*file.split("/")), target)
        chapters = chapters_path(routine)
        if chapters is not None:
            put(f"chapters/{routine.stem}.json", chapters_json(routine))
        if routine.cover_file is None and routine.cover_mime is not None:
            cover = cover_for(root, routine.audio)
            if cover is not None:
                put(f"art/{routine.stem}{cover.suffix}", cover.data)
    files = [p for p in staging.rglob("*") if p.is_file()]
    for written in files:
        written.chmod(0o644)  # mkdtemp's folder is private; a web server must read what it serves
    for made in [staging, *(p for p in staging.rglob("*") if p.is_dir())]:
        made.chmod(0o755)
    return len(files), sum(p.stat().st_size for p in files)


def _swap_in(staging: Path, out: Path) -> None:
    """Rename the staged site to ``out``; a previous site there is moved aside, then removed."""
    with interrupts_deferred():
        old = None
        if out.exists():
            old = out.with_name(f".{out.name}.old-{staging.name.rsplit('.', 2)[-2]}")
            out.rename(old)
        try:
            staging.rename(out)
        except OSError:
            if old is not None:
                old.rename(out)  # put the previous site back
            raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _output_error(err: OSError, path: Path) -> OutputError:
    if err.errno == errno.ENOSPC:
        return OutputError("the disk is full", where=Where(path), fix="Free some space and publish again.")
    if err.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return OutputError(
            "cannot write here (permission denied or read-only)",
            where=Where(path),
            fix="Choose another folder with -o SITE.",
        )
    return OutputError(f"cannot write ({err.strerror or err})", where=Where(path))
