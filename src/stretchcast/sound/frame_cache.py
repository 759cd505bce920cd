"""Sounds kept as mastered MP3 frames per output format, beside what they were made from.

Beside a prepared cue ``<key>.<rate>.f32`` (``sound.prepared``), ``<key>.<rate>.frames<bitrate>_<gain>_v<N>``
holds what ``frame_track.make_sound`` made of it for that bitrate and event gain: the block of MP3
frames, what those bytes do to the music CRC, the mastered sound's length and true peak, and its
cumulative K-weighted energy every ``frame_track.ENERGY_STRIDE`` samples (so a track's loudness is
computed without filtering anything). Like a prepared cue it is derived data: it names the
prepared file it was made from by that file's own CRC-32 and length (``PreparedInfo``, read from
its header: a warm build never reads the prepared samples) and is used only while that file is
unchanged, a CRC-32 covers its own header and body, and a damaged, stale or unreadable one is
ignored, deleted and made again. The cue cache's ``info`` counts these files as space and
``clear`` removes them with the entries (their names match its pattern for derived files).

The chimes are kept the same way under the cache's ``tone`` folder, named by their name and
length and checked against the recipe ``sound.tones`` makes them by now (``tones.fingerprint``:
making the chime only to check it cost 8 ms of a warm build), so a warm build masters nothing
at all and never loads scipy.
"""

from __future__ import annotations

import contextlib
import logging
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np

from stretchcast.atomic import write_atomic
from stretchcast.sound import frames, mp3, tones
from stretchcast.sound.cues import CueSet
from stretchcast.sound.frame_track import (
    ENERGY_STRIDE,
    FRAME_GAIN_DB,
    CumulativeEnergy,
    Sound,
    SoundKey,
    make_sound,
)
from stretchcast.sound.prepared import prepared_path
from stretchcast.sound.signal import k_weighting_tail
from stretchcast.voices.cache import CueCache, Identity

log = logging.getLogger(__name__)

#: Bumped when ``frame_track.make_sound`` or this file's layout changes; old files are never read.
FRAMES_FORMAT = 2
# magic, format, rate, bitrate, event gain, frame gain, energy stride, the source's CRC-32 and
# length (a prepared cue's file, or a chime's samples), samples, frames, frame bytes, true peak,
# energy points, the block's CRC-16 from zero and its 16-column zero map, CRC-32 (of all this with
# it zero, and the body); then the body: float64 energy points, then the frames
_HEADER = struct.Struct("<4sHIHddIIQQIQdQH16HI")
_MAGIC = b"SCFB"
TONE_IDENTITY: Identity = {"engine": "tone"}


def _db(value: float) -> str:
    return f"{round(value * 100):+d}".replace("+", "p").replace("-", "m")


def _name(base: Path, rate: int, bitrate: int, gain_db: float, lift_db: float) -> Path:
    stem = base.name.rsplit(".", 1)[0]
    return base.with_name(f"{stem}.frames{bitrate}_{_db(gain_db)}_{_db(lift_db)}_v{FRAMES_FORMAT}")


def frames_path(
    cache: CueCache,
    identity: Identity,
    spoken: str,
    *,
    rate: int,
    bitrate: int,
    gain_db: float,
    lift_db: float = FRAME_GAIN_DB,
) -> Path:
    """Where the frames of the cue spoken as ``spoken`` at this format, event gain and lift live."""
    return _name(prepared_path(cache, identity, spoken, rate), rate, bitrate, gain_db, lift_db)


def tone_path(
    cache: CueCache,
    name: str,
    samples: int,
    *,
    rate: int,
    bitrate: int,
    gain_db: float,
    lift_db: float = FRAME_GAIN_DB,
) -> Path:
    """Where the frames of the chime ``name``, ``samples`` long, at this format, gain and lift live
    (chimes are shared by every voice; a voice lifted otherwise has its own)."""
    return _name(cache.path_for(TONE_IDENTITY, f"{name} {samples}"), rate, bitrate, gain_db, lift_db)


def read_sound(
    cache: CueCache,
    path: Path,
    *,
    source: tuple[int, int],
    rate: int,
    bitrate: int,
    gain_db: float,
    lift_db: float = FRAME_GAIN_DB,
) -> Sound | None:
    """The sound kept at ``path`` if it was made, for this format and gain, from ``source``
    (CRC-32 and length of what it was made from); else None (a damaged or stale file is removed)."""
    if not cache.readable:
        return None
    try:
        data = path.read_bytes()
    except OSError:
        return None
    sound = _decode(data, source, rate, bitrate, gain_db=gain_db, lift_db=lift_db)
    if sound is None:
        log.debug("cue cache: frames %s are stale or damaged; making them again", path.name)
        with contextlib.suppress(OSError):
            path.unlink()
    return sound


