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

Beside an entry, a build keeps the cue *prepared* for a track's sample rate (resampled, trimmed,
levelled, limited: ``audio.prepare_cue``) with its true peak and its cumulative K-weighted energy,
so a rebuild neither decodes the FLAC nor measures the cue again (the energy costs twice the
samples' space, and saves filtering every cue on every build). A prepared entry is derived data:
it names the CRC-32 of the entry's bytes it was made from and is used only while that entry is
unchanged (so a damaged or remade entry is noticed exactly as before), and a CRC-32 covers its own
header and body; a damaged, stale or unreadable one is ignored and remade.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import os
import re
import struct
import tempfile
import threading
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import platformdirs
import soundfile as sf

from stretchcast.sound.signal import PreparedCue, k_weighting_tail
from stretchcast.voices.base import Speech

log = logging.getLogger(__name__)

#: Bumped when the key or the entry format changes; old entries are then simply never read.
CACHE_FORMAT = 1
#: Environment variable naming the cache folder (``--cache-dir`` wins over it).
CACHE_ENV = "STRETCHCAST_CACHE"
_SUFFIX = ".flac"
_PARTIAL = ".part"
#: Bumped when ``audio.prepare_cue`` changes what it makes; old prepared entries are then remade.
PREPARED_FORMAT = 3
_PREPARED_SUFFIX = ".f32"
# magic, format, sample rate, true peak, sample count, energy count, CRC-32 and size of the entry's
# bytes, the key (64 hex digits), padding; then the CRC-32 of all that (with these four bytes
# zero) and of the body: the float64 cumulative weighted energy and the float32 samples,
# little-endian, each array aligned (the header is 128 bytes)
_PREPARED_HEADER = struct.Struct("<4sHIdQQIQ64s14xI")
_PREPARED_MAGIC = b"SCPC"
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

    @classmethod
    def default(cls) -> CueCache:
        """The cache in :func:`default_cache_dir`."""
        return cls(default_cache_dir())

    @property
    def _dir(self) -> Path:
        return self.root / f"v{CACHE_FORMAT}"

    def path_for(self, identity: Identity, text: str) -> Path:
        """Where the entry for ``text`` spoken by the voice with ``identity`` lives."""
        key = cue_key(identity, text)
        engine = re.sub(r"[^a-z0-9_-]", "_", str(identity.get("engine", "voice")).lower()) or "voice"
        return self._dir / engine / key[:2] / f"{key}{_SUFFIX}"

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
        tmp: Path | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem[:16]}.", suffix=_PARTIAL)
            tmp = Path(name)
            with os.fdopen(fd, "wb") as fp:
                fp.write(data)
            # No fsync: an entry torn by a power cut fails its checksum and is made again, which is
            # cheaper than syncing every cue.
            tmp.replace(path)
        except BaseException as err:
            # Whatever stopped the write (a full disk, Ctrl-C), no unfinished file stays behind.
            if tmp is not None:
                with contextlib.suppress(OSError):
                    tmp.unlink()
            if not isinstance(err, OSError):
                raise
            self._writable = False
            self._problem(
                f"cannot write to the cue cache at {self.root} ({err.strerror or err}); "
                "building without saving cues (use --cache-dir DIR to choose another folder)"
            )
            return False
        log.debug("cue cache put %s %r (%d bytes)", path.name[:12], text, len(data))
        return True

    def prepared_path(self, identity: Identity, text: str, sample_rate: int) -> Path:
        """Where the cue prepared for ``sample_rate`` from the entry for ``text`` lives."""
        entry = self.path_for(identity, text)
        return entry.with_name(f"{entry.stem}.{sample_rate}{_PREPARED_SUFFIX}")

    def get_prepared(self, identity: Identity, text: str, sample_rate: int) -> PreparedCue | None:
        """The prepared cue, if there is one made from the entry as it is now; else None."""
        if not self._readable:
            return None
        entry = self.path_for(identity, text)
        path = self.prepared_path(identity, text, sample_rate)
        try:
            data = path.read_bytes()
            source = entry.read_bytes()
        except OSError:  # none yet, or none for an entry that is gone: made again from the entry
            return None
        cue = _decode_prepared(data, entry.stem, sample_rate, source)
        if cue is None:
            log.debug("cue cache: prepared %s is stale or damaged; preparing again", path.name)
            with contextlib.suppress(OSError):
                path.unlink()
        return cue

    def put_prepared(self, identity: Identity, text: str, sample_rate: int, cue: PreparedCue) -> bool:
        """Keep ``cue``, prepared from the entry for ``text`` as it is now; False if it cannot be kept."""
        if not self._writable:
            return False
        entry = self.path_for(identity, text)
        path = self.prepared_path(identity, text, sample_rate)
        try:
            source = entry.read_bytes()
        except OSError:
            return False  # derived from an entry that is not there (a cache that cannot be written)
        body = (
            np.ascontiguousarray(cue.energy, dtype="<f8").tobytes()
            + np.ascontiguousarray(cue.samples, dtype="<f4").tobytes()
        )
        fields = (
            _PREPARED_MAGIC,
            PREPARED_FORMAT,
            sample_rate,
            cue.true_peak_dbtp,
            len(cue.samples),
            len(cue.energy),
            zlib.crc32(source),
            len(source),
            entry.stem.encode("ascii"),
        )
        crc = zlib.crc32(body, zlib.crc32(_PREPARED_HEADER.pack(*fields, 0)))
        header = _PREPARED_HEADER.pack(*fields, crc)
        tmp: Path | None = None
        try:
            fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem[:16]}.", suffix=_PARTIAL)
            tmp = Path(name)
            with os.fdopen(fd, "wb") as fp:
                fp.write(header)
                fp.write(body)
            tmp.replace(path)  # no fsync, as for entries: a torn file fails its CRC and is remade
        except OSError as err:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    tmp.unlink()
            log.debug("cue cache: cannot keep prepared %s: %s", path.name, err)
            return False
        return True

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
                if path.name.endswith(_PARTIAL):
                    partial += 1
                elif path.suffix == _PREPARED_SUFFIX:
                    size += path.stat().st_size  # derived from an entry: space, not a cue
                elif path.suffix == _SUFFIX:
                    entries += 1
                    size += path.stat().st_size
                    engine = path.parent.parent.name
                    by_engine[engine] = by_engine.get(engine, 0) + 1
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


