"""``stretchcast serve``: correct HTTP for media, nothing outside the folder, the page and the feed."""

from __future__ import annotations

import email.utils
import json
import logging
import socket
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stretchcast.cli.main import main
from stretchcast.content import Collection, load_routine
from stretchcast.errors import UsageError
from stretchcast.pipeline import BuildOptions, build
from stretchcast.serve import server as serve
from stretchcast.serve.http import (
    ByteRange,
    RangeNotSatisfiableError,
    Validators,
    if_range_allows,
    not_modified,
    resolve_file,
    select_range,
    url_segments,
)
from stretchcast.serve.library import scan
from stretchcast.serve.server import BackgroundServer, start_background
from stretchcast.testing import FakeVoice

from ._library import MORNING_CHAPTERS, MORNING_TITLE, SECRET, Library, fetch, make_library
from .conftest import write

ITUNES = "{http://www.itunes.com/dtds/podcast-1.0.dtd}"
# what request paths are built from in the property test: every trick, and real names to aim at
PATH_PIECES = [
    "..",
    ".",
    "%2e",
    "%2E",
    "%2f",
    "%5c",
    "\\",
    "%00",
    "/",
    "%",
    "private",
    "link-out.mp3",
    "secret.json",
    "morning",
    "mp3",
    ".json",
    "art",
    "evening.mp3",
]


@pytest.fixture(scope="module")
def url(server: BackgroundServer) -> str:
    """The server's base URL, e.g. http://127.0.0.1:43817."""
    return server.url


@pytest.fixture(scope="module")
def page(url: str) -> str:
    """The page as served."""
    r = fetch(url, "/")
    assert r.status == 200
    return r.body.decode()


@pytest.fixture(scope="module")
def feed(url: str) -> ET.Element:
    """The feed as served, parsed as XML."""
    r = fetch(url, "/feed.xml")
    assert r.status == 200
    return ET.fromstring(r.body)


class _Page(HTMLParser):
    """The page's elements as (tag, attributes) and the text inside each routine's h2."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.titles: list[str] = []
        self._in_h2 = False
        self._in_card = False
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))
        if tag == "article":
            self._in_card = True
        if tag == "h2" and self._in_card:
            self._in_h2 = True
            self.titles.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "h2":
            self._in_h2 = False
        if tag == "article":
            self._in_card = False

    def handle_data(self, data: str) -> None:
        if self._in_h2:
            self.titles[-1] += data

    def all(self, tag: str, **want: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.elements if t == tag and all(a.get(k) == v for k, v in want.items())]


class TestRangeSelection:
    """select_range follows RFC 9110: one range is honoured, odd headers are ignored, none left is 416."""

    @pytest.mark.parametrize(
        ("header", "size", "expected"),
        [
            ("bytes=0-99", 1000, (0, 99)),
            ("bytes=100-", 1000, (100, 999)),  # open-ended
            ("bytes=-500", 1000, (500, 999)),  # suffix
            ("bytes=-5000", 1000, (0, 999)),  # a suffix longer than the file is the whole file
            ("bytes=900-5000", 1000, (900, 999)),  # the end is clipped to the file
            ("bytes=999-999", 1000, (999, 999)),
            ("BYTES = 0-0", 1000, (0, 0)),  # the unit is case-insensitive
            ("bytes=0-0,", 1000, (0, 0)),  # empty list elements are allowed
        ],
    )
    def test_one_range(self, header: str, size: int, expected: tuple[int, int]) -> None:
        """One satisfiable range gives exactly those bytes."""
        assert select_range(header, size) == ByteRange(*expected, size)

    @pytest.mark.parametrize(
        "header",
        [
            "bytes=5-2",  # last before first: invalid
            "bytes=abc",
            "bytes=1-2-3",
            "bytes=",
            "items=0-10",  # a unit we do not know
            "bytes 0-10",
            "bytes=٣-٤",  # digits other than ASCII
            "bytes=0-1,2-3",  # several ranges: the whole file (see serve's docstring)
            "bytes=0-1,5000-",  # one satisfiable among several: still the whole file
        ],
    )
    def test_ignored(self, header: str) -> None:
        """A malformed header, an unknown unit or several ranges mean the whole file (None)."""
        assert select_range(header, 1000) is None

    @pytest.mark.parametrize(
        ("header", "size"),
        [
            ("bytes=1000-", 1000),
            ("bytes=5000-6000", 1000),
            ("bytes=-0", 1000),
            ("bytes=0-", 0),
            ("bytes=2000-,3000-", 1000),
        ],
    )
    def test_unsatisfiable(self, header: str, size: int) -> None:
        """Ranges that all start at or past the end raise RangeNotSatisfiableError (416)."""
        with pytest.raises(RangeNotSatisfiableError):
            select_range(header, size)

    @given(
        size=st.integers(min_value=1, max_value=5000),
        first=st.integers(min_value=0, max_value=6000),
        length=st.one_of(st.none(), st.integers(min_value=0, max_value=6000)),
    )
    def test_matches_slicing(self, size: int, first: int, length: int | None) -> None:
        """Any int-range selects the same bytes as Python's slice of the file, or is 416 past the end."""
        data = bytes(i % 251 for i in range(size))
        last = None if length is None else first + length
        header = f"bytes={first}-{'' if last is None else last}"
        if first >= size:
            with pytest.raises(RangeNotSatisfiableError):
                select_range(header, size)
            return
        chosen = select_range(header, size)
        assert chosen is not None
        expected = data[first : None if last is None else last + 1]
        assert data[chosen.start : chosen.end + 1] == expected
        assert chosen.length == len(expected)
        assert chosen.content_range == f"bytes {first}-{first + len(expected) - 1}/{size}"

    @given(size=st.integers(min_value=1, max_value=5000), suffix=st.integers(min_value=1, max_value=6000))
    def test_suffix_matches_slicing(self, size: int, suffix: int) -> None:
        """A suffix range selects the file's last bytes, as data[-n:] does."""
        data = bytes(i % 251 for i in range(size))
        chosen = select_range(f"bytes=-{suffix}", size)
        assert chosen is not None
        assert data[chosen.start : chosen.end + 1] == data[-suffix:]


