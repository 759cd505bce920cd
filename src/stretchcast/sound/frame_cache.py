"""Cues kept as mastered MP3 frames per output format, beside the prepared cues they were made from.

Beside a prepared cue ``<key>.<rate>.f32`` (``sound.prepared``), ``<key>.<rate>.frames<bitrate>_<gain>_v<N>``
holds what ``frame_track.make_sound`` made of it for that bitrate and event gain: the block of MP3
frames, the mastered sound's length and true peak, and its cumulative K-weighted energy (so a
track's loudness is computed without filtering anything). Like a prepared cue it is derived data:
it names the CRC-32 and size of the prepared file it was made from and is used only while that
file is unchanged (so a remade cue or a remade prepared file is noticed), a CRC-32 covers its own
header and body, and a damaged, stale or unreadable one is ignored, deleted and made again.
The cue cache's ``info`` counts these files as space and ``clear`` removes them with the entries
(their names match its pattern for derived files).

Chimes are not kept: two sounds, made again by each build in well under a second.
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
from stretchcast.sound import frames
from stretchcast.sound.frame_track import FRAME_GAIN_DB, Sound, SoundKey, make_sound
from stretchcast.sound.layout import CueAudio
from stretchcast.sound.prepared import prepared_path
from stretchcast.sound.signal import k_weighting_tail
from stretchcast.voices.cache import CueCache, Identity

log = logging.getLogger(__name__)

#: Bumped when ``frame_track.make_sound`` changes what it makes; old files are then never read.
FRAMES_FORMAT = 1
# magic, format, rate, bitrate, event gain, frame gain, prepared file CRC-32 and size, samples,
# frames, frame bytes, true peak, energy count, CRC-32 (of all this with it zero, and the body);
# then the body: float64 cumulative energy, then the frames
_HEADER = struct.Struct("<4sHIHddIQQIQdQI")
_MAGIC = b"SCFB"


def frames_path(
    cache: CueCache, identity: Identity, text: str, *, rate: int, bitrate: int, gain_db: float
) -> Path:
    """Where the frames of ``text`` at this format and event gain live."""
    prepared = prepared_path(cache, identity, text, rate)
    gain = f"{round(gain_db * 100):+d}".replace("+", "p").replace("-", "m")
    return prepared.with_name(f"{prepared.name.rsplit('.', 1)[0]}.frames{bitrate}_{gain}_v{FRAMES_FORMAT}")


def get_sound(
    cache: CueCache, identity: Identity, text: str, *, rate: int, bitrate: int, gain_db: float
) -> Sound | None:
    """The sound kept for ``text``, if it was made from the prepared cue as it is now; else None."""
    if not cache.readable:
        return None
    path = frames_path(cache, identity, text, rate=rate, bitrate=bitrate, gain_db=gain_db)
    try:
        data = path.read_bytes()
        source = prepared_path(cache, identity, text, rate).read_bytes()
    except OSError:
        return None
    sound = _decode(data, source, rate, bitrate, gain_db)
    if sound is None:
        log.debug("cue cache: frames %s are stale or damaged; making them again", path.name)
        with contextlib.suppress(OSError):
            path.unlink()
    return sound


def put_sound(
    cache: CueCache, identity: Identity, text: str, sound: Sound, *, rate: int, bitrate: int, gain_db: float
) -> bool:
    """Keep ``sound``, made from the prepared cue for ``text`` as it is now; False if it cannot be kept."""
    if not cache.writable:
        return False
    path = frames_path(cache, identity, text, rate=rate, bitrate=bitrate, gain_db=gain_db)
    try:
        source = prepared_path(cache, identity, text, rate).read_bytes()
    except OSError:
        return False  # made from a prepared cue that was not kept: nothing to check it against later
    energy, scale = sound.energy
    data = b"".join(sound.block.frames)
    body = np.ascontiguousarray(energy * scale, dtype="<f8").tobytes() + data
    fields = (
        _MAGIC,
        FRAMES_FORMAT,
        rate,
        bitrate,
        gain_db,
        FRAME_GAIN_DB,
        zlib.crc32(source),
        len(source),
        sound.samples,
        sound.block.size,
        len(data),
        sound.true_peak_dbtp,
        len(energy),
    )
    crc = zlib.crc32(body, zlib.crc32(_HEADER.pack(*fields, 0)))
    try:
        write_atomic(path, (_HEADER.pack(*fields, crc), body), prefix=f".{path.stem[:16]}.")
    except OSError as err:
        log.debug("cue cache: cannot keep frames %s: %s", path.name, err)
        return False
    return True


def _decode(data: bytes, source: bytes, rate: int, bitrate: int, gain_db: float) -> Sound | None:
    """The sound in ``data`` if it is whole and was made, for this format and gain, from ``source``."""
    size = _HEADER.size
    if len(data) < size:
        return None
    *fields, crc = _HEADER.unpack_from(data)
    (
        magic,
        fmt,
        f_rate,
        f_bitrate,
        f_gain,
        f_frame_gain,
        s_crc,
        s_size,
        samples,
        count,
        nbytes,
        peak,
        n_energy,
    ) = fields
    body = memoryview(data)[size:]
    if (
        magic != _MAGIC
        or fmt != FRAMES_FORMAT
        or (f_rate, f_bitrate, f_gain, f_frame_gain) != (rate, bitrate, gain_db, FRAME_GAIN_DB)
        or (s_crc, s_size) != (zlib.crc32(source), len(source))
        or n_energy != samples + k_weighting_tail(rate) + 1
        or len(body) != 8 * n_energy + nbytes
        or crc != zlib.crc32(body, zlib.crc32(_HEADER.pack(*fields, 0)))
    ):
        return None
    energy = np.frombuffer(body, dtype="<f8", count=n_energy).astype(np.float64, copy=False)
    try:
        block_frames = frames.split_frames(bytes(body[8 * n_energy :]), rate, bitrate)
    except (ValueError, IndexError):
        return None
    if len(block_frames) != count:
        return None
    return Sound(frames.Block(tuple(block_frames), samples), samples, peak, (energy, 1.0))


def maker(
    cache: CueCache, identity: Identity, cues: CueAudio, rate: int, bitrate: int
) -> Callable[[SoundKey], Sound]:
    """What ``frame_track.write`` calls for a sound it lacks: from the cache, else made and kept."""

    def make(key: SoundKey) -> Sound:
        kind, text, n, gain_db = key
        whole = kind == "speech" and n == len(cues[text])  # a cue cut short is made, never kept
        if whole:
            found = get_sound(cache, identity, text, rate=rate, bitrate=bitrate, gain_db=gain_db)
            if found is not None:
                return found
        sound = make_sound(key, cues, rate, bitrate)
        if whole:
            put_sound(cache, identity, text, sound, rate=rate, bitrate=bitrate, gain_db=gain_db)
        return sound

    return make


__all__ = ["FRAMES_FORMAT", "frames_path", "get_sound", "maker", "put_sound"]
