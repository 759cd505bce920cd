"""Cues kept prepared for a track's sample rate, beside the cue cache's entries they were made from.

Beside an entry ``<key>.flac``, ``<key>.<rate>.f32`` holds the cue prepared for that rate
(resampled, trimmed, levelled, limited: ``signal.prepare_cue``) with its true peak and its
cumulative K-weighted energy, so a rebuild neither decodes the FLAC nor measures the cue again (the
energy costs twice the samples' space, and saves filtering every cue on every build). A prepared
file is derived data: it names the CRC-32 of the entry's bytes it was made from and is used only
while that entry is unchanged (so a damaged or remade entry is noticed exactly as before), and a
CRC-32 covers its own header and body; a damaged, stale or unreadable one is ignored and remade.

It lives in the sound stage, not in ``voices.cache``, because what it stores (a ``PreparedCue``) is
the sound stage's: the cache of raw engine audio knows nothing of tracks.
"""

from __future__ import annotations

import contextlib
import logging
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from stretchcast.atomic import write_atomic
from stretchcast.sound.signal import PreparedCue, k_weighting_tail
from stretchcast.voices.cache import CueCache, Identity

log = logging.getLogger(__name__)

#: Bumped when ``signal.prepare_cue`` changes what it makes; old prepared files are then remade.
PREPARED_FORMAT = 4
PREPARED_SUFFIX = ".f32"
# magic, format, sample rate, true peak, sample count, energy count, CRC-32 and size of the entry's
# bytes, the key (64 hex digits), padding; the CRC-32 of the header alone (both CRCs zero), so its
# length can be trusted without reading the body; then the CRC-32 of the header (this field zero)
# and the body: the float64 cumulative weighted energy and the float32 samples, little-endian,
# each array aligned (the header is 128 bytes)
_HEADER = struct.Struct("<4sHIdQQIQ64s10xII")
_MAGIC = b"SCPC"


def prepared_path(cache: CueCache, identity: Identity, text: str, sample_rate: int) -> Path:
    """Where the cue prepared for ``sample_rate`` from the entry for ``text`` lives."""
    entry = cache.path_for(identity, text)
    return entry.with_name(f"{entry.stem}.{sample_rate}{PREPARED_SUFFIX}")


@dataclass(frozen=True)
class PreparedInfo:
    """What a prepared cue's header says, checked: its length and the CRC-32 naming its content."""

    samples: int
    fingerprint: int  # the file's own CRC-32 (header and body): what frames made from it name


def prepared_info(cache: CueCache, identity: Identity, text: str, sample_rate: int) -> PreparedInfo | None:
    """The prepared cue's length, from its header alone, if it was made from the entry as it is now.

    Reads the 128-byte header and the entry (to check it is the one the cue was prepared from),
    not the samples: a build from frames needs only each cue's length. The header has a CRC of
    its own; the body is checked when it is read (``get_prepared``), and a damaged body is remade
    from the entry into the same cue, so a length taken from a sound header never changes.
    """
    if not cache.readable:
        return None
    entry = cache.path_for(identity, text)
    path = prepared_path(cache, identity, text, sample_rate)
    try:
        with path.open("rb") as f:
            head = f.read(_HEADER.size)
            size = os.fstat(f.fileno()).st_size
        source = entry.read_bytes()
    except OSError:
        return None
    fields = _fields(head, entry.stem, sample_rate, source)
    if fields is None:
        return None
    count, energy_count, crc = fields[4], fields[5], fields[-1]
    if size != _HEADER.size + 4 * count + 8 * energy_count:
        return None
    return PreparedInfo(count, crc)


def _fields(head: bytes, key: str, sample_rate: int, source: bytes) -> tuple[Any, ...] | None:
    """The header's fields if it is whole, names this key, rate and entry, and its own CRC holds."""
    if len(head) < _HEADER.size:
        return None
    fields = _HEADER.unpack_from(head)
    magic, fmt, rate, _peak, count, energy_count, source_crc, source_size, found_key, header_crc, _crc = (
        fields
    )
    if (
        magic != _MAGIC
        or fmt != PREPARED_FORMAT
        or rate != sample_rate
        or found_key != key.encode("ascii")
        or source_size != len(source)
        or source_crc != zlib.crc32(source)
        or energy_count != count + k_weighting_tail(sample_rate) + 1
        or header_crc != zlib.crc32(_HEADER.pack(*fields[:-2], 0, 0))
    ):
        return None
    return tuple(fields)


