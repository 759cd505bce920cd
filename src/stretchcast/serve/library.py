"""What a folder of rendered routines holds, as the page and the feed show it.

One routine per manifest (``<slug>.json``, read as a :class:`~stretchcast.output.manifest.Manifest`),
and one per MP3 that has none (or whose manifest does not read), from its ID3 tags.
Captions (``.vtt``), playlists (``.m3u8``) and split tracks are shown when they are there; a cover
comes from the MP3's APIC frame. Whatever cannot be read is logged and left out, never fatal.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from mutagen import MutagenError
from mutagen.mp3 import MP3

from stretchcast.content import words
from stretchcast.content.reading import read_bounded
from stretchcast.errors import StretchcastError
from stretchcast.log.model import routine_hash
from stretchcast.output.files import MAX_MANIFEST_BYTES
from stretchcast.output.manifest import Manifest, ManifestError
from stretchcast.output.programme_files import PROGRAMME_MANIFEST, current_week, read_start
from stretchcast.serve.http import plain_name, resolve_file

# A playlist is a few KiB; anything far larger is not one, and is skipped without being read.
MAX_PLAYLIST_BYTES = 1024 * 1024

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChapterMark:
    """A chapter of a track: where it starts and ends, and its title (user text)."""

    title: str
    start_ms: int
    end_ms: int
    exercise: str | None = None  # the exercise's id; None for the welcome, the finish, or from tags


@dataclass(frozen=True)
class SplitTrack:
    """One exercise's own MP3, as listed in the routine's playlist."""

    title: str
    file: str  # path relative to the served folder, "/"-separated


@dataclass(frozen=True)
class Cover:
    """A cover picture taken from an MP3's ID3 APIC frame."""

    data: bytes
    mime: str

    @property
    def suffix(self) -> str:
        """The file suffix its type calls for."""
        return _image_suffix(self.mime)


def _image_suffix(mime: str) -> str:
    return ".jpg" if mime == "image/jpeg" else ".png"


@dataclass(frozen=True)
class ServedRoutine:
    """One routine as the page and the feed show it: what was found for it in the folder."""

    stem: str  # the MP3's name without ".mp3": names the cover URL
    title: str
    duration_ms: int
    audio: str  # the MP3's name in the folder
    audio_bytes: int
    modified: float  # the MP3's mtime
    guid: str
    album: str | None = None
    chapters: tuple[ChapterMark, ...] = ()
    captions: str | None = None  # the .vtt's name
    playlist: str | None = None  # the .m3u8's name
    handout: str | None = None  # the printed handout (``<stem>.pdf``) beside the track, if there is one
    split: tuple[SplitTrack, ...] = ()
    cover_mime: str | None = None
    # A programme's week: the programme's title, its season in the feed, the week as the episode,
    # whether it is the current week (by the recorded start date), and its cover PNG's "/" path.
    programme: str | None = None
    season: int | None = None
    episode: int | None = None
    current: bool = False
    cover_file: str | None = None
    changes: str | None = None  # what the week changed, as programme.json says it
    manifest: str | None = None  # the manifest's name: the page's figure follows its events
    routine_hash: str | None = None  # the manifest's routine settings, hashed: what the log records

    @property
    def cover_path(self) -> str | None:
        """The cover's URL path relative to the page, if the MP3 carries one (``art/<stem>.png``)."""
        if self.cover_file is not None:
            return "/".join(quote(part) for part in self.cover_file.split("/"))
        if self.cover_mime is None:
            return None
        return f"art/{quote(self.stem)}{_image_suffix(self.cover_mime)}"

    @property
    def summary(self) -> str:
        """One line for the feed: its length and what is in it."""
        exercises = [c.title for c in self.chapters if c.exercise]
        names = exercises or [c.title for c in self.chapters]
        body = f": {', '.join(names)}." if names else "."
        changed = f" This week: {self.changes}." if self.changes else ""
        return f"A guided routine of {words.clock(self.duration_ms)}{body}{changed}"


