"""ID3v2.4 tags for a track: what a phone shows, the chapters in time order, and the cover."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from mutagen.id3 import (
    APIC,
    CHAP,
    COMM,
    CTOC,
    ID3,
    TALB,
    TCON,
    TDRC,
    TIT2,
    TLEN,
    TPE1,
    TPE2,
    TRCK,
    CTOCFlags,
    Frame,
    PictureType,
)

from stretchcast.output.cover import Cover
from stretchcast.timeline import Chapter


@dataclass(frozen=True)
class Tags:
    """What a phone shows for a track."""

    title: str
    album: str
    artist: str = "stretchcast"
    album_artist: str = "stretchcast"
    genre: str = "Fitness"
    track: int | None = None
    tracks: int | None = None
    year: int | None = None
    comment: str | None = None
    length_ms: int | None = None


def _frame_bytes(frame: Frame) -> bytes:
    """One frame as ID3v2.4 bytes, via mutagen's public API: a tag holding only it, minus the header."""
    single = ID3()
    single.add(frame)
    buf = io.BytesIO()
    single.save(buf, v2_version=4, padding=lambda _info: 0)
    return buf.getvalue()[10:]


def _syncsafe(n: int) -> bytes:
    return bytes(((n >> 21) & 0x7F, (n >> 14) & 0x7F, (n >> 7) & 0x7F, n & 0x7F))


def id3_frames(tags: Tags, chapters: Sequence[Chapter] = (), cover: Cover | None = None) -> list[Frame]:
    """The tag's frames, in the order they are written: text, comment, table of contents, chapters, cover."""
    frames: list[Frame] = [
        TIT2(encoding=3, text=tags.title),
        TPE1(encoding=3, text=tags.artist),
        TPE2(encoding=3, text=tags.album_artist),
        TALB(encoding=3, text=tags.album),
    ]
    if tags.track is not None:
        frames.append(
            TRCK(encoding=3, text=f"{tags.track}/{tags.tracks}" if tags.tracks else str(tags.track))
        )
    if tags.year is not None:
        frames.append(TDRC(encoding=3, text=str(tags.year)))
    frames.append(TCON(encoding=3, text=tags.genre))
    if tags.length_ms is not None:
        frames.append(TLEN(encoding=3, text=str(tags.length_ms)))
    if tags.comment:
        frames.append(COMM(encoding=3, lang="eng", desc="", text=tags.comment))
    if len(chapters) > 1:
        ids = [f"chp{i:03d}" for i in range(len(chapters))]
        frames.append(
            CTOC(
                element_id="toc",
                flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
                child_element_ids=ids,
                sub_frames=[TIT2(encoding=3, text="Chapters")],
            )
        )
        frames.extend(
            CHAP(
                element_id=element,
                start_time=ch.start_ms,
                end_time=ch.end_ms,
                start_offset=0xFFFFFFFF,
                end_offset=0xFFFFFFFF,
                sub_frames=[TIT2(encoding=3, text=ch.title)],
            )
            for element, ch in zip(ids, chapters, strict=True)
        )
    if cover is not None:
        frames.append(
            APIC(encoding=3, mime=cover.mime, type=PictureType.COVER_FRONT, desc="", data=cover.data)
        )
    return frames


def id3_bytes(tags: Tags, chapters: Sequence[Chapter] = (), cover: Cover | None = None) -> bytes:
    """An ID3v2.4 tag with the frames in :func:`id3_frames` order, chapters in time order.

    mutagen sorts frames by size when it saves a tag, which scrambles the chapters for players that
    read CHAP frames in file order and ignore the CTOC (FFmpeg lists them so). So each frame is
    serialised by mutagen on its own and the tag is assembled here: a 10-byte header (version 2.4,
    no flags, syncsafe size) and the frames, in order, with no padding.
    """
    body = b"".join(_frame_bytes(f) for f in id3_frames(tags, chapters, cover))
    return b"ID3\x04\x00\x00" + _syncsafe(len(body)) + body
