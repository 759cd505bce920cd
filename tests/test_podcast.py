"""Podcasting 2.0 in the feed: JSON chapters, captions as transcripts, the channel's guid, subscribe links."""

from __future__ import annotations

import json
import socket
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import feedparser
import jsonschema
import pytest
from mutagen.id3 import ID3

from stretchcast.cli.main import main
from stretchcast.content import Collection, load_routine
from stretchcast.content.programme import programme_of, progression
from stretchcast.pipeline import BuildOptions, build
from stretchcast.pipeline.programme import build_programme
from stretchcast.serve.podcast import podcast_guid, subscribe_links
from stretchcast.serve.server import BackgroundServer, start_background
from stretchcast.testing import FakeVoice

from ._library import MORNING_CHAPTERS, Library, fetch

SCHEMA = json.loads((Path(__file__).parent / "data" / "json-chapters-1.2.schema.json").read_text())


def _check_chapters(document: dict[str, Any]) -> None:
    """Valid against the JSON chapters 1.2 schema, with start times ascending as the spec asks."""
    jsonschema.validate(document, SCHEMA, cls=jsonschema.Draft202012Validator)
    starts = [c["startTime"] for c in document["chapters"]]
    assert starts == sorted(starts)


@pytest.fixture(scope="module")
def parsed(server: BackgroundServer) -> Any:
    """The served feed as feedparser reads it."""
    return feedparser.parse(fetch(server.url, "/feed.xml").body)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, collection: Collection) -> Path:
    """A two-exercise routine built by the real pipeline (fake voice), in a folder of its own."""
    base = tmp_path_factory.mktemp("podcast")
    routine_file = base / "pair.yaml"
    routine_file.write_text(
        "title: Pair\nexercises:\n  - id: knee-sways\n    reps: 4\n  - id: tall-cobra\n    sets: 1\n"
    )
    out = base / "audio"
    build(load_routine(collection, str(routine_file)), voice=FakeVoice(), options=BuildOptions(out_dir=out))
    return out