def scan(folder: Path) -> tuple[ServedRoutine, ...]:
    """Every routine in ``folder``, shortest first: one per manifest, and one per MP3 without one.

    A manifest that cannot be read is logged and its MP3 shown from its tags, so a half-finished
    or foreign file never takes the page down.
    """
    root = folder.resolve()
    try:
        names = sorted(e.name for e in os.scandir(root) if plain_name(e.name))
    except OSError as err:
        log.warning("cannot list %s: %s", root, err)
        return ()
    found: dict[str, ServedRoutine] = {}
    for name in names:
        if name.lower().endswith(".json"):
            routine = _from_manifest(root, name)
            if routine is not None:
                found.setdefault(routine.audio, routine)
    for name in names:
        if name.lower().endswith(".mp3") and name not in found:
            routine = _from_tags(root, name)
            if routine is not None:
                found[name] = routine
    routines = sorted(found.values(), key=lambda r: (r.duration_ms, r.title.casefold(), r.audio))
    return (*routines, *programme_weeks(root, names))


def _file_named(root: Path, value: object, base: tuple[str, ...] = ()) -> str | None:
    """``value`` (a name, or ``{"file": name}``) as a served file's "/" path, or None."""
    if isinstance(value, Mapping):
        value = value.get("file")
    if not isinstance(value, str):
        return None
    segments = (*base, *value.split("/"))
    return "/".join(segments) if resolve_file(root, segments) is not None else None


def _from_manifest(root: Path, name: str) -> ServedRoutine | None:
    path = resolve_file(root, (name,))
    read = _current_manifest(path) if path is not None else None
    if read is None:
        return None
    digest, manifest = read
    stem = Path(name).stem
    audio = _file_named(root, manifest.audio.file) or _file_named(root, f"{stem}.mp3")
    if audio is None or "/" in audio or not audio.lower().endswith(".mp3"):
        log.debug("skipping %s: its MP3 is not in the folder", path)
        return None
    from_tags = _from_tags(root, audio)
    if from_tags is None:
        return None
    mp3_stem = Path(audio).stem
    captions = _file_named(root, manifest.captions) or _file_named(root, f"{mp3_stem}.vtt")
    playlist = _file_named(root, manifest.playlist) or _file_named(root, f"{mp3_stem}.m3u8")
    chapters = sorted(
        (
            ChapterMark(c.title, c.start_ms, c.end_ms, c.exercise)
            for c in manifest.chapters
            if c.start_ms <= c.end_ms
        ),
        key=lambda c: c.start_ms,
    )
    handout = _file_named(root, f"{mp3_stem}.pdf")
    return ServedRoutine(
        stem=mp3_stem,
        title=manifest.title.strip() or from_tags.title,
        duration_ms=manifest.duration_ms,
        audio=audio,
        audio_bytes=from_tags.audio_bytes,
        modified=from_tags.modified,
        guid=f"stretchcast:{mp3_stem}:{digest[:16]}",
        album=from_tags.album,
        chapters=tuple(chapters) or from_tags.chapters,
        captions=captions if captions and captions.lower().endswith(".vtt") else None,
        playlist=playlist if playlist and playlist.lower().endswith((".m3u8", ".m3u")) else None,
        handout=handout,
        split=_playlist_tracks(root, playlist) if playlist else (),
        cover_mime=from_tags.cover_mime,
        manifest=name,
        routine_hash=_settings_hash(manifest),
    )


def _current_json(path: Path) -> tuple[str, Any] | None:
    """The SHA-256 and content of a JSON file (a programme's ``programme.json``), or None if unreadable."""
    try:
        raw = read_bounded(path, MAX_MANIFEST_BYTES, what="programme manifest")
        return hashlib.sha256(raw).hexdigest(), json.loads(raw)
    except (StretchcastError, ValueError) as err:
        log.warning("skipping %s: not readable JSON (%s)", path, err)
        return None


def _count(value: object) -> int | None:
    """``value`` if it is a whole number of zero or more (JSON's true and false are not), else None."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def _current_manifest(path: Path) -> tuple[str, Manifest] | None:
    """The SHA-256 and manifest of the file at ``path`` as it is now, or None if it is not one."""
    try:
        st = path.stat()
    except OSError:
        return None
    return _read_manifest(str(path), st.st_size, st.st_mtime_ns)


@functools.lru_cache(maxsize=128)
def _read_manifest(path: str, size: int, mtime_ns: int) -> tuple[str, Manifest] | None:
    """A manifest's SHA-256 and content, read once per version (so a bad one is reported once)."""
    del size, mtime_ns  # part of the cache key only: a rewritten file is read again
    try:
        raw = read_bounded(Path(path), MAX_MANIFEST_BYTES, error=ManifestError, what="manifest")
        return hashlib.sha256(raw).hexdigest(), Manifest.from_json(raw)
    except ManifestError as err:
        # its MP3 is shown from its tags: a half-written, foreign or older file never takes the page down
        log.warning("skipping %s: %s", path, err.problem)
    return None


