"""``stretchcast publish``: a static site of the page, feed, chapters, captions, covers and tracks."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import feedparser
import pytest

from stretchcast import BuildOptions, build
from stretchcast.cli.main import main
from stretchcast.content import Collection, load_routine
from stretchcast.serve.publish import check_base_url
from stretchcast.testing import FakeVoice

from ._library import Library, make_library

BASE = "https://example.org/stretches"


class _Links(HTMLParser):
    """Every src and href in a page, and the subscribe links apart."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.links: list[str] = []
        self.subscribe: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        link = found.get("src") or found.get("href")
        if link is None:
            return
        if "subscribe" in (found.get("class") or ""):
            self.subscribe.append(link)
        else:
            self.links.append(link)


def _tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder``, hidden ones included, by relative path."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> tuple[Library, Path]:
    """The test library published once to a site folder."""
    base = tmp_path_factory.mktemp("publish")
    lib = make_library(base)
    site = base / "site"
    assert main(["publish", str(lib.root), "--base-url", BASE + "/", "-o", str(site)]) == 0
    return lib, site


class TestSite:
    """What the folder holds and how its parts point at each other."""

    def test_files(self, published: tuple[Library, Path]) -> None:
        """The page, feed, worker, static files, chapters, cover and every track, caption and playlist."""
        lib, site = published
        names = set(_tree(site))
        assert {
            "index.html",
            "feed.xml",
            "sw.js",
            "static/app.js",
            "static/app.css",
            "static/icon.svg",
        } <= names
        assert {"chapters/morning.json", "chapters/tagged.json", "art/morning.png"} <= names
        assert {
            "morning.mp3",
            "morning.vtt",
            "morning.m3u8",
            "morning/01-knee-sways.mp3",
            "evening.mp3",
        } <= names
        assert (site / "morning.mp3").read_bytes() == (lib.root / "morning.mp3").read_bytes()
        assert (site / "art" / "morning.png").read_bytes() == lib.cover
        assert not [n for n in names if any(part.startswith(".") for part in n.split("/"))]
        assert not {"notes.txt", "broken.json", "link-out.mp3"} & names

    def test_page_links_relative_and_present(self, published: tuple[Library, Path]) -> None:
        """Every link in the page is relative and names a file in the site; only the subscribe links leave it."""
        _, site = published
        links = _Links((site / "index.html").read_text())
        assert links.links
        for link in links.links:
            assert ":" not in link and not link.startswith("/"), link
            assert (site / unquote(link.partition("#")[0])).is_file(), link
        assert links.subscribe == [
            "https://antennapod.org/deeplink/subscribe?url=https%3A%2F%2Fexample.org%2Fstretches%2Ffeed.xml",
            "podcast://example.org/stretches/feed.xml",
        ]

    def test_feed_absolute_under_base(self, published: tuple[Library, Path]) -> None:
        """feedparser reads the feed; every enclosure, chapters and transcript URL is under the base URL and is in the site."""
        _, site = published
        feed = feedparser.parse((site / "feed.xml").read_bytes())
        assert not feed.bozo, feed.get("bozo_exception")
        urls = [e.enclosures[0].href for e in feed.entries]
        urls += [e.podcast_chapters["url"] for e in feed.entries if "podcast_chapters" in e]
        urls += [e.podcast_transcript["url"] for e in feed.entries if "podcast_transcript" in e]
        assert len(urls) == 4 + 2 + 1
        for url in urls:
            assert url.startswith(BASE + "/"), url
            assert (site / unquote(urlsplit(url).path.removeprefix("/stretches/"))).is_file(), url
        morning = feed.entries[-1]
        assert morning.enclosures[0].length == str((site / "morning.mp3").stat().st_size)

    def test_chapters_file(self, published: tuple[Library, Path]) -> None:
        """The chapters file in the site is the JSON chapters document the feed names."""
        _, site = published
        document = json.loads((site / "chapters" / "morning.json").read_text())
        assert document["version"] == "1.2.0" and len(document["chapters"]) == 4

    def test_page_says_published(self, published: tuple[Library, Path]) -> None:
        """The published page tells every podcast app to subscribe by URL, not to publish."""
        _, site = published
        page = (site / "index.html").read_text()
        assert "Pocket Casts, Overcast, Castro and other apps: add the address above by URL" in page
        assert "stretchcast publish" not in page
        assert '<meta http-equiv="Content-Security-Policy" content="default-src \'self\';' in page


