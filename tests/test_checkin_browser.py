"""The check-in end to end in Chromium at phone width: play to the end, fill the form, find it in the log.

Uses the set-up of ``test_browser.py`` (Debian's Chromium through Playwright; run with CI=1 to make
a missing browser a failure). Screenshots of the form, light and dark, go to $STRETCHCAST_SCREENSHOTS.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pytest

from stretchcast.cli.main import main
from stretchcast.log.store import Log
from stretchcast.serve.server import BackgroundServer, start_background

from .test_browser import _open, _phone, _save, browser, built  # noqa: F401 - fixtures, found by name

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CARD = "article[data-routine]"
SHEET = "#checkin"


@pytest.fixture
def log(tmp_path: Path) -> Log:
    """A new session log."""
    return Log(tmp_path / "log.sqlite3")


@pytest.fixture
def running(built: tuple[Path, dict[str, Any]], log: Log) -> Iterator[BackgroundServer]:  # noqa: F811
    """The short routine built with the fake voice, served with the log."""
    with start_background(built[0], log=log) as server:
        yield server


def _play_to_the_end(page: Page) -> None:
    """Start the track with a tap (a user gesture, as browsers require), then jump to its last second."""
    page.wait_for_function(
        "s => document.querySelector(s + ' audio').readyState >= 1", arg=CARD, timeout=20_000
    )
    page.locator(f"{CARD} button[data-start]").last.tap()
    page.wait_for_function("s => !document.querySelector(s + ' audio').paused", arg=CARD)
    page.evaluate(
        f"(() => {{ const a = document.querySelector('{CARD} audio'); a.currentTime = a.duration - 0.4; }})()"
    )


def _fill(
    page: Page, *, before: int, after: int, felt: str, note: str | None = None, warning: str | None = None
) -> None:
    """Answer the check-in by tapping, as a thumb would."""
    page.locator(f"{SHEET} label.choice:has(input[name=done][value=full])").tap()
    page.locator(f"{SHEET} label.tile:has(input[name=pain_before][value='{before}'])").tap()
    page.locator(f"{SHEET} label.tile:has(input[name=pain_after][value='{after}'])").tap()
    page.locator(f"{SHEET} label.choice:has(input[name=felt][value={felt}])").tap()
    if warning:
        page.locator(f"{SHEET} label.check:has(input[value={warning}])").tap()
    if note:
        page.locator(f"{SHEET} textarea[name=note]").fill(note)


def _listed(db: Path, capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    """What ``stretchcast log list --json`` says is in the log."""
    capsys.readouterr()
    assert main(["log", "list", "--json", "--db", str(db)]) == 0
    data: list[dict[str, Any]] = json.loads(capsys.readouterr().out)
    return data


def test_checkin_after_the_track_ends(
    browser: Browser,  # noqa: F811 - the fixture imported above
    running: BackgroundServer,
    log: Log,
    built: tuple[Path, dict[str, Any]],  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The key leaves the address bar; the track's end opens the check-in; saved, it is in log list."""
    errors: list[str] = []
    with _phone(browser) as context:
        page = _open(context, f"{running.url}/#key={log.key()}", errors)
        assert page.evaluate("location.hash") == ""
        assert page.evaluate("localStorage.getItem('stretchcast.key')") == log.key()
        _play_to_the_end(page)
        page.wait_for_selector(f"{SHEET}[open]", timeout=20_000)
        _fill(page, before=3, after=2, felt="right", note="Loose hips, end to end")
        page.locator(f"{SHEET} button.save").tap()
        page.wait_for_function(
            "() => document.querySelector('.checkin-status').textContent.startsWith('Saved in the log')"
        )
        queued = page.evaluate("localStorage.getItem('stretchcast.checkins')")
    [entry] = _listed(log.path, capsys)
    assert (entry["routine"], entry["done"], entry["pain_before"], entry["pain_after"], entry["felt"]) == (
        built[1]["slug"],
        "full",
        3,
        2,
        "right",
    )
    assert entry["note"] == "Loose hips, end to end" and entry["warnings"] == []
    from stretchcast.log.model import routine_hash

    assert entry["routine_hash"] == routine_hash(built[1]["routine"])
    assert json.loads(queued) == []
    assert errors == []