@dataclass(frozen=True)
class _Tags:
    title: str | None
    album: str | None
    duration_ms: int
    chapters: tuple[ChapterMark, ...]
    cover: Cover | None


def _from_tags(root: Path, name: str) -> ServedRoutine | None:
    """An MP3 shown from what it says about itself: ID3 title, chapters and cover, and its length."""
    real = resolve_file(root, (name,))
    if real is None:
        return None
    try:
        st = real.stat()
    except OSError:
        return None
    tags = read_tags(str(real), st.st_size, st.st_mtime_ns)
    return ServedRoutine(
        stem=Path(name).stem,
        title=tags.title or Path(name).stem,
        duration_ms=tags.duration_ms,
        audio=name,
        audio_bytes=st.st_size,
        modified=st.st_mtime,
        guid=f"stretchcast:{Path(name).stem}:{st.st_size:x}-{st.st_mtime_ns:x}",
        album=tags.album,
        chapters=tags.chapters,
        cover_mime=tags.cover.mime if tags.cover else None,
    )


@functools.lru_cache(maxsize=128)
def read_tags(path: str, size: int, mtime_ns: int) -> _Tags:
    """Title, album, length, chapters and cover of an MP3 (cached per version: size and mtime)."""
    del size, mtime_ns  # part of the cache key only: a rebuilt file is read again
    try:
        audio = MP3(path)
    except (MutagenError, OSError) as err:
        log.warning("cannot read the tags of %s: %s", path, err)
        return _Tags(None, None, 0, (), None)
    duration_ms = round(audio.info.length * 1000) if audio.info else 0
    tags: Any = audio.tags  # mutagen types it as the base class's None
    if tags is None:
        return _Tags(None, None, duration_ms, (), None)

    def text(frame_id: str) -> str | None:
        frame = tags.get(frame_id)
        return str(frame.text[0]) if frame is not None and frame.text else None

    chapters = []
    for chap in tags.getall("CHAP"):
        sub = chap.sub_frames.get("TIT2")
        title = str(sub.text[0]) if sub is not None and sub.text else chap.element_id
        if 0 <= chap.start_time <= chap.end_time:
            chapters.append(ChapterMark(title, chap.start_time, chap.end_time))
    cover = None
    pictures = tags.getall("APIC")
    if pictures:
        # the front cover (type 3) if there is one, else the first picture
        picture = next((p for p in pictures if p.type == 3), pictures[0])
        mime = picture.mime.lower()
        if mime in {"image/png", "image/jpeg", "image/jpg", "png", "jpg", "jpeg"}:
            cover = Cover(bytes(picture.data), "image/jpeg" if "jp" in mime else "image/png")
    return _Tags(
        text("TIT2"),
        text("TALB"),
        duration_ms,
        tuple(sorted(chapters, key=lambda c: c.start_ms)),
        cover,
    )


def _playlist_tracks(root: Path, playlist: str) -> tuple[SplitTrack, ...]:
    """The split tracks an extended M3U lists (paths relative to it), those that are served."""
    real = resolve_file(root, tuple(playlist.split("/")))
    if real is None:
        return ()
    try:
        lines = read_bounded(real, MAX_PLAYLIST_BYTES, what="playlist").decode("utf-8-sig").splitlines()
    except (StretchcastError, UnicodeDecodeError) as err:
        log.warning("cannot read the playlist %s: %s", real, err)
        return ()
    base = tuple(playlist.split("/")[:-1])
    tracks = []
    title = None
    for line in (raw.strip() for raw in lines):
        if line.startswith("#EXTINF:"):
            title = line.partition(",")[2].strip() or None
        elif line and not line.startswith("#"):
            # M3U paths are plain relative paths, not URLs: no percent-decoding
            file = _file_named(root, line, base)
            if file is not None and file.lower().endswith(".mp3"):
                tracks.append(SplitTrack(title or Path(file).stem, file))
            title = None
    return tuple(tracks)


