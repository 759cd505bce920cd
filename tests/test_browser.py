"""The phone page in a real browser: Debian's headless Chromium, driven by Playwright, at 375 px.

CI installs Chromium (.ci/run) and sets CI, so there this test always runs. Elsewhere it is
skipped, with the reason, only when Chromium or Playwright is missing. Screenshots go to the
test's temporary folder, and also to $STRETCHCAST_SCREENSHOTS when that is set, to be looked at.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pytest

from stretchcast.content import Collection, load_routine
from stretchcast.pipeline import BuildOptions, build
from stretchcast.serve.server import BackgroundServer, start_background
from stretchcast.testing import FakeVoice

from ._library import MORNING_CHAPTERS, MORNING_CUES, make_library

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize

CHROMIUM = os.environ.get("STRETCHCAST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps trying to reach Google's hosts, which a
# closed network refuses many times a second; --no-sandbox because CI runs as root.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--mute-audio",
]
PHONE: ViewportSize = {"width": 375, "height": 812}
MORNING = "article[data-title^='Morning']"
ALL_IMAGES_LOADED = "() => [...document.images].every(i => i.complete && i.naturalWidth > 0)"


def _missing() -> str | None:
    """Why the browser test cannot run here, or None if it can."""
    try:
        import playwright.sync_api  # noqa: F401 - only asking whether it is installed
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[dev]')"
    if not Path(CHROMIUM).is_file():
        return f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Chromium, from the system, with a fresh profile (Playwright makes one per launch)."""
    reason = _missing()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the browser test, but {reason}; .ci/run installs it.")
        pytest.skip(f"browser test skipped outside CI: {reason}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield launched
        launched.close()


def _phone(browser: Browser, scheme: Literal["light", "dark"] = "light") -> BrowserContext:
    return browser.new_context(
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        color_scheme=scheme,
    )


def _open(context: BrowserContext, url: str, errors: list[str]) -> Page:
    """Open ``url`` and record console errors and failed requests in ``errors``."""
    page = context.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    return page


def _metadata(page: Page, selector: str) -> dict[str, Any]:
    """Wait until the card's audio has its metadata; return its duration and ready state."""
    page.wait_for_function(
        "s => document.querySelector(s + ' audio').readyState >= 1", arg=selector, timeout=20_000
    )
    result: dict[str, Any] = page.evaluate(
        f"(() => {{ const a = document.querySelector({selector!r} + ' audio');"
        " return {duration: a.duration, error: a.error && a.error.code}; })()"
    )
    return result


def _save(page: Page, tmp_path: Path, name: str, *, full_page: bool = True) -> Path:
    """A screenshot, kept in tmp_path and in $STRETCHCAST_SCREENSHOTS if set."""
    path = tmp_path / name
    page.screenshot(path=str(path), full_page=full_page)
    wanted = os.environ.get("STRETCHCAST_SCREENSHOTS")
    if wanted:
        Path(wanted).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(wanted) / name)
    return path


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, collection: Collection) -> tuple[Path, dict[str, Any]]:
    """A short routine built by the real pipeline (fake voice): its folder and its manifest."""
    base = tmp_path_factory.mktemp("built")
    routine_file = base / "quick.yaml"
    routine_file.write_text("title: Quick check\nexercises:\n  - id: knee-sways\n    reps: 4\n")
    out = base / "audio"
    result = build(
        load_routine(collection, str(routine_file)), voice=FakeVoice(), options=BuildOptions(out_dir=out)
    )
    return out, json.loads(result.manifest.read_text())


