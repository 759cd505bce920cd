"""The persistent cue cache: every cue any voice has spoken, kept so that it is never spoken twice.

An entry is addressed by a SHA-256 of canonical JSON of the voice's identity (engine, engine and
voice versions, voice, language, accent, rate: everything that changes the audio) and the text,
so a changed setting is a different entry and never a stale one. Python's ``hash()`` is salted
per process and is never used.

Each entry is a FLAC file (16-bit, the engine's own sample rate) whose comment carries the key
and a SHA-256 of the samples. Reading checks both, so a truncated, damaged or misplaced entry is
found, removed and spoken again. Entries are written to a temporary file and renamed into place:
a reader sees a whole entry or none. A cache that cannot be written (read-only, full, not a
folder) never stops a build: the build goes on without saving cues and says so once.

Beside an entry, the sound stage keeps the cue prepared for a track (``sound.prepared``): derived
files this cache counts as space and clears with the entries, but never reads.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import os
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from stretchcast.atomic import PARTIAL_SUFFIX, write_atomic
from stretchcast.voices.base import Speech

log = logging.getLogger(__name__)

#: Bumped when the key or the entry format changes; old entries are then simply never read.
CACHE_FORMAT = 1
#: Environment variable naming the cache folder (``--cache-dir`` wins over it).
CACHE_ENV = "STRETCHCAST_CACHE"
_SUFFIX = ".flac"
# a file named after an entry's key that is not the entry: derived from it (a prepared cue)
_DERIVED = re.compile(r"[0-9a-f]{64}\.\d+\.\w+")
_COMMENT = re.compile(
    r"stretchcast-cue (?P<format>\d+) key=(?P<key>[0-9a-f]{64}) pcm-sha256=(?P<pcm>[0-9a-f]{64})"
)

Identity = Mapping[str, str | int | float | bool]


def cue_key(identity: Identity, text: str) -> str:
    """The entry's address: SHA-256 of canonical JSON (sorted keys, no spaces, UTF-8) of voice and text."""
    payload = {"format": CACHE_FORMAT, "voice": dict(identity), "text": text}
    canonical = json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _canonical(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


class _Keys:
    """``cue_key`` for one voice, its identity's JSON made once: the same text, byte for byte
    (the keys sort as format, text, voice), a hundred cues at a time without re-encoding the voice."""

    def __init__(self, identity: Identity) -> None:
        self.head = f'{{"format":{CACHE_FORMAT},"text":'
        self.tail = f',"voice":{_canonical(dict(identity))}}}'

    def key(self, text: str) -> str:
        canonical = self.head + _canonical(text) + self.tail
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def default_cache_dir() -> Path:
    """``$STRETCHCAST_CACHE`` if set, else the user's cache folder (e.g. ``~/.cache/stretchcast/cues``)."""
    env = os.environ.get(CACHE_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    return platformdirs.user_cache_path("stretchcast", appauthor=False) / "cues"


@dataclass(frozen=True)
class CacheInfo:
    """What is in a cache folder."""

    path: Path
    entries: int
    size_bytes: int
    by_engine: Mapping[str, int]
    partial: int  # temporary files left by a process that was killed mid-write

    def __str__(self) -> str:
        engines = ", ".join(f"{name} {n}" for name, n in sorted(self.by_engine.items()))
        lines = [
            f"Cue cache: {self.path}",
            f"  {self.entries} cues, {self.size_bytes / 1e6:.1f} MB" + (f" ({engines})" if engines else ""),
        ]
        if self.partial:
            lines.append(
                f"  {self.partial} unfinished temporary files ('stretchcast cache clear' removes them)"
            )
        return "\n".join(lines)


class CueCache:
    """Cue audio by voice identity and text, in a folder; safe to share between threads and processes."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._lock = threading.Lock()
        self._writable = True
        self._readable = True
        #: What went wrong with the cache during this run, one line each (shown once, never fatal).
        self.problems: list[str] = []
        self.repaired = 0
        self._paths: dict[tuple[tuple[tuple[str, str | int | float | bool], ...], str], Path] = {}
        self._keys: dict[tuple[tuple[str, str | int | float | bool], ...], tuple[_Keys, Path]] = {}

    @classmethod
    def default(cls) -> CueCache:
        """The cache in :func:`default_cache_dir`."""
        return cls(default_cache_dir())

    @property
    def _dir(self) -> Path:
        return self.root / f"v{CACHE_FORMAT}"

    def derived_folder(self, name: str) -> Path:
        """A folder beside the entries for what builds make from them (covers): cleared with them."""
        return self._dir / name

    def path_for(self, identity: Identity, text: str) -> Path:
        """Where the entry for ``text`` spoken by the voice with ``identity`` lives."""
        # asked several times a cue by every build (entry, prepared cue, frames): hashed once
        voice = tuple(sorted(identity.items()))
        found = self._paths.get((voice, text))
        if found is None:
            keys = self._keys.get(voice)
            if keys is None:
                engine = re.sub(r"[^a-z0-9_-]", "_", str(identity.get("engine", "voice")).lower()) or "voice"
                keys = self._keys[voice] = (_Keys(identity), self._dir / engine)
            key = keys[0].key(text)
            found = self._paths[(voice, text)] = keys[1] / key[:2] / f"{key}{_SUFFIX}"
        return found

    def get(self, identity: Identity, text: str) -> Speech | None:
        """The cached speech, or None if there is none (a damaged entry is removed and counts as none)."""
        if not self._readable:
            return None
        path = self.path_for(identity, text)
        try:
            data = path.read_bytes()
        except (FileNotFoundError, NotADirectoryError):  # no entry, or no cache folder at all yet
            return None
        except OSError as err:
            self._problem(f"cannot read the cue cache at {self.root} ({err.strerror or err}); speaking anew")
            self._readable = False
            return None
        speech = _decode(data, path.stem)
        if speech is None:
            self.repaired += 1
            log.warning("cue cache: removed a damaged entry %s; speaking %r again", path.name, text)
            with contextlib.suppress(OSError):
                path.unlink()
            return None
        log.debug("cue cache hit %s %r", path.name[:12], text)
        return speech

    def put(self, identity: Identity, text: str, speech: Speech) -> bool:
        """Save ``speech``; returns False (and warns once) if the cache cannot be written."""
        if not self._writable:
            return False
        path = self.path_for(identity, text)
        data = _encode(speech, path.stem, text)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # No fsync: an entry torn by a power cut fails its checksum and is made again, which is
            # cheaper than syncing every cue. Whatever stops the write (a full disk, Ctrl-C), no
            # unfinished file stays behind.
            write_atomic(path, data, prefix=f".{path.stem[:16]}.")
        except OSError as err:
            self._writable = False
            self._problem(
                f"cannot write to the cue cache at {self.root} ({err.strerror or err}); "
                "building without saving cues (use --cache-dir DIR to choose another folder)"
            )
            return False
        log.debug("cue cache put %s %r (%d bytes)", path.name[:12], text, len(data))
        return True

    @property
    def readable(self) -> bool:
        """False once reading failed in this run (the build then goes on uncached)."""
        return self._readable

    @property
    def writable(self) -> bool:
        """False once writing failed in this run (the build then goes on without saving cues)."""
        return self._writable

    def _problem(self, message: str) -> None:
        with self._lock:
            if message not in self.problems:
                self.problems.append(message)
                log.warning("%s", message)

    def info(self) -> CacheInfo:
        """Count the entries, their size and their engines (unfinished temporary files apart)."""
        entries = size = partial = 0
        by_engine: dict[str, int] = {}
        if self._dir.is_dir():
            for path in self._dir.rglob("*"):
                if not path.is_file():
                    continue
                if path.name.endswith(PARTIAL_SUFFIX):
                    partial += 1
                elif path.suffix == _SUFFIX:
                    entries += 1
                    size += path.stat().st_size
                    engine = path.parent.parent.name
                    by_engine[engine] = by_engine.get(engine, 0) + 1
                elif _DERIVED.fullmatch(path.name):
                    size += path.stat().st_size  # derived from an entry (a prepared cue): space, not a cue
        return CacheInfo(self.root, entries, size, by_engine, partial)

    def clear(self) -> int:
        """Remove every entry and temporary file; returns how many entries there were."""
        removed = 0
        if not self._dir.is_dir():
            return 0
        for path in sorted(self._dir.rglob("*"), key=lambda p: len(p.parts), reverse=True):
            if path.is_dir():
                with contextlib.suppress(OSError):
                    path.rmdir()
            else:
                removed += path.suffix == _SUFFIX
                path.unlink()
        with contextlib.suppress(OSError):
            self._dir.rmdir()
        log.debug("cue cache cleared: %d entries removed from %s", removed, self._dir)
        return removed


def _encode(speech: Speech, key: str, text: str) -> bytes:
    import soundfile as sf  # with audio only: ``--help`` reads this module's folder, not its cues

    pcm = speech.to_int16()
    digest = hashlib.sha256(pcm.astype("<i2").tobytes()).hexdigest()
    buffer = io.BytesIO()
    with sf.SoundFile(
        buffer, "w", samplerate=speech.sample_rate, channels=1, format="FLAC", subtype="PCM_16"
    ) as f:
        f.comment = f"stretchcast-cue {CACHE_FORMAT} key={key} pcm-sha256={digest}"
        f.title = text[:200]  # for people browsing the folder; the key, not this, is what is checked
        f.write(pcm)
    return buffer.getvalue()


def _decode(data: bytes, key: str) -> Speech | None:
    """The entry's speech if it decodes whole and matches its key and checksum, else None."""
    import soundfile as sf

    try:
        with sf.SoundFile(io.BytesIO(data)) as f:
            found = _COMMENT.fullmatch(f.comment or "")
            sample_rate = f.samplerate
            pcm = f.read(dtype="int16")
    except (sf.LibsndfileError, RuntimeError, ValueError, TypeError) as err:
        log.debug("cue cache entry %s does not decode: %s", key[:12], err)
        return None
    if pcm.ndim != 1 or not len(pcm) or found is None:
        return None
    if found["key"] != key or int(found["format"]) != CACHE_FORMAT:
        return None
    if hashlib.sha256(pcm.astype("<i2").tobytes()).hexdigest() != found["pcm"]:
        return None
    return Speech.from_int16(pcm, sample_rate)


__all__ = [
    "CACHE_ENV",
    "CACHE_FORMAT",
    "CacheInfo",
    "CueCache",
    "Identity",
    "cue_key",
    "default_cache_dir",
]
