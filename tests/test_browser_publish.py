"""The published site and offline saving in real Chromium (the set-up of tests/test_browser.py).

A published site is served under a path prefix by a plain static server (``http.server``), as any
web host would; offline saving is shown on localhost (a secure context): save, stop the server,
reload, play. On a LAN-like address (a host name mapped to 127.0.0.1, not a secure context) the
card explains why it cannot save and points to the download.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pytest

from stretchcast.cli.main import main
from stretchcast.serve.server import start_background

from ._library import MORNING_TITLE, make_library, tag, tone_mp3
from .test_browser import ALL_IMAGES_LOADED, CHROMIUM, FLAGS, MORNING, PHONE, _open, _phone, _save
from .test_browser import browser as browser  # noqa: PLC0414 - the module's Chromium fixture, by name

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

PREFIX = "/stretch"
PLAYING = (
    "([s, t]) => { const a = document.querySelector(s + ' audio'); return !a.paused && a.currentTime > t; }"
)


class _Prefixed(SimpleHTTPRequestHandler):
    """A plain static server for one folder, found under PREFIX/ only (as on a shared web host)."""

    def send_head(self) -> Any:
        if not self.path.startswith(PREFIX + "/"):
            self.send_error(404)
            return None
        self.path = self.path[len(PREFIX) :]
        return super().send_head()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def static_host() -> Iterator[tuple[ThreadingHTTPServer, Path]]:
    """A static server on 127.0.0.1 for a folder not yet written (the site needs the port for its base URL)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site"
        server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Prefixed, directory=str(site)))
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield server, site
        finally:
            server.shutdown()
            server.server_close()
            thread.join()


def _play_from(page: Page, card: str, chapter: int, after: float) -> None:
    """Tap a chapter of ``card`` (a user gesture, so playing is allowed) and wait until it plays past ``after`` s."""
    page.locator(f"{card} button[data-start]").nth(chapter).tap()
    page.wait_for_function(PLAYING, arg=[card, after], timeout=20_000)


class TestPublishedSite:
    """The static site works from a plain web server under a path prefix."""

    @pytest.mark.parametrize("scheme", ["light", "dark"])
    def test_plays_under_prefix(
        self,
        browser: Browser,
        static_host: tuple[ThreadingHTTPServer, Path],
        tmp_path: Path,
        scheme: Literal["light", "dark"],
    ) -> None:
        """Published for http://127.0.0.1:PORT/stretch/ and served there, the page loads whole and a track plays."""
        server, site = static_host
        lib = make_library(tmp_path)
        base = f"http://127.0.0.1:{server.server_address[1]}{PREFIX}"
        assert main(["publish", str(lib.root), "--base-url", base, "-o", str(site)]) == 0
        errors: list[str] = []
        with _phone(browser, scheme) as context:
            page = _open(context, base + "/", errors)
            page.wait_for_function(ALL_IMAGES_LOADED)
            titles = page.locator("article h2").all_text_contents()
            _play_from(page, MORNING, 0, 0.5)
            width = page.evaluate("document.documentElement.scrollWidth")
            _save(page, tmp_path, f"published-375-{scheme}.png")
        assert len(titles) == 4
        assert width <= PHONE["width"]
        assert errors == []