def test_says_where_and_what(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The command says how many routines went where, the feed's address, and that plain http cannot save offline."""
    lib = make_library(tmp_path)
    assert (
        main(["publish", str(lib.root), "--base-url", "http://nas.local/stretch", "-o", str(tmp_path / "s")])
        == 0
    )
    out = capsys.readouterr().out
    assert f"Published 4 routines to {tmp_path / 's'}" in out
    assert "Podcast feed: http://nas.local/stretch/feed.xml" in out
    assert "Over plain http, phones will not offer Save for offline" in out


class TestWholeOrNothing:
    """Bad input writes nothing; a new site replaces the old one whole."""

    @pytest.mark.parametrize(
        "url",
        [
            "example.org/stretches",
            "ftp://example.org/",
            "https://",
            "https://example.org/a b",
            "https://example.org/?x=1",
            "https://user@example.org/",
            "https://example.org:70000/",
        ],
    )
    def test_bad_base_url(self, tmp_path: Path, url: str, capsys: pytest.CaptureFixture[str]) -> None:
        """A base URL that is not an absolute http(s) address exits 2, says how to write one, and writes nothing."""
        lib = make_library(tmp_path)
        before = set(tmp_path.iterdir())
        assert main(["publish", str(lib.root), "--base-url", url, "-o", str(tmp_path / "site")]) == 2
        assert "--base-url https://example.org/stretches" in capsys.readouterr().err
        assert set(tmp_path.iterdir()) == before

    def test_base_url_normalised(self) -> None:
        """Trailing slashes go; the path prefix stays."""
        assert check_base_url("https://example.org/a/b/") == "https://example.org/a/b"
        assert check_base_url("http://192.168.1.20:8000") == "http://192.168.1.20:8000"

    def test_not_a_site(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """A target folder holding other files is left alone (exit 2); so is the routines' own folder."""
        lib = make_library(tmp_path)
        other = tmp_path / "documents"
        other.mkdir()
        (other / "letter.txt").write_text("keep me")
        assert main(["publish", str(lib.root), "--base-url", BASE, "-o", str(other)]) == 2
        assert "not a site stretchcast published" in capsys.readouterr().err
        assert _tree(other) == {"letter.txt": b"keep me"}
        before = _tree(lib.root)
        assert main(["publish", str(lib.root), "--base-url", BASE, "-o", str(lib.root)]) == 2
        assert main(["publish", str(lib.root), "--base-url", BASE, "-o", str(lib.root / "site")]) == 2
        assert _tree(lib.root) == before

    def test_nothing_to_publish(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """An empty folder exits 2 saying to build first, and no site appears."""
        (tmp_path / "audio").mkdir()
        assert (
            main(["publish", str(tmp_path / "audio"), "--base-url", BASE, "-o", str(tmp_path / "site")]) == 2
        )
        assert "stretchcast build standard" in capsys.readouterr().err
        assert not (tmp_path / "site").exists()

    def test_republish_replaces(self, tmp_path: Path) -> None:
        """Publishing again after a routine is removed gives a site without it, and leaves no staging folder."""
        lib = make_library(tmp_path)
        site = tmp_path / "site"
        assert main(["publish", str(lib.root), "--base-url", BASE, "-o", str(site)]) == 0
        assert (site / "evening.mp3").is_file()
        (lib.root / "evening.mp3").unlink()
        (lib.root / "evening.json").unlink()
        (lib.root / "link-in.mp3").unlink()
        assert main(["publish", str(lib.root), "--base-url", BASE + "/v2", "-o", str(site)]) == 0
        assert not (site / "evening.mp3").exists()
        assert b"https://example.org/stretches/v2/morning.mp3" in (site / "feed.xml").read_bytes()
        assert sorted(p.name for p in tmp_path.iterdir()) == ["audio", "private", "site"]

    def test_failure_keeps_the_previous_site(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """A disk that fills while the new site is written: exit 4, the previous site byte for byte, no staging left."""
        import errno
        import shutil

        lib = make_library(tmp_path)
        site = tmp_path / "site"
        assert main(["publish", str(lib.root), "--base-url", BASE, "-o", str(site)]) == 0
        before = _tree(site)
        copies: list[Path] = []

        def copy_then_fail(source: Path, target: Path) -> None:
            copies.append(target)
            if len(copies) == 3:
                raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(shutil, "copy2", copy_then_fail)
        assert main(["publish", str(lib.root), "--base-url", BASE + "/v2", "-o", str(site)]) == 4
        assert _tree(site) == before
        assert sorted(p.name for p in tmp_path.iterdir()) == ["audio", "private", "site"]


def test_site_carries_the_moving_figures(tmp_path: Path, collection: Collection) -> None:
    """A built track's site holds its manifest and the figure of each exercise, so the page's figure moves there too."""
    routine = load_routine(collection, "gentle")
    build(routine, voice=FakeVoice(), options=BuildOptions(out_dir=tmp_path / "audio"))
    site = tmp_path / "site"
    assert main(["publish", str(tmp_path / "audio"), "--base-url", BASE, "-o", str(site)]) == 0
    page = (site / "index.html").read_text()
    assert 'data-manifest="gentle.json"' in page and (site / "gentle.json").is_file()
    for item in routine.items:
        data = json.loads((site / "figures" / f"{item.exercise.id}.json").read_text())
        assert data, item.exercise.id
        assert (site / "figures" / f"{item.exercise.id}.svg").read_text().startswith("<svg")