class TestFeedReader:
    """A real feed parser reads the podcast namespace back."""

    def test_well_formed(self, parsed: Any) -> None:
        """feedparser finds nothing wrong with the feed, and knows the podcast namespace."""
        assert not parsed.bozo, parsed.get("bozo_exception")
        assert parsed.namespaces["podcast"] == "https://podcastindex.org/namespace/1.0"

    def test_chapters_and_transcript(self, parsed: Any, server: BackgroundServer) -> None:
        """The routine with chapters and captions has a chapters URL and a captions transcript URL, both answering, open to other sites."""
        morning = parsed.entries[-1]
        assert morning.podcast_chapters["type"] == "application/json+chapters"
        assert morning.podcast_chapters["url"] == f"{server.url}/chapters/morning.json"
        transcript = morning.podcast_transcript
        assert (transcript["url"], transcript["type"], transcript["rel"]) == (
            f"{server.url}/morning.vtt",
            "text/vtt",
            "captions",
        )
        chapters = fetch(server.url, "/chapters/morning.json")
        assert chapters.status == 200
        assert chapters.header("Content-Type") == "application/json+chapters; charset=utf-8"
        captions = fetch(server.url, "/morning.vtt")
        assert captions.body.startswith(b"WEBVTT")
        # web players on other sites may read both (the namespace asks for CORS on transcripts)
        assert (
            chapters.header("Access-Control-Allow-Origin")
            == captions.header("Access-Control-Allow-Origin")
            == "*"
        )

    def test_only_what_exists(self, parsed: Any) -> None:
        """A routine without chapters or captions gets neither tag."""
        evening = next(e for e in parsed.entries if e.title == "Evening")
        assert "podcast_chapters" not in evening and "podcast_transcript" not in evening

    def test_channel_guid(self, parsed: Any, server: BackgroundServer) -> None:
        """The channel's podcast:guid is the UUIDv5 of the feed URL without scheme, as the spec says."""
        feed_url = f"{server.url}/feed.xml"
        expected = uuid.uuid5(uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6"), feed_url.split("://")[1])
        assert parsed.feed.podcast_guid == str(expected)


@pytest.fixture(scope="module")
def weeks(tmp_path_factory: pytest.TempPathFactory, collection: Collection) -> Path:
    """A two-week programme of one short exercise, built with the fake voice: the served folder."""
    base = tmp_path_factory.mktemp("weeks")
    routines = []
    for reps in (4, 5):
        path = base / f"sways-{reps}.yaml"
        path.write_text(f"title: Sways {reps}\nexercises:\n  - id: knee-sways\n    reps: {reps}\n")
        routines.append(load_routine(collection, str(path)))
    programme = programme_of(
        "Two weeks",
        progression(routines[0], routines[1], 2),
        sessions_per_week=3,
        path=base / "two-weeks.yaml",
    )
    build_programme(programme, out_dir=base / "audio", voice=FakeVoice())
    return base / "audio"


class TestProgrammeWeeks:
    """A programme's weeks carry season, episode, chapters and transcript, served and published alike."""

    @staticmethod
    def _weeks(feed: Any) -> list[Any]:
        return [e for e in feed.entries if "itunes_episode" in e]

    def test_served(self, weeks: Path) -> None:
        """feedparser reads each week's season, episode, chapters URL and transcript URL; both URLs answer."""
        with start_background(weeks) as running:
            feed = feedparser.parse(fetch(running.url, "/feed.xml").body)
            found = self._weeks(feed)
            assert not feed.bozo and len(found) == 2
            assert [(e.itunes_season, e.itunes_episode) for e in found] == [("1", "1"), ("1", "2")]
            for n, entry in enumerate(found, 1):
                chapters, transcript = entry.podcast_chapters["url"], entry.podcast_transcript["url"]
                assert chapters == f"{running.url}/chapters/two-weeks-week-0{n}.json"
                assert transcript == f"{running.url}/two-weeks/week-0{n}.vtt"
                document = json.loads(fetch(running.url, urlsplit(chapters).path).body)
                _check_chapters(document)
                assert document["fileName"] == f"week-0{n}.mp3"
                assert fetch(running.url, urlsplit(transcript).path).body.startswith(b"WEBVTT")

    def test_published(self, weeks: Path, tmp_path: Path) -> None:
        """Published, the weeks keep season and episode, and their tracks, captions, covers and chapters are in the site."""
        site = tmp_path / "site"
        assert main(["publish", str(weeks), "--base-url", "https://example.org/s", "-o", str(site)]) == 0
        found = self._weeks(feedparser.parse((site / "feed.xml").read_bytes()))
        assert [(e.itunes_season, e.itunes_episode) for e in found] == [("1", "1"), ("1", "2")]
        for n in (1, 2):
            for name in (f"two-weeks/week-0{n}.mp3", f"two-weeks/week-0{n}.vtt", f"two-weeks/week-0{n}.png"):
                assert (site / name).is_file(), name
            _check_chapters(json.loads((site / "chapters" / f"two-weeks-week-0{n}.json").read_text()))
        assert found[0].podcast_chapters["url"] == "https://example.org/s/chapters/two-weeks-week-01.json"


class TestChaptersJson:
    """The chapters file follows the JSON chapters 1.2 specification."""

    def test_schema(self, server: BackgroundServer) -> None:
        """The served chapters validate against the JSON chapters schema, with the manifest's times in seconds."""
        document = json.loads(fetch(server.url, "/chapters/morning.json").body)
        _check_chapters(document)
        assert document["version"] == "1.2.0"
        assert [(c["title"], c["startTime"], c["endTime"]) for c in document["chapters"]] == [
            (c["title"], c["start_ms"] / 1000, c["end_ms"] / 1000) for c in MORNING_CHAPTERS
        ]

    def test_schema_refuses_what_the_spec_refuses(self) -> None:
        """The schema is not a yes-machine: a missing version or a start time as text fails it."""
        with pytest.raises(jsonschema.ValidationError):
            _check_chapters({"chapters": []})
        with pytest.raises(jsonschema.ValidationError):
            _check_chapters({"version": "1.2.0", "chapters": [{"startTime": "0:00"}]})

    def test_same_times_as_id3(self, built: Path) -> None:
        """For a built track, the JSON chapters have the ID3 CHAP frames' titles and times, to the millisecond."""
        with start_background(built) as running:
            document = json.loads(fetch(running.url, "/chapters/pair.json").body)
            feed = feedparser.parse(fetch(running.url, "/feed.xml").body)
        _check_chapters(document)
        tag = ID3(built / "pair.mp3")
        id3 = sorted(
            (c.start_time, c.end_time, str(c.sub_frames["TIT2"].text[0])) for c in tag.getall("CHAP")
        )
        ours = [
            (round(c["startTime"] * 1000), round(c["endTime"] * 1000), c["title"])
            for c in document["chapters"]
        ]
        assert len(ours) == 4 and ours == id3
        assert feed.entries[0].podcast_transcript["url"].endswith("/pair.vtt")

    def test_unknown_chapters_not_found(self, server: BackgroundServer) -> None:
        """Only routines with chapters have a chapters file; other names are 404."""
        assert fetch(server.url, "/chapters/evening.json").status == 404
        assert fetch(server.url, "/chapters/nothing.json").status == 404


class TestGuid:
    """podcast:guid is computed as the namespace's guid page computes it."""

    @pytest.mark.parametrize(
        ("feed_url", "guid"),
        [
            # the two examples given in Podcastindex-org/podcast-namespace docs/tags/guid.md
            ("https://mp3s.nashownotes.com/pc20rss.xml", "917393e3-1b1e-5cef-ace4-edaa54e1f810"),
            ("https://podnews.net/rss/", "9b024349-ccf0-5f69-a609-6b82873eab3c"),
            ("http://podnews.net/rss", "9b024349-ccf0-5f69-a609-6b82873eab3c"),
        ],
    )
    def test_spec_examples(self, feed_url: str, guid: str) -> None:
        """The spec's examples come out right, whatever the scheme or trailing slash."""
        assert podcast_guid(feed_url) == guid


class TestSubscribe:
    """The page offers one-tap subscribing where it can work, and says where it cannot."""

    def test_links(self) -> None:
        """AntennaPod gets its deep link with the feed URL as a parameter; Apple gets podcast://host/path."""
        links = dict(subscribe_links("http://192.168.1.20:8000/feed.xml"))
        antenna = urlsplit(links["AntennaPod"])
        assert (antenna.scheme, antenna.netloc, antenna.path) == (
            "https",
            "antennapod.org",
            "/deeplink/subscribe",
        )
        assert parse_qs(antenna.query)["url"] == ["http://192.168.1.20:8000/feed.xml"]
        assert links["Apple Podcasts"] == "podcast://192.168.1.20:8000/feed.xml"

    def test_page(self, server: BackgroundServer) -> None:
        """The served page links both apps to this server's feed and names the apps that need the published site."""
        page = fetch(server.url, "/").body.decode()
        host = server.url.split("://")[1]
        assert f'href="podcast://{host}/feed.xml"' in page
        assert "antennapod.org/deeplink/subscribe?url=http%3A%2F%2F" in page
        assert "Pocket Casts, Overcast and Castro fetch feeds through their own servers" in page
        assert "stretchcast publish" in page


class TestIdleConnections:
    """A client that connects and says nothing does not keep a thread for ever."""

    def test_idle_socket_closed(self, library: Library) -> None:
        """With a 0.3 s idle timeout, a socket that sends nothing is closed by the server (reads end)."""
        with start_background(library.root, idle_timeout=0.3) as running:
            host, port = urlsplit(running.url).hostname, urlsplit(running.url).port
            with socket.create_connection((host or "127.0.0.1", port or 80), timeout=10) as idle:
                assert idle.recv(1) == b""  # end of stream: the server hung up; a timeout here would raise
