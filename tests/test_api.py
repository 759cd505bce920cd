"""``/api/sessions``: check-ins written with the key, every refusal, and the rest of serve still read-only."""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from stretchcast.log.store import Log
from stretchcast.serve import server as serve
from stretchcast.serve.api import MAX_BODY
from stretchcast.serve.server import BackgroundServer, start_background

from ._library import Library, Reply, fetch


@pytest.fixture
def log(tmp_path: Path) -> Log:
    """A new log."""
    return Log(tmp_path / "log.sqlite3")


@pytest.fixture
def running(library: Library, log: Log) -> Iterator[BackgroundServer]:
    """The fixture folder served with a session log."""
    with start_background(library.root, log=log) as server:
        yield server


def checkin(n: int = 1, **changes: Any) -> dict[str, Any]:
    """A check-in as the page sends it."""
    data: dict[str, Any] = {
        "id": f"0f1e2d3c4b5a6978{n:016x}",
        "at": "2026-12-01T18:30:05+01:00",
        "routine": "morning",
        "routine_hash": "0123456789abcdef",
        "programme": None,
        "week": None,
        "done": "full",
        "pain_before": 3,
        "pain_after": 2,
        "felt": "right",
        "warnings": [],
        "note": None,
    }
    data.update(changes)
    return data


def post(
    url: str,
    body: bytes | str | dict[str, Any],
    headers: dict[str, str] | None = None,
    *,
    key: str | None = None,
) -> Reply:
    """POST ``body`` (a dict is sent as JSON) to /api/sessions; the key, if given, as a Bearer token."""
    raw = (
        json.dumps(body).encode()
        if isinstance(body, dict)
        else body.encode()
        if isinstance(body, str)
        else body
    )
    sent = {"Content-Type": "application/json", **(headers or {})}
    if key is not None:
        sent["Authorization"] = f"Bearer {key}"
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        conn.request("POST", "/api/sessions", body=raw, headers=sent)
        response = conn.getresponse()
        return Reply(response.status, response.headers, response.read())
    finally:
        conn.close()


def error_of(reply: Reply) -> str:
    """The plain message of a refusal."""
    message: str = json.loads(reply.body)["error"]
    return message


def test_a_checkin_is_recorded_once(running: BackgroundServer, log: Log) -> None:
    """POST records the check-in (201); the same id again is 200 and records nothing more; GET lists it."""
    first = post(running.url, checkin(), key=log.key())
    assert first.status == 201 and json.loads(first.body) == {"id": checkin()["id"], "recorded": True}
    again = post(running.url, checkin(pain_after=7), key=log.key())
    assert again.status == 200 and json.loads(again.body)["recorded"] is False
    [stored] = log.sessions()
    assert stored.pain_after == 2 and stored.at.isoformat() == "2026-12-01T18:30:05+01:00"
    listed = fetch(running.url, "/api/sessions", headers={"Authorization": f"Bearer {log.key()}"})
    assert listed.status == 200 and listed.header("Cache-Control") == "no-store"
    assert [s["id"] for s in json.loads(listed.body)["sessions"]] == [checkin()["id"]]
    head = fetch(running.url, "/api/sessions", "HEAD", headers={"Authorization": f"Bearer {log.key()}"})
    assert head.status == 200 and head.body == b""


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer 00000000000000000000000000000000", "Basic dXNlcjpwYXNz", "Bearer", "bearer KEY"],
)
def test_no_key_or_a_wrong_one_is_401(running: BackgroundServer, log: Log, authorization: str | None) -> None:
    """Without the right key, neither POST nor GET gets in (401), and nothing is recorded."""
    headers = {"Authorization": authorization.replace("KEY", log.key())} if authorization else {}
    reply = post(running.url, checkin(), headers)
    assert reply.status == 401 and reply.header("WWW-Authenticate") == 'Bearer realm="stretchcast"'
    assert "key" in error_of(reply)
    assert fetch(running.url, "/api/sessions", headers=headers).status == 401
    assert log.count() == 0


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
def test_only_json_is_taken(running: BackgroundServer, log: Log, content_type: str) -> None:
    """A body that is not declared as JSON is refused with 415."""
    reply = post(running.url, json.dumps(checkin()), {"Content-Type": content_type}, key=log.key())
    assert reply.status == 415 and error_of(reply) == "Send the check-in as application/json."
    assert log.count() == 0