class TestValidators:
    """Conditional headers are judged as RFC 9110 says."""

    v = Validators('"abc-1"', 1_700_000_000)
    date = email.utils.formatdate(1_700_000_000, usegmt=True)
    later = email.utils.formatdate(1_700_000_100, usegmt=True)
    earlier = email.utils.formatdate(1_699_999_000, usegmt=True)

    @pytest.mark.parametrize(
        ("inm", "ims", "expected"),
        [
            ('"abc-1"', None, True),
            ('W/"abc-1"', None, True),  # If-None-Match compares weakly
            ('"x", "abc-1"', None, True),
            ("*", None, True),
            ('"other"', None, False),
            ('"other"', date, False),  # If-None-Match wins over If-Modified-Since
            (None, date, True),
            (None, later, True),
            (None, earlier, False),
            (None, "not a date", False),
            (None, None, False),
        ],
    )
    def test_not_modified(self, inm: str | None, ims: str | None, expected: bool) -> None:
        """304 exactly when the client's copy is current."""
        assert not_modified(inm, ims, self.v) is expected

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ('"abc-1"', True),
            ('"abc-2"', False),
            ('W/"abc-1"', False),
            (date, True),
            (earlier, False),
            ("junk", False),
        ],
    )
    def test_if_range(self, value: str, expected: bool) -> None:
        """If-Range needs a strong tag match or the exact Last-Modified date."""
        assert if_range_allows(value, self.v) is expected


class TestRangeRequests:
    """Range requests over HTTP: 206 with the right bytes and Content-Range, 416 past the end."""

    def test_open_ended(self, url: str, library: Library) -> None:
        """bytes=100- answers 206 with everything from byte 100."""
        data = (library.root / "morning.mp3").read_bytes()
        r = fetch(url, "/morning.mp3", headers={"Range": "bytes=100-"})
        assert r.status == 206
        assert r.body == data[100:]
        assert r.header("Content-Range") == f"bytes 100-{len(data) - 1}/{len(data)}"
        assert r.header("Content-Length") == str(len(data) - 100)

    def test_suffix(self, url: str, library: Library) -> None:
        """bytes=-500 answers 206 with the last 500 bytes."""
        data = (library.root / "morning.mp3").read_bytes()
        r = fetch(url, "/morning.mp3", headers={"Range": "bytes=-500"})
        assert r.status == 206
        assert r.body == data[-500:]
        assert r.header("Content-Range") == f"bytes {len(data) - 500}-{len(data) - 1}/{len(data)}"

    def test_first_bytes(self, url: str, library: Library) -> None:
        """bytes=0-1, what Safari sends first, answers exactly two bytes."""
        data = (library.root / "morning.mp3").read_bytes()
        r = fetch(url, "/morning.mp3", headers={"Range": "bytes=0-1"})
        assert (r.status, r.body, r.header("Content-Range")) == (206, data[:2], f"bytes 0-1/{len(data)}")

    def test_out_of_range(self, url: str, library: Library) -> None:
        """A range past the end answers 416 with Content-Range: bytes */size."""
        size = (library.root / "morning.mp3").stat().st_size
        r = fetch(url, "/morning.mp3", headers={"Range": f"bytes={size}-"})
        assert r.status == 416
        assert r.header("Content-Range") == f"bytes */{size}"

    def test_multiple_ranges(self, url: str, library: Library) -> None:
        """Several ranges are answered with the whole file, 200."""
        data = (library.root / "morning.mp3").read_bytes()
        r = fetch(url, "/morning.mp3", headers={"Range": "bytes=0-10,20-30"})
        assert (r.status, r.body) == (200, data)

    def test_malformed_range(self, url: str, library: Library) -> None:
        """A Range header that does not parse is ignored: 200 with the whole file."""
        data = (library.root / "morning.mp3").read_bytes()
        r = fetch(url, "/morning.mp3", headers={"Range": "bytes=oops"})
        assert (r.status, r.body) == (200, data)

    def test_if_range(self, url: str, library: Library) -> None:
        """If-Range with the current ETag honours the range; with an old one, the whole file comes."""
        data = (library.root / "morning.mp3").read_bytes()
        etag = fetch(url, "/morning.mp3", "HEAD").header("ETag")
        assert etag is not None
        fresh = fetch(url, "/morning.mp3", headers={"Range": "bytes=0-9", "If-Range": etag})
        stale = fetch(url, "/morning.mp3", headers={"Range": "bytes=0-9", "If-Range": '"old"'})
        assert (fresh.status, fresh.body) == (206, data[:10])
        assert (stale.status, stale.body) == (200, data)

    def test_accept_ranges(self, url: str) -> None:
        """Every file says it accepts byte ranges."""
        assert fetch(url, "/morning.mp3", "HEAD").header("Accept-Ranges") == "bytes"

    def test_keep_alive(self, url: str, library: Library) -> None:
        """Several range requests share one connection, as a media player makes them."""
        import http.client

        data = (library.root / "morning.mp3").read_bytes()
        parts = urlsplit(url)
        conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
        try:
            for start in (0, 1000, 5000):
                conn.request("GET", "/morning.mp3", headers={"Range": f"bytes={start}-{start + 99}"})
                response = conn.getresponse()
                assert response.status == 206 and response.read() == data[start : start + 100]
        finally:
            conn.close()


