"""The writers behind a build's files: ID3 tags, captions, the cover, the playlist, staged output."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from mutagen.id3 import ID3
from PIL import Image

from stretchcast.output import captions
from stretchcast.output import cover as covers
from stretchcast.output.cover import TEXT, TRACK, Cover, Segment, cached_cover, render_cover
from stretchcast.output.files import OutputSet
from stretchcast.output.playlist import m3u8
from stretchcast.output.tags import Tags, id3_bytes
from stretchcast.timeline import Chapter, Event, Timeline

# titles of very different lengths: mutagen's own save would order these frames by size
CHAPTERS = (
    Chapter("Welcome", 0, 1000),
    Chapter("A very long chapter title indeed, to make a big frame", 1000, 2000, "x"),
    Chapter("B", 2000, 3000, "y"),
    Chapter("Finish", 3000, 4000),
)


class TestId3:
    """The tag is ID3v2.4 with chapters in time order in the file."""

    def test_chapters_in_file_order(self, tmp_path: Path) -> None:
        """CHAP frames follow one another in time order, after the CTOC that lists them."""
        data = id3_bytes(Tags(title="T", album="A", track=1, tracks=2, year=2026), CHAPTERS)
        assert data[:5] == b"ID3\x04\x00"
        positions = [data.index(f"chp{i:03d}\x00".encode()) for i in range(len(CHAPTERS))]
        assert positions[0] > data.index(b"CTOC")
        assert positions[0] < positions[1] < positions[2] < positions[3]
        path = tmp_path / "t.mp3"
        path.write_bytes(data)
        tags = ID3(path)
        assert [c.start_time for c in tags.getall("CHAP")] == [0, 1000, 2000, 3000]
        assert tags["TRCK"].text[0] == "1/2" and str(tags["TDRC"].text[0]) == "2026"

    def test_size_is_syncsafe(self) -> None:
        """The header's size is syncsafe and counts every byte after the header."""
        data = id3_bytes(Tags(title="T" * 300, album="A"))
        size = 0
        for byte in data[6:10]:
            assert byte < 0x80
            size = (size << 7) | byte
        assert size == len(data) - 10


class TestCaptions:
    """WebVTT text is valid however the cue text is written."""

    def test_escaping_and_times(self) -> None:
        """Markup characters are escaped and times run past an hour correctly."""
        events = (
            Event("speech", 0, 1500, "welcome", text="Knees <up> & down"),
            Event("silence", 1500, 3_723_456, "rest"),
            Event("tone", 3_723_456, 3_724_000, "chime", text="end"),
        )
        timeline = Timeline("T", "t", events, (), (Chapter("All", 0, 3_724_000),))
        text = captions.webvtt(timeline)
        assert "Knees &lt;up&gt; &amp; down" in text
        assert "01:02:03.456 --> 01:02:04.000\n[closing chime]" in text
        assert text.startswith("WEBVTT\n\nNOTE All\n\n1\n00:00:00.000 --> 00:00:01.500\n")