class TestOffline:
    """Save for offline keeps the whole track, and it plays with the server gone."""

    def test_save_stop_reload_play(self, browser: Browser, tmp_path: Path) -> None:
        """On localhost: save a track (saved again after a rebuild), stop the server, reload, and it plays (from its middle too: a Range from the copy)."""
        lib = make_library(tmp_path)
        running = start_background(lib.root)
        with _phone(browser) as context:
            page = _open(context, running.url + "/", [])
            page.evaluate("navigator.serviceWorker.ready.then(() => true)")
            page.reload()
            page.wait_for_function("() => navigator.serviceWorker.controller !== null")
            page.wait_for_function(ALL_IMAGES_LOADED)
            # a track that is not saved still streams through the worker, Range requests and all
            _play_from(page, "article[data-title='From tags']", 1, 1.2)
            save = page.locator(f"{MORNING} button.save")
            assert save.text_content() == "Save for offline"
            save.tap()
            page.wait_for_function(
                "s => document.querySelector(s + ' .saved-status').textContent.startsWith('Saved')",
                arg=MORNING,
            )
            status = page.locator(f"{MORNING} .saved-status").text_content()
            size = (lib.root / "morning.mp3").stat().st_size
            summary = page.locator("[data-saved]").text_content()
            # the track is rebuilt: the page notices the saved copy is of the earlier build
            tone_mp3(lib.root / "morning.mp3", 20, freq=262)
            tag(lib.root / "morning.mp3", MORNING_TITLE, cover=lib.cover)
            page.reload()
            page.wait_for_function(
                "s => document.querySelector(s + ' .saved-status').textContent.includes('earlier build')",
                arg=MORNING,
            )
            again = page.locator(f"{MORNING} button.save")
            assert again.text_content() == "Save again"
            again.tap()
            page.wait_for_function(
                "s => document.querySelector(s + ' .saved-status').textContent.startsWith('Saved')",
                arg=MORNING,
            )
            cached = page.evaluate(
                "caches.open('stretchcast-audio-v1').then(c => c.match(location.origin + '/morning.mp3'))"
                ".then(r => r.arrayBuffer()).then(b => crypto.subtle.digest('SHA-256', b))"
                ".then(d => Array.from(new Uint8Array(d), x => x.toString(16).padStart(2, '0')).join(''))"
            )
            page.locator(MORNING).scroll_into_view_if_needed()
            _save(page, tmp_path, "offline-saved-375.png", full_page=False)
            running.stop()
            page.reload()
            page.wait_for_function("s => document.querySelector(s + ' audio') !== null", arg=MORNING)
            _play_from(page, MORNING, 2, 10.3)  # chapter 3 starts at 10 s: the player asks for a range
            state = page.evaluate(
                f"(() => {{ const a = document.querySelector({MORNING!r} + ' audio'); return {{error: a.error && a.error.code, duration: a.duration}}; }})()"
            )
            after = page.locator(f"{MORNING} .saved-status").text_content()
        # the whole file of the rebuilt track, not a part of it, nor the earlier build
        assert cached == hashlib.sha256((lib.root / "morning.mp3").read_bytes()).hexdigest()
        assert (
            status == f"Saved on this device ({size / 1e6:.1f} MB)"
            or status == f"Saved on this device ({round(size / 1e3)} kB)"
        )
        assert summary is not None and summary.startswith("Saved for offline in this browser: 1 track,")
        assert "of the" in summary  # the browser's storage estimate
        assert state["error"] is None and abs(state["duration"] - 20.0) < 0.1
        assert after is not None and after.startswith("Saved")

    def test_lan_address_explains(self, browser: Browser, tmp_path: Path) -> None:
        """Over plain http on a non-local name there is no save button: the card says why and links the download."""
        lib = make_library(tmp_path)
        lan = browser.browser_type.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[*FLAGS, "--host-resolver-rules=MAP stretch.test 127.0.0.1"],
        )
        try:
            with start_background(lib.root) as running, _phone(lan) as context:
                url = running.url.replace("127.0.0.1", "stretch.test") + "/"
                page = _open(context, url, [])
                secure = page.evaluate("window.isSecureContext")
                slot = page.locator(f"{MORNING} [data-offline]")
                slot.wait_for(state="visible")
                text = slot.text_content()
                link = slot.locator("a").get_attribute("href")
                buttons = page.locator("button.save").count()
                slot.scroll_into_view_if_needed()
                _save(page, tmp_path, "offline-lan-375.png", full_page=False)
        finally:
            lan.close()
        assert secure is False
        assert buttons == 0
        assert text is not None and "needs a secure address" in text and "Download MP3" in text
        assert link == "morning.mp3"