def test_a_large_body_is_refused_unread(running: BackgroundServer, log: Log) -> None:
    """A declared body over 16 KiB gets 413 at once, before a byte of it is sent, and the connection closes."""
    # the server answers and closes without waiting for the body, which is never sent
    answer = raw_headers(
        running.url,
        [
            "Content-Type: application/json",
            f"Authorization: Bearer {log.key()}",
            f"Content-Length: {MAX_BODY + 1}",
        ],
    )
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413")
    assert b"Connection: close" in head
    assert b"at most 16 KiB" in body
    assert log.count() == 0


def test_exactly_16_kib_is_allowed(running: BackgroundServer, log: Log) -> None:
    """A body of exactly 16 KiB (padded with JSON whitespace) is read and recorded."""
    body = json.dumps(checkin(note="")).encode()
    padded = body[:-1] + b" " * (MAX_BODY - len(body)) + b"}"
    assert len(padded) == MAX_BODY
    reply = post(running.url, padded, key=log.key())
    assert reply.status == 201


def raw_headers(url: str, lines: list[str]) -> bytes:
    """Send only a request's head (no body) and read the whole answer until the server closes."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port or 80), timeout=10) as sock:
        sock.sendall(
            (
                "\r\n".join(["POST /api/sessions HTTP/1.1", f"Host: {parts.netloc}", *lines]) + "\r\n\r\n"
            ).encode()
        )
        answer = b""
        while chunk := sock.recv(4096):
            answer += chunk
    return answer


@pytest.mark.parametrize("length", [None, "chunked", "-1", "many"])
def test_a_body_without_length_is_411(running: BackgroundServer, log: Log, length: str | None) -> None:
    """A body without a usable Content-Length (none, chunked, nonsense) is refused with 411, unread."""
    lines = ["Content-Type: application/json", f"Authorization: Bearer {log.key()}"]
    if length == "chunked":
        lines.append("Transfer-Encoding: chunked")
    elif length is not None:
        lines.append(f"Content-Length: {length}")
    answer = raw_headers(running.url, lines)
    assert answer.startswith(b"HTTP/1.1 411")
    assert log.count() == 0


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{not json", "The body is not JSON."),
        ("[1, 2]", "the body must be a JSON object."),
        (checkin(mood="fine"), "unknown field 'mood'."),
        (checkin(pain_after=11), "field 'pain_after': pain_after '11' is not a whole number from 0 to 10."),
        (checkin(pain_before=True), "field 'pain_before': 'pain_before' must be a whole number."),
        (checkin(pain_before="3"), "field 'pain_before': 'pain_before' must be a whole number."),
        (checkin(week="2", programme="six-weeks"), "field 'week': 'week' must be a whole number or null."),
        (checkin(done="most"), "field 'done': done 'most' is not one of full, partial."),
        (checkin(felt=None), "field 'felt': 'felt' must be a string."),
        (
            checkin(warnings=["cramp"]),
            "field 'warnings': 'warnings' holds 'cramp', not one of spreading-pain, numbness, weakness.",
        ),
        (checkin(warnings="numbness"), "field 'warnings': 'warnings' must be a list."),
        (
            checkin(at="2026-12-01T18:30:05"),
            "field 'at': '2026-12-01T18:30:05' has no time zone; add one, like 2026-12-01T18:30:00+00:00.",
        ),
        (checkin(id="x"), "field 'id': id 'x' is not 8 to 64 letters, digits, '-' or '_'."),
        ({k: v for k, v in checkin().items() if k != "felt"}, "field 'felt': 'felt' is missing."),
        (checkin(note="n" * 501), "field 'note': the note is 501 characters long."),
    ],
)
def test_the_schema_is_strict(
    running: BackgroundServer, log: Log, body: str | dict[str, Any], message: str
) -> None:
    """A body that is not exactly a check-in is refused with 400 and a plain message naming the field."""
    reply = post(running.url, body, key=log.key())
    assert reply.status == 400
    assert error_of(reply) == message
    assert log.count() == 0


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
    ],
)
def test_cross_origin_is_refused(running: BackgroundServer, log: Log, headers: dict[str, str]) -> None:
    """A request another site's page makes (by Origin or Sec-Fetch-Site) is refused with 403, key or not."""
    reply = post(running.url, checkin(), headers, key=log.key())
    assert reply.status == 403 and error_of(reply) == "Cross-origin requests are refused."
    assert (
        fetch(
            running.url, "/api/sessions", headers={**headers, "Authorization": f"Bearer {log.key()}"}
        ).status
        == 403
    )
    assert log.count() == 0