def get_prepared(cache: CueCache, identity: Identity, text: str, sample_rate: int) -> PreparedCue | None:
    """The prepared cue, if there is one made from the entry as it is now; else None."""
    found = read_prepared(cache, identity, text, sample_rate)
    return found[0] if found is not None else None


def read_prepared(
    cache: CueCache, identity: Identity, text: str, sample_rate: int
) -> tuple[PreparedCue, int] | None:
    """The prepared cue and its fingerprint (``PreparedInfo.fingerprint``), as ``get_prepared``."""
    if not cache.readable:
        return None
    entry = cache.path_for(identity, text)
    path = prepared_path(cache, identity, text, sample_rate)
    try:
        data = path.read_bytes()
        source = entry.read_bytes()
    except OSError:  # none yet, or none for an entry that is gone: made again from the entry
        return None
    found = _decode(data, entry.stem, sample_rate, source)
    if found is None:
        log.debug("cue cache: prepared %s is stale or damaged; preparing again", path.name)
        with contextlib.suppress(OSError):
            path.unlink()
    return found


def put_prepared(
    cache: CueCache, identity: Identity, text: str, sample_rate: int, cue: PreparedCue
) -> int | None:
    """Keep ``cue``, prepared from the entry for ``text`` as it is now; its fingerprint, or None if
    it cannot be kept."""
    if not cache.writable:
        return None
    entry = cache.path_for(identity, text)
    path = prepared_path(cache, identity, text, sample_rate)
    try:
        source = entry.read_bytes()
    except OSError:
        return None  # derived from an entry that is not there (a cache that cannot be written)
    body = (
        np.ascontiguousarray(cue.energy, dtype="<f8").tobytes()
        + np.ascontiguousarray(cue.samples, dtype="<f4").tobytes()
    )
    fields = (
        _MAGIC,
        PREPARED_FORMAT,
        sample_rate,
        cue.true_peak_dbtp,
        len(cue.samples),
        len(cue.energy),
        zlib.crc32(source),
        len(source),
        entry.stem.encode("ascii"),
    )
    header_crc = zlib.crc32(_HEADER.pack(*fields, 0, 0))
    crc = zlib.crc32(body, zlib.crc32(_HEADER.pack(*fields, header_crc, 0)))
    header = _HEADER.pack(*fields, header_crc, crc)
    try:
        # no fsync, as for entries: a torn file fails its CRC and is remade
        write_atomic(path, (header, body), prefix=f".{path.stem[:16]}.")
    except OSError as err:
        log.debug("cue cache: cannot keep prepared %s: %s", path.name, err)
        return None
    return crc


def _decode(data: bytes, key: str, sample_rate: int, source: bytes) -> tuple[PreparedCue, int] | None:
    """The prepared cue in ``data`` if it is whole and was made, for this rate, from ``source``."""
    fields = _fields(data[: _HEADER.size], key, sample_rate, source)
    if fields is None:
        return None
    peak, count, energy_count, crc = fields[3], fields[4], fields[5], fields[-1]
    body = memoryview(data)[_HEADER.size :]
    if len(body) != 4 * count + 8 * energy_count or crc != zlib.crc32(
        body, zlib.crc32(_HEADER.pack(*fields[:-1], 0))
    ):
        return None
    # views on the bytes read (no copies on little-endian machines); read-only, as cues are shared
    energy = np.frombuffer(body, dtype="<f8", count=energy_count).astype(np.float64, copy=False)
    samples = np.frombuffer(body, dtype="<f4", offset=8 * energy_count).astype(np.float32, copy=False)
    return PreparedCue(samples, peak, energy), crc


__all__ = [
    "PREPARED_FORMAT",
    "PREPARED_SUFFIX",
    "PreparedInfo",
    "get_prepared",
    "prepared_info",
    "prepared_path",
    "put_prepared",
    "read_prepared",
]