class TestPhonePage:
    """The page works in Chromium on a phone-sized screen."""

    def test_duration(self, browser: Browser, server: BackgroundServer) -> None:
        """The audio element loads the MP3's metadata, and its duration is the manifest's within 0.1 s."""
        errors: list[str] = []
        with _phone(browser) as context:
            page = _open(context, server.url + "/", errors)
            meta = _metadata(page, MORNING)
        assert meta["error"] is None
        assert abs(meta["duration"] - 20.0) < 0.1
        assert errors == []

    def test_built_routine_duration(self, browser: Browser, built: tuple[Path, dict[str, Any]]) -> None:
        """A routine built by the pipeline plays for its manifest's length, within 0.1 s."""
        folder, manifest = built
        with start_background(folder) as running, _phone(browser) as context:
            page = _open(context, running.url + "/", [])
            meta = _metadata(page, "article[data-routine]")
        assert meta["error"] is None
        assert abs(meta["duration"] - manifest["duration_ms"] / 1000) < 0.1

    def test_chapter_tap_seeks(self, browser: Browser, server: BackgroundServer) -> None:
        """Tapping a chapter seeks the player to the chapter's start and marks it as current."""
        chapter = MORNING_CHAPTERS[2]
        with _phone(browser) as context:
            page = _open(context, server.url + "/", [])
            _metadata(page, MORNING)
            page.evaluate(
                f"document.querySelector({MORNING!r} + ' audio').addEventListener('seeked',"
                " e => { window.seekedTo = e.target.currentTime; }, {once: true})"
            )
            button = page.locator(f"{MORNING} button[data-start='{chapter['start_ms'] / 1000:.3f}']")
            button.tap()
            page.wait_for_function("() => window.seekedTo !== undefined", timeout=20_000)
            seeked_to = page.evaluate("window.seekedTo")
            page.wait_for_function(
                "el => el.getAttribute('aria-current') === 'true'", arg=button.element_handle()
            )
        assert abs(seeked_to - chapter["start_ms"] / 1000) < 0.05

    def test_one_player_at_a_time(self, browser: Browser, server: BackgroundServer) -> None:
        """Starting one routine pauses the other, and the lock screen names the one playing."""
        tagged = "article[data-title='From tags']"
        playing = "s => !document.querySelector(s + ' audio').paused"
        with _phone(browser) as context:
            page = _open(context, server.url + "/", [])
            # the 20-second routine first, so that it is paused by the page, not by reaching its end
            page.locator(f"{MORNING} button[data-start]").nth(1).tap()
            page.wait_for_function(playing, arg=MORNING)
            page.locator(f"{tagged} button[data-start]").first.tap()
            page.wait_for_function(playing, arg=tagged)
            page.wait_for_function("s => document.querySelector(s + ' audio').paused", arg=MORNING)
            page.wait_for_function("() => navigator.mediaSession.metadata?.title === 'From tags'")
            morning_ended = page.evaluate("s => document.querySelector(s + ' audio').ended", MORNING)
        assert morning_ended is False  # paused part-way by the page

    def test_captions(self, browser: Browser, server: BackgroundServer, tmp_path: Path) -> None:
        """The caption line shows the cue being spoken, decoded from the .vtt (markup-like text as text)."""
        start, _, text = MORNING_CUES[2]
        with _phone(browser) as context:
            page = _open(context, server.url + "/", [])
            _metadata(page, MORNING)
            page.wait_for_function(
                "([s, n]) => document.querySelector(s + ' audio').textTracks[0].cues?.length === n",
                arg=[MORNING, len(MORNING_CUES)],
                timeout=20_000,
            )
            page.evaluate(
                f"document.querySelector({MORNING!r} + ' audio').currentTime = {start / 1000 + 0.5}"
            )
            caption = page.locator(f"{MORNING} .caption")
            page.wait_for_function("el => el.textContent.length > 0", arg=caption.element_handle())
            shown = caption.text_content()
            current = page.locator(f"{MORNING} button[aria-current='true']").text_content()
            page.locator(MORNING).scroll_into_view_if_needed()
            _save(page, tmp_path, "serve-page-375-playing.png", full_page=False)
        assert shown == text
        assert current is not None and current.endswith(MORNING_CHAPTERS[2]["title"])

    @pytest.mark.parametrize(
        ("scheme", "background"), [("light", "rgb(246, 244, 239)"), ("dark", "rgb(18, 20, 23)")]
    )
    def test_screenshot(
        self,
        browser: Browser,
        server: BackgroundServer,
        tmp_path: Path,
        scheme: Literal["light", "dark"],
        background: str,
    ) -> None:
        """At 375 px nothing overflows sideways, colours follow the phone's scheme; a screenshot is kept."""
        errors: list[str] = []
        with _phone(browser, scheme) as context:
            page = _open(context, server.url + "/", errors)
            _metadata(page, MORNING)
            page.wait_for_function(ALL_IMAGES_LOADED)
            width = page.evaluate("document.documentElement.scrollWidth")
            colour = page.evaluate("getComputedStyle(document.body).backgroundColor")
            shot = _save(page, tmp_path, f"serve-page-375-{scheme}.png")
        assert width <= PHONE["width"]
        assert colour == background
        assert shot.stat().st_size > 10_000
        assert errors == []

    def test_offline_after_load(self, browser: Browser, tmp_path: Path) -> None:
        """Once opened, the page opens again with the server gone: the service worker keeps a copy."""
        lib = make_library(tmp_path)
        running = start_background(lib.root)
        with _phone(browser) as context:
            page = _open(context, running.url + "/", [])
            page.evaluate("navigator.serviceWorker.ready.then(() => true)")
            page.reload()  # now under the worker, which keeps what it fetches
            page.wait_for_function("() => navigator.serviceWorker.controller !== null")
            page.wait_for_function(ALL_IMAGES_LOADED)
            running.stop()
            page.reload()
            titles = page.locator("article h2").all_text_contents()
            css_applied = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert len(titles) == 4
        assert css_applied == "rgb(246, 244, 239)"