class TestConditionalRequests:
    """ETag and Last-Modified let a phone revalidate instead of downloading again."""

    def test_validators_present(self, url: str, library: Library) -> None:
        """Files carry a strong ETag and Last-Modified equal to the file's mtime."""
        r = fetch(url, "/morning.mp3", "HEAD")
        etag = r.header("ETag")
        assert etag is not None and etag.startswith('"') and etag.endswith('"')
        modified = r.header("Last-Modified")
        assert modified is not None
        assert email.utils.parsedate_to_datetime(modified).timestamp() == int(
            (library.root / "morning.mp3").stat().st_mtime
        )

    def test_if_none_match(self, url: str) -> None:
        """The same ETag back gets 304 with no body."""
        etag = fetch(url, "/morning.mp3", "HEAD").header("ETag") or ""
        r = fetch(url, "/morning.mp3", headers={"If-None-Match": etag})
        assert (r.status, r.body) == (304, b"")
        assert r.header("ETag") == etag

    def test_if_modified_since(self, url: str) -> None:
        """Last-Modified back gets 304; an older date gets the file."""
        modified = fetch(url, "/morning.mp3", "HEAD").header("Last-Modified") or ""
        assert fetch(url, "/morning.mp3", headers={"If-Modified-Since": modified}).status == 304
        old = email.utils.formatdate(0, usegmt=True)
        assert fetch(url, "/morning.mp3", headers={"If-Modified-Since": old}).status == 200

    def test_page_and_feed_revalidate(self, url: str) -> None:
        """The page and the feed have ETags too, and a 304 when unchanged."""
        for path in ("/", "/feed.xml"):
            etag = fetch(url, path).header("ETag") or ""
            assert fetch(url, path, headers={"If-None-Match": etag}).status == 304

    def test_rebuild_changes_etag(self, tmp_path: Path) -> None:
        """A file replaced by a rebuild gets a new ETag, so old copies are not reused."""
        lib = make_library(tmp_path)
        with start_background(lib.root) as running:
            before = fetch(running.url, "/evening.mp3", "HEAD").header("ETag")
            target = lib.root / "evening.mp3"
            target.write_bytes(target.read_bytes() + b"\0")
            after = fetch(running.url, "/evening.mp3", "HEAD").header("ETag")
        assert before != after


class TestMethods:
    """Only GET and HEAD: the server is read-only."""

    def test_head(self, url: str) -> None:
        """HEAD gives GET's status and headers without a body."""
        get = fetch(url, "/morning.mp3")
        head = fetch(url, "/morning.mp3", "HEAD")
        assert head.status == get.status == 200
        assert head.body == b""
        for name in ("Content-Length", "Content-Type", "ETag", "Last-Modified", "Accept-Ranges"):
            assert head.header(name) == get.header(name)

    @pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"])
    def test_refused(self, url: str, library: Library, method: str) -> None:
        """Other methods get 405 with Allow: GET, HEAD, and change nothing."""
        before = sorted(p.name for p in library.root.iterdir())
        r = fetch(url, "/morning.mp3", method)
        assert r.status == 405
        assert r.header("Allow") == "GET, HEAD"
        assert sorted(p.name for p in library.root.iterdir()) == before

    def test_unknown_method(self, url: str) -> None:
        """A method HTTP does not define gets 501 Not Implemented."""
        assert fetch(url, "/", "BREW").status == 501