class TestCover:
    """The cover is a square PNG of at least 600 x 600, whatever the title."""

    @pytest.mark.parametrize(
        "title", ["Short", "A much longer routine title that has to wrap over lines " * 2]
    )
    def test_png(self, title: str) -> None:
        """Any title renders; a long one is wrapped and cut rather than overflowing."""
        cover = render_cover(title, "SI joint stretches", 605_000, [Segment(0, 300_000, 0)], 1)
        with Image.open(io.BytesIO(cover.data)) as image:
            assert image.format == "PNG" and image.size == (cover.width, cover.height)
            assert cover.width == cover.height >= 600

    @pytest.mark.parametrize(
        ("title", "duration_ms"),
        [
            ("Standard", 660_000),
            ("Standard: what the source states, every day", 660_000),  # three lines: a smaller ring
            ("Sixty minutes (adjusted)", 3_725_000),  # an hour: a wider clock
        ],
    )
    def test_total_time_stays_inside_the_ring(self, title: str, duration_ms: int) -> None:
        """The total time is drawn wholly inside the ring, however long the title or the routine."""
        cover = render_cover(title, "SI joint stretches", duration_ms, [], 4)
        with Image.open(io.BytesIO(cover.data)) as image:
            pixels = np.asarray(image.convert("RGB")).astype(int)
        ys, xs = np.nonzero(np.abs(pixels - TRACK).sum(axis=2) < 6)  # the ring (no arcs on it)
        cy, cx = (ys.min() + ys.max()) / 2, (xs.min() + xs.max()) / 2
        inner = np.hypot(ys - cy, xs - cx).min()
        ty, tx = np.nonzero(np.all(pixels == TEXT, axis=2))
        clock = ys.min() <= ty  # text below the ring's top: the clock and "total time"
        assert clock.any()
        assert np.hypot(ty[clock] - cy, tx[clock] - cx).max() < inner - 4

    def test_kept_cover_read_back(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """A cover is drawn once per thing it shows, then read back byte for byte without drawing."""
        drawn = _kept(tmp_path)
        assert drawn == render_cover("Standard", "SI joint", 660_000, SEGMENTS, 2)
        assert [p.suffix for p in tmp_path.iterdir()] == [".png"]

        def no_drawing(*args: object, **kwargs: object) -> None:
            raise AssertionError("drawn again")

        monkeypatch.setattr(covers, "render_cover", no_drawing)
        assert _kept(tmp_path) == drawn
        with pytest.raises(AssertionError, match="drawn again"):  # another length is another cover
            _kept(tmp_path, duration_ms=661_000)

    @pytest.mark.parametrize("damage", ["flip", "cut", "empty"])
    def test_damaged_cover_drawn_again(self, tmp_path: Path, damage: str) -> None:
        """A kept cover with a wrong byte, cut short or empty is drawn again and replaced."""
        drawn = _kept(tmp_path)
        (path,) = tmp_path.iterdir()
        data = bytearray(drawn.data)
        data[len(data) // 2] ^= 0x01
        damaged = {"flip": bytes(data), "cut": drawn.data[:-20], "empty": b""}[damage]
        path.write_bytes(damaged)
        assert _kept(tmp_path) == drawn
        assert path.read_bytes() == drawn.data

    def test_unwritable_folder_still_draws(self, tmp_path: Path) -> None:
        """A cover folder that cannot be made (a file is in the way) only means the cover is drawn."""
        blocked = tmp_path / "file"
        blocked.write_bytes(b"x")
        assert _kept(blocked / "covers") == render_cover("Standard", "SI joint", 660_000, SEGMENTS, 2)


SEGMENTS = (Segment(0, 300_000, 0), Segment(300_000, 660_000, 1))


def _kept(folder: Path, duration_ms: int = 660_000) -> Cover:
    return cached_cover(
        folder,
        title="Standard",
        collection="SI joint",
        duration_ms=duration_ms,
        segments=SEGMENTS,
        exercises=2,
    )


class TestPlaylistAndFiles:
    """The M3U8 text and staged writing."""

    def test_m3u8(self) -> None:
        """Durations are whole seconds, paths relative, in order."""
        text = m3u8("R", [("r/01-a.mp3", "A", 61.6), ("r/02-b.mp3", "B", 5.2)])
        assert text == "#EXTM3U\n#PLAYLIST:R\n#EXTINF:62,A\nr/01-a.mp3\n#EXTINF:5,B\nr/02-b.mp3\n"

    def test_output_set_commits_all_or_nothing(self, tmp_path: Path) -> None:
        """Staged files appear only on commit; an error before it removes them and the folders made."""
        with pytest.raises(RuntimeError), OutputSet() as files:
            files.add(tmp_path / "new" / "a.mp3", b"a")
            raise RuntimeError("stop")
        assert list(tmp_path.iterdir()) == []
        with OutputSet() as files:
            files.add(tmp_path / "b.txt", b"b")
            assert next(p.name for p in tmp_path.iterdir()).startswith(".b.txt.")
            files.commit()
        assert [p.name for p in tmp_path.iterdir()] == ["b.txt"]