def test_same_origin_is_taken(running: BackgroundServer, log: Log) -> None:
    """The page's own fetch (Origin is this server, Sec-Fetch-Site same-origin) is taken."""
    host = urlsplit(running.url).netloc
    reply = post(
        running.url, checkin(), {"Origin": f"http://{host}", "Sec-Fetch-Site": "same-origin"}, key=log.key()
    )
    assert reply.status == 201


def test_the_rest_stays_read_only(running: BackgroundServer, log: Log) -> None:
    """POST anywhere else, and PUT or DELETE on the API, are still 405."""
    for path in ("/", "/feed.xml", "/api/sessions/1", "/api"):
        reply = fetch(running.url, path, "POST", headers={"Authorization": f"Bearer {log.key()}"})
        assert reply.status == 405, path
    for method in ("PUT", "DELETE", "PATCH", "OPTIONS"):
        assert fetch(running.url, "/api/sessions", method).status == 405


def test_without_a_log_there_is_no_api(server: BackgroundServer) -> None:
    """A server started without a log answers 404 on /api/sessions, and its page has no check-in."""
    assert fetch(server.url, "/api/sessions").status == 404
    assert post(server.url, checkin()).status == 404
    page = fetch(server.url, "/").body.decode()
    assert "checkin" not in page


def test_the_page_has_the_checkin_but_never_the_key(running: BackgroundServer, log: Log) -> None:
    """With a log the page has the check-in sheet and each card's routine; the key is never in it."""
    page = fetch(running.url, "/").body.decode()
    assert 'id="checkin"' in page and "/static/checkin.js" in page
    assert 'data-slug="morning"' in page
    assert "Stop if you feel sharp pain" in page  # the content's own caution
    assert log.key() not in page
    assert fetch(running.url, "/static/checkin.js").status == 200
    assert fetch(running.url, "/static/checkin.css").status == 200


def test_the_banner_link_carries_the_key_in_the_fragment(library: Library, log: Log) -> None:
    """serve prints the page link with #key=KEY, and --lan's QR code encodes the same link."""
    with start_background(library.root, log=log) as running:
        text = serve.banner(running.server, lan=False)
        assert f"{running.url}/#key={log.key()}" in text
        assert str(log.path) in text
        assert serve.page_link(running.server) == f"{running.url}/#key={log.key()}"


def test_serve_command_opens_the_log(
    library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """stretchcast serve --db FILE prints the link with the key; --no-log serves without one and makes none."""
    from stretchcast.cli.main import main

    seen: list[Log | None] = []

    def interrupted(self: serve.StretchcastServer, poll_interval: float = 0.5) -> None:
        seen.append(self.log)
        raise KeyboardInterrupt

    monkeypatch.setattr(serve.StretchcastServer, "serve_forever", interrupted)
    db = tmp_path / "mine" / "log.sqlite3"
    assert main(["serve", str(library.root), "--port", "0", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert seen[0] is not None and seen[0].path == db
    assert f"#key={Log(db).key()}" in out and f"check-ins go to {db}" in out
    other = tmp_path / "none" / "log.sqlite3"
    assert main(["serve", str(library.root), "--port", "0", "--db", str(other), "--no-log"]) == 0
    assert seen[1] is None and "#key=" not in capsys.readouterr().out and not other.parent.exists()
    assert main(["serve", str(tmp_path / "nope"), "--db", str(other)]) == 2
    assert not other.parent.exists()  # a mistake makes no log


def test_a_programme_week_card_says_which_week() -> None:
    """A programme week's card carries its programme, week and routine name for the check-in (escaped)."""
    from stretchcast.serve.checkin import card_attributes
    from stretchcast.serve.library import ServedRoutine

    week = ServedRoutine(
        stem="six-weeks-week-03",
        title="Week 3: Six weeks",
        duration_ms=1000,
        audio="six-weeks/week-03.mp3",
        audio_bytes=1,
        modified=0.0,
        guid="g",
        programme="Six weeks",
        season=1,
        episode=3,
        routine_hash="0123456789abcdef",
    )
    assert card_attributes(week) == (
        ' data-slug="week-03" data-programme="six-weeks" data-week="3" data-hash="0123456789abcdef"'
    )
    odd = ServedRoutine(
        stem='My "Track"', title="t", duration_ms=1, audio="x.mp3", audio_bytes=1, modified=0.0, guid="g"
    )
    assert card_attributes(odd) == ' data-slug="my-track"'