class TestMediaTypes:
    """Each kind of file is sent with the type a phone expects."""

    @pytest.mark.parametrize(
        ("path", "content_type"),
        [
            ("/morning.mp3", "audio/mpeg"),
            ("/morning/01-knee-sways.mp3", "audio/mpeg"),
            ("/morning.vtt", "text/vtt; charset=utf-8"),
            ("/morning.m3u8", "audio/mpegurl"),
            ("/morning.json", "application/json"),
            ("/art/morning.png", "image/png"),
            ("/feed.xml", "application/rss+xml; charset=utf-8"),
            ("/", "text/html; charset=utf-8"),
            ("/static/app.css", "text/css; charset=utf-8"),
            ("/static/app.js", "text/javascript; charset=utf-8"),
            ("/sw.js", "text/javascript; charset=utf-8"),
        ],
    )
    def test_type(self, url: str, path: str, content_type: str) -> None:
        """The Content-Type fits the file, with nosniff so browsers believe it."""
        r = fetch(url, path)
        assert r.status == 200
        assert r.header("Content-Type") == content_type
        assert r.header("X-Content-Type-Options") == "nosniff"


class TestPathSafety:
    """Nothing outside the folder, and nothing hidden in it, is ever served."""

    @pytest.mark.parametrize(
        "path",
        [
            "/../private/secret.txt",
            "/%2e%2e/private/secret.txt",
            "/%2E%2E/%2E%2E/etc/passwd",
            "/%2e%2e%2fprivate%2fsecret.txt",
            "/..%2fprivate%2fsecret.json",
            "/morning%2f..%2f..%2fprivate%2fsecret.json",
            "/%252e%252e/private/secret.json",  # double encoding stays a (missing) name
            "/morning/../../private/secret.json",
            "/./morning.mp3",
            "/morning/../morning.mp3",  # even a '..' that stays inside is refused
            "//etc/passwd",
            "/etc/passwd",
            "/%2Fetc%2Fpasswd",
            "/C:/Windows/win.ini",
            "/..\\private\\secret.json",
            "/%5c..%5cprivate%5csecret.json",
            "/morning.mp3%00.json",
            "/%00",
            "/%c0%ae%c0%ae/private/secret.json",  # overlong UTF-8 for '.'
            "/link-out.mp3",  # symlink to a file outside
            "/link-out.json",
            "/private/secret.json",  # symlink to a folder outside
            "/private/outside.mp3",
            "/.hidden.mp3",
            "/.morning.mp3.x1y2z3.part",
            "/notes.txt",
            "/morning",  # a folder: no listings
            "/art/evening.png",  # no cover in that MP3
            "/art/../private/secret.json",
            "http://127.0.0.1/../private/secret.json",
        ],
    )
    def test_refused(self, url: str, path: str) -> None:
        """The answer is 404 and carries nothing from outside."""
        r = fetch(url, path)
        assert r.status == 404
        assert SECRET.encode() not in r.body

    @pytest.mark.parametrize(
        "request_line",
        [
            b"GET /morning.mp3\x00 HTTP/1.1",
            b"GET /\x00/../private/secret.json HTTP/1.1",
            b"GET /..\\..\\private HTTP/1.1",
        ],
    )
    def test_raw_bytes_refused(self, url: str, request_line: bytes) -> None:
        """A literal NUL or backslash in the request line never reaches a file."""
        parts = urlsplit(url)
        with socket.create_connection((parts.hostname or "", parts.port or 0), timeout=10) as sock:
            sock.sendall(request_line + b"\r\nHost: x\r\nConnection: close\r\n\r\n")
            reply = b""
            while chunk := sock.recv(65536):
                reply += chunk
        status = int(reply.split(b" ", 2)[1])
        assert status in {400, 404}
        assert SECRET.encode() not in reply

    def test_symlink_inside_is_served(self, url: str, library: Library) -> None:
        """A symlink that stays inside the folder is followed."""
        r = fetch(url, "/link-in.mp3")
        assert (r.status, r.body) == (200, (library.root / "evening.mp3").read_bytes())

    def test_encoded_names_are_served(self, url: str, library: Library) -> None:
        """Percent-encoding of ordinary characters still reaches the file."""
        r = fetch(url, "/m%6Frning.vtt")
        assert (r.status, r.body) == (200, (library.root / "morning.vtt").read_bytes())

    @settings(max_examples=300)
    @given(target=st.lists(st.sampled_from(PATH_PIECES), max_size=8))
    def test_never_outside(self, library: Library, target: list[str]) -> None:
        """Whatever a request path is made of, it names nothing or a visible file inside the folder."""
        root = library.root.resolve()
        segments = url_segments("/" + "".join(target))
        real = None if segments is None else resolve_file(root, segments)
        if real is not None:
            inside = real.relative_to(root)
            assert real.is_file() and not any(part.startswith(".") for part in inside.parts)
            assert SECRET not in real.read_text(errors="replace")

    @pytest.mark.parametrize(
        ("target", "segments"),
        [
            ("/", ()),
            ("/a.mp3?x=1", ("a.mp3",)),
            ("/a/b%20c.mp3", ("a", "b c.mp3")),
            ("/a%2fb", None),
            ("/a//b", None),
        ],
    )
    def test_url_segments(self, target: str, segments: tuple[str, ...] | None) -> None:
        """Request targets split into decoded segments; a decoded slash or empty segment is refused."""
        assert url_segments(target) == segments