def test_a_checkin_made_offline_is_sent_once_when_the_server_is_back(
    browser: Browser,  # noqa: F811
    built: tuple[Path, dict[str, Any]],  # noqa: F811
    log: Log,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """With the computer off the check-in stays on the phone; when it answers again it is sent, once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    first = start_background(built[0], port=port, log=log)
    with _phone(browser) as context:
        page = _open(context, f"{first.url}/#key={log.key()}", [])
        page.wait_for_selector("[data-checkin-open]")
        context.set_offline(True)  # the phone cannot reach the computer
        first.stop()  # and the computer goes away
        page.locator("[data-checkin-open]").tap()
        _fill(page, before=4, after=3, felt="easy")
        page.locator(f"{SHEET} button.save").tap()
        page.wait_for_function(
            "() => document.querySelector('.checkin-status').textContent.startsWith('Kept on this phone')"
        )
        assert len(json.loads(page.evaluate("localStorage.getItem('stretchcast.checkins')"))) == 1
        assert log.count() == 0
        with start_background(built[0], port=port, log=log):  # back, at the same address
            context.set_offline(False)  # the browser says "online": the page sends what it kept
            page.wait_for_function(
                "() => JSON.parse(localStorage.getItem('stretchcast.checkins')).length === 0"
            )
            page.reload()  # the page starts by sending what is queued: nothing is left to send twice
            page.wait_for_selector("[data-checkin-open]")
            page.evaluate("window.dispatchEvent(new Event('online'))")
            label = page.locator("[data-checkin-open]").text_content()
    entries = _listed(log.path, capsys)
    assert [(e["pain_before"], e["pain_after"], e["felt"]) for e in entries] == [(4, 3, "easy")]
    assert label == "How did it go?"


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_checkin_form_screenshots(
    browser: Browser,  # noqa: F811
    running: BackgroundServer,
    log: Log,
    tmp_path: Path,
    scheme: Literal["light", "dark"],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The form fits a 375 px phone with tap targets of 44 px or more; a warning sign shows the stop advice."""
    with _phone(browser, scheme) as context:
        page = _open(context, f"{running.url}/#key={log.key()}", [])
        page.wait_for_function("() => [...document.images].every(i => i.complete)")
        _save(page, tmp_path, f"checkin-page-375-{scheme}.png", full_page=False)
        page.locator("[data-checkin-open]").tap()
        page.wait_for_selector(f"{SHEET}[open]")
        _fill(
            page,
            before=2,
            after=5 if scheme == "dark" else 2,
            felt="hard",
            warning="numbness" if scheme == "dark" else None,
        )
        sizes = page.evaluate(
            "() => [...document.querySelectorAll('#checkin .tile span, #checkin .choice span, #checkin .check span,"
            " #checkin .save')].map(e => e.getBoundingClientRect()).map(r => [r.width, r.height])"
        )
        width = page.evaluate("document.querySelector('#checkin').scrollWidth")
        advice_shown = page.evaluate("!document.querySelector('.stop-advice').hidden")
        _save(page, tmp_path, f"checkin-375-{scheme}.png", full_page=False)
        page.locator(f"{SHEET} .checkin-form").evaluate("f => f.scrollIntoView({block: 'end'})")
        page.locator(f"{SHEET} button.save").scroll_into_view_if_needed()
        _save(page, tmp_path, f"checkin-375-{scheme}-end.png", full_page=False)
    assert width <= 375
    assert min(h for _, h in sizes) >= 44 and min(w for w, _ in sizes) >= 44
    assert advice_shown is (scheme == "dark")