def _decode_prepared(data: bytes, key: str, sample_rate: int, source: bytes) -> PreparedCue | None:
    """The prepared cue in ``data`` if it is whole and was made, for this rate, from ``source``."""
    size = _PREPARED_HEADER.size
    if len(data) < size:
        return None
    *fields, crc = _PREPARED_HEADER.unpack_from(data)
    magic, fmt, rate, peak, count, energy_count, source_crc, source_size, found_key = fields
    body = memoryview(data)[size:]
    if (
        magic != _PREPARED_MAGIC
        or fmt != PREPARED_FORMAT
        or rate != sample_rate
        or found_key != key.encode("ascii")
        or source_size != len(source)
        or source_crc != zlib.crc32(source)
        or energy_count != count + k_weighting_tail(sample_rate) + 1
        or len(body) != 4 * count + 8 * energy_count
        or crc != zlib.crc32(body, zlib.crc32(_PREPARED_HEADER.pack(*fields, 0)))
    ):
        return None
    # views on the bytes read (no copies on little-endian machines); read-only, as cues are shared
    energy = np.frombuffer(body, dtype="<f8", count=energy_count).astype(np.float64, copy=False)
    samples = np.frombuffer(body, dtype="<f4", offset=8 * energy_count).astype(np.float32, copy=False)
    return PreparedCue(samples, peak, energy)


__all__ = [
    "CACHE_ENV",
    "CACHE_FORMAT",
    "PREPARED_FORMAT",
    "CacheInfo",
    "CueCache",
    "cue_key",
    "default_cache_dir",
]