def keep_sound(
    cache: CueCache,
    path: Path,
    sound: Sound,
    *,
    source: tuple[int, int],
    rate: int,
    bitrate: int,
    gain_db: float,
    lift_db: float = FRAME_GAIN_DB,
) -> bool:
    """Keep ``sound``, made from ``source``, at ``path``; False if it cannot be kept."""
    if not cache.writable:
        return False
    span = sound.block.crc_span
    data = sound.block.data
    values = np.ascontiguousarray(sound.energy.values, dtype="<f8")
    body = values.tobytes() + data
    fields = (
        _MAGIC,
        FRAMES_FORMAT,
        rate,
        bitrate,
        gain_db,
        lift_db,
        ENERGY_STRIDE,
        source[0],
        source[1],
        sound.samples,
        sound.block.size,
        len(data),
        sound.true_peak_dbtp,
        len(values),
        span.zero_crc,
        *span.columns,
    )
    crc = zlib.crc32(body, zlib.crc32(_HEADER.pack(*fields, 0)))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, (_HEADER.pack(*fields, crc), body), prefix=f".{path.stem[:16]}.")
    except OSError as err:
        log.debug("cue cache: cannot keep frames %s: %s", path.name, err)
        return False
    return True


def _decode(
    data: bytes, source: tuple[int, int], rate: int, bitrate: int, *, gain_db: float, lift_db: float
) -> Sound | None:
    """The sound in ``data`` if it is whole and was made, for this format and gain, from ``source``."""
    size = _HEADER.size
    if len(data) < size:
        return None
    *fields, crc = _HEADER.unpack_from(data)
    (magic, fmt, f_rate, f_bitrate, f_gain, f_frame_gain, stride, s_crc, s_size, samples, count, nbytes) = (
        fields[:12]
    )
    peak, n_energy, zero_crc = fields[12:15]
    columns = tuple(fields[15:31])
    body = memoryview(data)[size:]
    if (
        magic != _MAGIC
        or fmt != FRAMES_FORMAT
        or (f_rate, f_bitrate, f_gain, f_frame_gain, stride)
        != (rate, bitrate, gain_db, lift_db, ENERGY_STRIDE)
        or (s_crc, s_size) != source
        or len(body) != 8 * n_energy + nbytes
        or crc != zlib.crc32(body, zlib.crc32(_HEADER.pack(*fields, 0)))
    ):
        return None
    length = samples + k_weighting_tail(rate) + 1
    energy = CumulativeEnergy(np.frombuffer(body, dtype="<f8", count=n_energy).astype(np.float64), length)
    if n_energy != (length - 2) // ENERGY_STRIDE + 2:
        return None
    data = bytes(body[8 * n_energy :])
    if count < 1 or not data.startswith(b"\xff"):
        return None
    block = frames.Block.joined(
        data, count, samples, sample_rate=rate, bitrate=bitrate, crc=mp3.CrcSpan(zero_crc, columns)
    )
    return Sound(block, samples, peak, energy)


def maker(
    cache: CueCache, cues: CueSet, rate: int, bitrate: int, *, lift_db: float = FRAME_GAIN_DB
) -> Callable[[SoundKey], Sound]:
    """What ``frame_track.prepare`` calls for a sound it lacks: from the cache, else made and kept.

    A cue is kept under what its voice says (its prepared cue's name) and only when it plays
    whole; a chime is kept by its name and length. A cue cut short is made, never kept. Every
    sound is lifted ``lift_db`` (``frame_track.lift_for`` the voice).
    """

    def make(key: SoundKey) -> Sound:
        kind, text, n, gain_db = key
        where: Path | None = None
        source: tuple[int, int] | None = None
        if kind == "tone":
            where = tone_path(cache, text, n, rate=rate, bitrate=bitrate, gain_db=gain_db, lift_db=lift_db)
            source = (tones.fingerprint(text, n, rate), n)
        elif kind == "speech" and n == cues.length(text):
            spoken = cues.spoken(text)
            where = frames_path(
                cache, cues.identity, spoken, rate=rate, bitrate=bitrate, gain_db=gain_db, lift_db=lift_db
            )
            fingerprint = cues.fingerprint(text)
            source = (fingerprint, n) if fingerprint is not None else None
        if where is not None and source is not None:
            found = read_sound(
                cache, where, source=source, rate=rate, bitrate=bitrate, gain_db=gain_db, lift_db=lift_db
            )
            if found is not None:
                return found
        sound = make_sound(key, cues, rate, bitrate, lift_db=lift_db)
        if kind == "speech" and where is not None:
            fingerprint = cues.fingerprint(text)  # known now if reading the samples found the file
            source = (fingerprint, n) if fingerprint is not None else None
        if where is not None and source is not None:
            keep_sound(
                cache,
                where,
                sound,
                source=source,
                rate=rate,
                bitrate=bitrate,
                gain_db=gain_db,
                lift_db=lift_db,
            )
        return sound

    return make


__all__ = ["FRAMES_FORMAT", "frames_path", "keep_sound", "maker", "read_sound", "tone_path"]