def cover_for(folder: Path, file_name: str) -> Cover | None:
    """The cover picture in the MP3 called ``file_name`` in ``folder``, if it has one."""
    root = folder.resolve()
    real = resolve_file(root, (file_name,))
    if real is None or real.suffix.lower() != ".mp3":
        return None
    try:
        st = real.stat()
    except OSError:
        return None
    return read_tags(str(real), st.st_size, st.st_mtime_ns).cover


def programme_weeks(root: Path, names: list[str], today: dt.date | None = None) -> list[ServedRoutine]:
    """The weeks of every programme folder (one holding ``programme.json``), in order, a season each.

    Seasons are numbered by folder name; each week is an episode numbered by its week. The week
    that ``today`` falls in, counted from the programme's recorded start, is marked current.
    """
    today = today or dt.date.today()
    weeks: list[ServedRoutine] = []
    season = 0
    for name in names:
        if not (root / name).is_dir():
            continue
        path = resolve_file(root, (name, PROGRAMME_MANIFEST))
        read = _current_json(path) if path is not None else None
        if read is None or not isinstance(read[1], dict) or not isinstance(read[1].get("weeks"), list):
            continue
        data = read[1]
        raw_title = data.get("title")
        title = raw_title if isinstance(raw_title, str) else name
        entries = [w for w in data["weeks"] if isinstance(w, dict) and _count(w.get("week"))]
        started = read_start(root / name)
        now = current_week(started, today, len(entries)) if started else None
        found = []
        for entry in sorted(entries, key=lambda w: int(w["week"])):
            week = _week(root, name, entry, title)
            if week is not None:
                found.append(dataclasses.replace(week, current=week.episode == now))
        if found:
            season += 1
            weeks += [dataclasses.replace(w, season=season) for w in found]
    return weeks


def _week(root: Path, folder: str, entry: dict[str, Any], programme: str) -> ServedRoutine | None:
    """One week of a programme, from its manifest inside the programme's folder."""
    number = int(entry["week"])
    file = entry.get("file")
    if not isinstance(file, str) or "/" in file or not file.lower().endswith(".mp3"):
        return None
    audio = _file_named(root, file, (folder,))
    if audio is None:
        return None
    real = resolve_file(root, tuple(audio.split("/")))
    assert real is not None
    st = real.stat()
    tags = read_tags(str(real), st.st_size, st.st_mtime_ns)
    manifest_name = entry.get("manifest") if isinstance(entry.get("manifest"), str) else None
    manifest_path = resolve_file(root, (folder, manifest_name)) if manifest_name else None
    read = _current_manifest(manifest_path) if manifest_path is not None else None
    manifest = read[1] if read is not None else None
    digest = read[0] if read is not None else f"{st.st_size:x}-{st.st_mtime_ns:x}"
    stem = Path(file).stem
    captions = _file_named(root, manifest.captions, (folder,)) if manifest else None
    cover = _file_named(root, manifest.cover.file, (folder,)) if manifest and manifest.cover else None
    chapters = tuple(
        ChapterMark(c.title, c.start_ms, c.end_ms, c.exercise)
        for c in (manifest.chapters if manifest else ())
        if c.start_ms <= c.end_ms
    )
    return ServedRoutine(
        stem=f"{folder}-{stem}",
        title=f"Week {number}: {programme}",
        duration_ms=manifest.duration_ms if manifest else tags.duration_ms,
        audio=audio,
        audio_bytes=st.st_size,
        modified=st.st_mtime,
        guid=f"stretchcast:{folder}/{stem}:{digest[:16]}",
        album=tags.album,
        chapters=chapters or tags.chapters,
        captions=captions if captions and captions.lower().endswith(".vtt") else None,
        cover_mime="image/png" if cover else None,
        programme=programme,
        episode=number,
        changes=entry["changes"] if isinstance(entry.get("changes"), str) else None,
        cover_file=cover if cover and cover.lower().endswith(".png") else None,
        routine_hash=_settings_hash(manifest),
    )


def _settings_hash(manifest: Manifest | None) -> str | None:
    """The log's hash of a manifest's ``routine`` settings (as the file holds them), or None.

    Only the routine is turned into data: the whole manifest (every event) would cost each page load.
    """
    return routine_hash(dataclasses.asdict(manifest.routine)) if manifest is not None else None