class TestCatalog:
    """The folder is read as it is: every routine shown, extras where present, bad files skipped."""

    def test_what_is_found(self, library: Library) -> None:
        """Three routines, shortest first; hidden, broken and outside files are not among them."""
        routines = scan(library.root)
        assert [r.audio for r in routines] == ["tagged.mp3", "evening.mp3", "link-in.mp3", "morning.mp3"]

    def test_extras(self, library: Library) -> None:
        """Captions, playlist, split tracks and cover are found where they exist, and only there."""
        by_file = {r.audio: r for r in scan(library.root)}
        morning, evening = by_file["morning.mp3"], by_file["evening.mp3"]
        assert (morning.captions, morning.playlist, morning.cover_mime) == (
            "morning.vtt",
            "morning.m3u8",
            "image/png",
        )
        assert [(t.title, t.file) for t in morning.split] == [
            ("Knee sways", "morning/01-knee-sways.mp3"),
            ("Tall cobra", "morning/02-tall-cobra.mp3"),
        ]
        assert (evening.captions, evening.playlist, evening.split, evening.cover_mime) == (
            None,
            None,
            (),
            None,
        )

    def test_from_tags(self, library: Library) -> None:
        """An MP3 without a manifest is shown with its ID3 title, chapters and decoded length."""
        tagged = next(r for r in scan(library.root) if r.audio == "tagged.mp3")
        assert tagged.title == "From tags"
        assert [(c.title, c.start_ms) for c in tagged.chapters] == [("Part one", 0), ("Part two", 1000)]
        assert abs(tagged.duration_ms - 2000) < 60

    def test_bad_manifest_reported_once(self, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
        """A JSON file that does not parse is skipped and reported once, not at every page load."""
        lib = make_library(tmp_path)
        with caplog.at_level(logging.WARNING, logger="stretchcast.serve.library"):
            first, second = scan(lib.root), scan(lib.root)
        stems = {r.stem for r in first}
        assert {"evening", "tagged"} <= stems and "broken" not in stems  # the rest still listed
        assert second == first  # and the second scan, which reports nothing, lists the same
        assert [r.getMessage() for r in caplog.records if "broken.json" in r.getMessage()] == [
            f"skipping {lib.root.resolve() / 'broken.json'}: not a manifest: the file is not JSON "
            "(Expecting property name enclosed in double quotes: line 1 column 3 (char 2))"
        ]

    def test_manifest_cannot_point_outside(self, tmp_path: Path) -> None:
        """Captions or playlist names that leave the folder are ignored."""
        lib = make_library(tmp_path)
        data = json.loads((lib.root / "evening.json").read_text())
        data.update(captions="../private/secret.txt", playlist="/etc/passwd")
        data["audio"]["file"] = "../private/outside.mp3"
        (lib.root / "evening.json").write_text(json.dumps(data))
        evening = next(r for r in scan(lib.root) if r.stem == "evening")
        assert (evening.audio, evening.captions, evening.playlist) == ("evening.mp3", None, None)

    def test_malformed_fields(self, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
        """A manifest with a wrong type anywhere is skipped with a warning naming the key; its MP3 is
        shown from what the MP3 says."""
        lib = make_library(tmp_path)
        data = json.loads((lib.root / "evening.json").read_text())
        data.update(title=42, chapters=[{"title": "ok", "start_ms": 0, "end_ms": 5, "exercise": None}])
        (lib.root / "evening.json").write_text(json.dumps(data))
        with caplog.at_level(logging.WARNING, logger="stretchcast.serve.library"):
            evening = next(r for r in scan(lib.root) if r.stem == "evening")
        assert evening.title == "evening"
        assert abs(evening.duration_ms - 3000) < 60
        assert evening.chapters == ()
        assert [r.getMessage() for r in caplog.records if "evening.json" in r.getMessage()] == [
            f"skipping {lib.root.resolve() / 'evening.json'}: not a valid manifest: "
            "title should be a string, not 42"
        ]

    def test_missing_folder_contents(self, tmp_path: Path) -> None:
        """An empty folder has no routines, and the page says how to make one."""
        empty = tmp_path / "empty"
        empty.mkdir()
        assert scan(empty) == ()
        with start_background(empty) as running:
            page = fetch(running.url, "/").body.decode()
            feed = ET.fromstring(fetch(running.url, "/feed.xml").body)
        assert "stretchcast build standard" in page
        assert feed.findall("channel/item") == []


class TestPage:
    """The phone page: a card per routine with player, chapters, captions and downloads."""

    def test_cards(self, page: str) -> None:
        """One card per routine, titles shown as written (escaped in the HTML)."""
        parsed = _Page(page)
        assert parsed.titles == ["From tags", "Evening", "link-in", MORNING_TITLE]
        assert "<b>stretch</b>" not in page and "Tall cobra <b>" not in page
        assert "Morning &lt;b&gt;stretch&lt;/b&gt; &amp; &quot;breathe&quot; &#x27;now&#x27;" in page

    def test_player(self, page: str) -> None:
        """Each card has an audio player for its MP3, with captions where a .vtt exists."""
        parsed = _Page(page)
        assert [a["src"] for a in parsed.all("audio")] == [
            "tagged.mp3",
            "evening.mp3",
            "link-in.mp3",
            "morning.mp3",
        ]
        assert parsed.all("track") == [
            {"kind": "captions", "src": "morning.vtt", "srclang": "en", "label": "Captions", "default": None}
        ]

    def test_times_as_players_show_them(self, tmp_path: Path) -> None:
        """Lengths and chapter starts are truncated to the second, as the player beside them shows them."""
        lib = make_library(tmp_path)
        data = json.loads((lib.root / "morning.json").read_text())
        data["duration_ms"] = 558_614
        data["chapters"][1]["start_ms"] = 2_700  # words.clock would round it to 0:03
        (lib.root / "morning.json").write_text(json.dumps(data))
        with start_background(lib.root) as running:
            page = fetch(running.url, "/").body.decode()
        assert "9:18 · 4 chapters" in page
        assert '<span class="at">0:02</span><span>Knee sways</span>' in page

    def test_chapters(self, page: str) -> None:
        """Chapter buttons carry their start in seconds, in order."""
        starts = [a["data-start"] for a in _Page(page).all("button") if a.get("data-start") is not None]
        assert starts == ["0.000", "1.000"] + [f"{c['start_ms'] / 1000:.3f}" for c in MORNING_CHAPTERS]

    def test_downloads(self, page: str) -> None:
        """Download buttons for every MP3, the playlist and each split track."""
        links = [a["href"] for a in _Page(page).all("a") if "download" in a]
        assert links == [
            "tagged.mp3",
            "evening.mp3",
            "link-in.mp3",
            "morning.mp3",
            "morning.m3u8",
            "morning/01-knee-sways.mp3",
            "morning/02-tall-cobra.mp3",
        ]

    def test_every_link_resolves(self, page: str, url: str) -> None:
        """Every src and href on the page is relative (no scheme, no leading slash) and answers 200."""
        parsed = _Page(page)
        links = {a.get("src") or a.get("href") for _, a in parsed.elements}
        outside = {t for t in links if t is not None and ":" in t}
        targets = {t for t in links if t is not None and ":" not in t}
        assert outside == {a.get("href") for a in parsed.all("a") if "subscribe" in (a.get("class") or "")}
        assert targets and not any(t.startswith("/") for t in targets)
        assert {t: fetch(url, "/" + t, "HEAD").status for t in targets} == dict.fromkeys(targets, 200)

    def test_cover(self, page: str, url: str, library: Library) -> None:
        """The cover comes out of the MP3's APIC frame; an MP3 without one gets the CSS placeholder."""
        parsed = _Page(page)
        assert [a["src"] for a in parsed.all("img")] == ["art/morning.png"]
        assert fetch(url, "/art/morning.png").body == library.cover
        assert len([d for d in parsed.all("div") if "placeholder" in (d.get("class") or "")]) == 3

    def test_nothing_hidden_listed(self, page: str) -> None:
        """Hidden, partial, outside and broken files never appear on the page."""
        for name in (
            ".hidden",
            ".part",
            "notes.txt",
            "broken",
            "secret",
            "outside",
            "link-out",
            "03-missing",
        ):
            assert name not in page

    def test_phone_ready_head(self, page: str, url: str) -> None:
        """The page is set up for phones and dark mode, loads nothing from elsewhere, and says so by CSP."""
        assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
        assert '<meta name="color-scheme" content="light dark">' in page
        loaded = [
            a.get("src") or a.get("href")
            for t, a in _Page(page).elements
            if t in {"img", "audio", "track", "script", "link"}
        ]
        assert loaded and not any(":" in (link or "") for link in loaded)  # nothing from another site
        csp = fetch(url, "/").header("Content-Security-Policy") or ""
        assert "default-src 'self'" in csp and "script-src 'self'" in csp
        assert "prefers-color-scheme: dark" in fetch(url, "/static/app.css").body.decode()


class TestFeed:
    """The podcast feed: valid RSS 2.0 with iTunes tags, whose every enclosure downloads whole."""

    def test_rss(self, feed: ET.Element) -> None:
        """An rss 2.0 root with one channel and an item per routine."""
        assert feed.tag == "rss" and feed.get("version") == "2.0"
        channel = feed.find("channel")
        assert channel is not None
        assert channel.findtext("title") == "stretchcast: Test stretches"
        assert channel.find(f"{ITUNES}category") is not None
        assert channel.findtext(f"{ITUNES}explicit") == "false"
        assert len(channel.findall("item")) == 4

    def test_items(self, feed: ET.Element, library: Library) -> None:
        """Each item has a title (escaped text survives), a unique guid and its duration in seconds."""
        items = feed.findall("channel/item")
        assert [i.findtext("title") for i in items] == ["From tags", "Evening", "link-in", MORNING_TITLE]
        guids = [i.findtext("guid") for i in items]
        assert len(set(guids)) == len(guids)
        assert items[-1].findtext(f"{ITUNES}duration") == "20"
        image = items[-1].find(f"{ITUNES}image")
        assert image is not None and image.get("href", "").endswith("/art/morning.png")

    def test_enclosures_resolve(self, feed: ET.Element, url: str, library: Library) -> None:
        """Every enclosure URL answers 200 with exactly ``length`` bytes of audio/mpeg: the file itself."""
        for item in feed.findall("channel/item"):
            enclosure = item.find("enclosure")
            assert enclosure is not None
            assert enclosure.get("type") == "audio/mpeg"
            link = urlsplit(enclosure.get("url", ""))
            assert f"{link.scheme}://{link.netloc}" == url
            r = fetch(url, link.path)
            assert r.status == 200 and r.header("Content-Type") == "audio/mpeg"
            size = (library.root / unquote(link.path.lstrip("/"))).stat().st_size
            assert enclosure.get("length") == str(size) == str(len(r.body))

    def test_host_header(self, url: str) -> None:
        """URLs are built from the Host the client used, so a phone gets addresses it can reach."""
        feed = ET.fromstring(fetch(url, "/feed.xml", headers={"Host": "laptop.local:8000"}).body)
        urls = [e.get("url", "") for e in feed.iter("enclosure")]
        assert urls and all(u.startswith("http://laptop.local:8000/") for u in urls)

    def test_bad_host_header(self, url: str) -> None:
        """A Host header that is not a host name is not echoed: the server's own address is used."""
        body = fetch(url, "/feed.xml", headers={"Host": 'evil"><script>'}).body
        assert b"<script>" not in body
        assert all(e.get("url", "").startswith(url) for e in ET.fromstring(body).iter("enclosure"))


class TestCommandLine:
    """stretchcast serve: where to look, a QR code with --lan, and plain errors."""

    def test_missing_folder(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        """A folder that does not exist is exit code 2 with what to do."""
        code = main(["serve", str(tmp_path / "nope")])
        err = capsys.readouterr().err
        assert code == 2
        assert "not found" in err and "stretchcast build standard" in err and "Traceback" not in err

    def test_port_in_use(self, capsys: pytest.CaptureFixture[str], library: Library) -> None:
        """A port already taken is exit code 2 with another port to try."""
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            code = main(["serve", str(library.root), "--port", str(port)])
        err = capsys.readouterr().err
        assert code == 2
        assert f"port {port} is already in use" in err and f"--port {port + 1}" in err

    def test_bad_port(self, capsys: pytest.CaptureFixture[str], library: Library) -> None:
        """A port number out of range is exit code 2."""
        assert main(["serve", str(library.root), "--port", "70000"]) == 2
        assert "not a port number" in capsys.readouterr().err

    def test_local(
        self, capsys: pytest.CaptureFixture[str], library: Library, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """By default it listens on 127.0.0.1 and prints the page and feed addresses; Ctrl-C stops it."""

        def interrupted(self: serve.StretchcastServer, poll_interval: float = 0.5) -> None:
            assert self.server_address[0] == "127.0.0.1"
            raise KeyboardInterrupt

        monkeypatch.setattr(serve.StretchcastServer, "serve_forever", interrupted)
        code = main(["serve", str(library.root), "--port", "0"])
        out = capsys.readouterr().out
        assert code == 0
        assert "Serving 4 routines" in out and "Page: http://127.0.0.1:" in out and "/feed.xml" in out
        assert "add --lan" in out and out.rstrip().endswith("Stopped.")

    def test_lan(
        self, capsys: pytest.CaptureFixture[str], library: Library, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """--lan listens on the LAN address and prints its URL and a QR code of it."""
        monkeypatch.setattr(serve, "lan_address", lambda: "127.0.0.1")  # this test's 'LAN'
        monkeypatch.setattr(serve.StretchcastServer, "serve_forever", _interrupt)
        assert main(["serve", str(library.root), "--port", "0", "--lan"]) == 0
        out = capsys.readouterr().out
        assert "scan the code or open http://127.0.0.1:" in out
        assert "▀" in out or "▄" in out

    def test_lan_without_network(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """With no network to reach, --lan says to join the phone's Wi-Fi."""
        monkeypatch.setattr(serve, "route_source", lambda destination: None)
        with pytest.raises(UsageError, match="no local network address"):
            serve.lan_address()

    def test_route_source(self) -> None:
        """The route to an address of this machine leaves from this machine (nothing is sent)."""
        assert serve.route_source("127.0.0.1") == "127.0.0.1"

    def test_qr_code_encodes_the_url(self) -> None:
        """The QR code drawn in the terminal is, module for module, the QR code of the URL."""
        import qrcode

        url = "http://192.168.1.20:8000/"
        drawn = [
            line.removeprefix("\x1b[30;107m").removesuffix("\x1b[0m")
            for line in serve.qr_text(url, colour=True).split("\n")
        ]
        rows: list[list[bool]] = []
        for line in drawn:
            rows.append([c in "█▀" for c in line])
            rows.append([c in "█▄" for c in line])
        code = qrcode.QRCode(border=2, error_correction=qrcode.constants.ERROR_CORRECT_L)
        code.add_data(url)
        code.make(fit=True)
        matrix = code.get_matrix()
        assert rows[: len(matrix)] == [list(map(bool, r)) for r in matrix]


def _interrupt(self: serve.StretchcastServer, poll_interval: float = 0.5) -> None:
    raise KeyboardInterrupt


class TestAccessLog:
    """Requests are logged at debug level, for stretchcast --debug serve."""

    def test_request_logged(self, url: str, caplog: pytest.LogCaptureFixture) -> None:
        """Each request is one debug line with the method, path and status."""
        with caplog.at_level(logging.DEBUG, logger="stretchcast.serve.server"):
            fetch(url, "/evening.json")
        lines = [r.getMessage() for r in caplog.records if r.name == "stretchcast.serve.server"]
        assert any('"GET /evening.json HTTP/1.1" 200' in line for line in lines)
        assert all(r.levelno == logging.DEBUG for r in caplog.records if r.name == "stretchcast.serve.server")


class TestBackground:
    """The notebook helper: a server in a thread, its URL, and a clean stop."""

    def test_start_and_stop(self, library: Library) -> None:
        """It answers at its URL until stopped, then frees the port."""
        running = start_background(library.root)
        try:
            assert fetch(running.url, "/").status == 200
            assert running.feed_url == f"{running.url}/feed.xml"
            assert running.url in running._repr_html_()
        finally:
            running.stop()
        with socket.socket() as again:
            again.bind(("127.0.0.1", running.server.server_address[1]))

    def test_missing_folder(self, tmp_path: Path) -> None:
        """A folder that does not exist is a UsageError, before any thread starts."""
        with pytest.raises(UsageError, match="not found"):
            start_background(tmp_path / "nope")


class TestServesWhatBuildWrites:
    """A folder written by ``build`` is served as it is: the contract between the two holds."""

    def test_built_routine(self, tmp_path: Path, collection: Collection) -> None:
        """A built routine gets a card with its manifest's title and chapters, and a feed item whose
        enclosure is the MP3, whole."""
        routine_file = write(
            tmp_path, "quick.yaml", "title: Quick <check>\nexercises:\n  - id: knee-sways\n    reps: 4\n"
        )
        out = tmp_path / "audio"
        result = build(
            load_routine(collection, str(routine_file)), voice=FakeVoice(), options=BuildOptions(out_dir=out)
        )
        manifest = json.loads(result.manifest.read_text())
        with start_background(out) as running:
            page = _Page(fetch(running.url, "/").body.decode())
            feed = ET.fromstring(fetch(running.url, "/feed.xml").body)
            enclosure = feed.find("channel/item/enclosure")
            assert enclosure is not None
            body = fetch(running.url, urlsplit(enclosure.get("url", "")).path).body
        assert page.titles == [manifest["title"]]
        starts = [a["data-start"] for a in page.all("button") if a.get("data-start") is not None]
        assert starts == [f"{c['start_ms'] / 1000:.3f}" for c in manifest["chapters"]]
        assert body == result.mp3.read_bytes()
        assert enclosure.get("length") == str(result.size_bytes)
        duration = feed.findtext(f"channel/item/{ITUNES}duration")
        assert duration == str(round(manifest["duration_ms"] / 1000))
