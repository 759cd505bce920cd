"""Real pages in a real browser (Debian's headless Chromium, driven by Playwright): the phone page at
375 px, and the routine builder notebook in the project's JupyterLab (`make lab`), as people meet them.

CI installs Chromium (.ci/run) and sets CI, so there this test always runs. Elsewhere it is
skipped, with the reason, only when Chromium or Playwright is missing. Screenshots go to the
test's temporary folder, and also to $STRETCHCAST_SCREENSHOTS when that is set, to be looked at.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
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

REPO = Path(__file__).resolve().parents[1]
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


# -- the routine builder in JupyterLab, as a person meets it (issue 20) ----------------------------

LAB_START_S = 120  # a loaded two-core machine can take a minute to bring JupyterLab and a kernel up
WIDGET_MS = 120_000  # running the builder's cell: importing numpy, scipy, matplotlib; the first plot
RENDER_MS = 120_000  # the standard routine with the fake voice: mastering and encoding ten minutes


@dataclass
class Lab:
    """A JupyterLab server of the project's environment on a temporary root folder."""

    url: str
    token: str
    root: Path
    audio: Path

    def notebook(self, name: str) -> str:
        return f"{self.url}/lab/tree/{name}?token={self.token}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """`make lab`'s JupyterLab (from this environment), on 127.0.0.1 with a token and a temporary root
    holding the builder notebook, with the fake voice and temporary audio, routines and cache folders.
    Stopped at the end, and given up on (the test fails) if it is not up within LAB_START_S."""
    if _missing() is not None:
        pytest.skip("needs the browser")  # the browser fixture says why, or fails in CI
    if importlib.util.find_spec("jupyterlab") is None:
        message = "JupyterLab is not installed (pip install -e '.[notebook]', as make install does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    base = tmp_path_factory.mktemp("lab")
    root = base / "root"
    root.mkdir()
    for name in ("02-routine-builder.ipynb",):
        shutil.copy(REPO / "notebooks" / name, root / name)
    token = secrets.token_hex(16)
    port = _free_port()
    settings = base / "settings"
    (settings / "@jupyterlab" / "apputils-extension").mkdir(parents=True)
    # no "get notified about Jupyter news?" toast over the builder (and nothing asked of the internet)
    (settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings").write_text(
        '{"fetchNews": "false"}'
    )
    env = {
        **os.environ,
        "STRETCHCAST_VOICE": "fake",
        "STRETCHCAST_AUDIO_DIR": str(base / "audio"),
        "STRETCHCAST_ROUTINES_DIR": str(base / "my-routines"),
        "STRETCHCAST_CACHE": str(base / "cues"),
        "STRETCHCAST_GTTS_URL": f"http://127.0.0.1:{_free_port()}",  # Google is a closed port here
        "JUPYTER_CONFIG_DIR": str(base / "config"),
        "JUPYTER_RUNTIME_DIR": str(base / "runtime"),
        "IPYTHONDIR": str(base / "ipython"),
    }
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        f"--LabApp.workspaces_dir={base / 'workspaces'}",
        f"--LabApp.user_settings_dir={settings}",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.expose_app_in_browser=True",  # window.jupyterapp, to run commands as the menus do
        *(["--allow-root"] if os.geteuid() == 0 else []),  # CI runs as root
    ]
    log = (base / "lab.log").open("wb")
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + LAB_START_S
        while True:
            if process.poll() is not None:
                pytest.fail(
                    f"JupyterLab exited ({process.returncode}): {(base / 'lab.log').read_text()[-2000:]}"
                )
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=5) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not answer within {LAB_START_S} s")
            time.sleep(0.5)
        yield Lab(url, token, root, base / "audio")
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _run_builder(browser: Browser, lab: Lab) -> tuple[BrowserContext, Page]:
    """Open the builder notebook in JupyterLab, run all its cells, and wait for the builder."""
    # tall, so that the whole builder is on screen (JupyterLab scrolls inside the page, not the page)
    context = browser.new_context(viewport={"width": 1280, "height": 2600})
    page = context.new_page()
    page.goto(lab.notebook("02-routine-builder.ipynb"))
    page.wait_for_selector(".jp-NotebookPanel", timeout=WIDGET_MS)
    page.wait_for_function("() => window.jupyterapp !== undefined")
    # the kernel (this environment's "Python 3") is up and idle, as the status bar says
    page.locator(".jp-StatusBar-TextItem", has_text="| Idle").wait_for(timeout=WIDGET_MS)
    # Run > Run All Cells; not awaited (its promise ends with the cells), the builder is awaited below
    page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
    page.locator(".widget-button", has_text="Render").wait_for(timeout=WIDGET_MS)
    page.wait_for_function(  # the plot is drawn once the builder has shown its first plan
        "() => [...document.querySelectorAll('.widget-image')].some(i => i.naturalWidth > 0)",
        timeout=WIDGET_MS,
    )
    return context, page


def _summary(page: Page) -> str:
    text: str = page.locator(".widget-html", has_text="cues to speak").first.inner_text()
    return text


def _seconds(clock_text: str) -> int:
    """'10:34' or '1:02:03' as seconds."""
    seconds = 0
    for part in clock_text.split(":"):
        seconds = seconds * 60 + int(part)
    return seconds


def _slider(page: Page, exercise: str, label: str) -> Any:
    """An exercise's slider (the innermost box holding the exercise's name is its own)."""
    box = page.locator(".widget-vbox", has=page.get_by_text(exercise, exact=True)).last
    return box.locator(".widget-slider", has=page.locator(".widget-label", has_text=label))


def _type_into(page: Page, slider: Any, value: int) -> None:
    """Set a slider as a person does who types a value: into its readout, then Enter."""
    readout = slider.locator(".widget-readout")
    readout.click()
    page.keyboard.press("Control+A")
    page.keyboard.type(str(value))
    page.keyboard.press("Enter")
    page.wait_for_function(
        "([el, v]) => parseInt(el.textContent) === v", arg=[readout.element_handle(), value]
    )


class TestJupyterLab:
    """`make lab`'s JupyterLab runs the builder notebook in Chromium, as a person would use it."""

    def test_slider_and_render(self, browser: Browser, lab: Lab, tmp_path: Path) -> None:
        """Moving a slider changes the estimate and names the routine "(adjusted)"; Render plays a track
        as long as the length then shown, which is labelled exact. With every cue cached then, moving
        another slider updates the player by itself (live preview), without Render."""
        context, page = _run_builder(browser, lab)
        with context:
            _save(page, tmp_path, "lab-builder-opened.png")
            before = _summary(page)
            assert re.search(r"\d+:\d\d estimated", before), before
            slider = _slider(page, "Knee sways", "Reps")
            was = int(slider.locator(".widget-readout").inner_text())
            _type_into(page, slider, was - 1)
            page.wait_for_function(
                "before => [...document.querySelectorAll('.widget-html')].some("
                "e => e.innerText.includes('cues to speak') && e.innerText !== before)",
                arg=before,
            )
            title = page.locator(".widget-text", has=page.locator(".widget-label", has_text="Title")).locator(
                "input"
            )
            assert title.input_value() == "SI joint routine, standard (adjusted)"
            _save(page, tmp_path, "lab-builder-slider-moved.png")
            page.locator(".widget-button", has_text="Render").click()
            page.wait_for_function(
                "() => [...document.querySelectorAll('.widget-html')].some(e => e.innerText.startsWith('Rendered'))",
                timeout=RENDER_MS,
            )
            page.wait_for_function(
                "() => { const a = document.querySelector('audio'); return a && a.readyState >= 1; }",
                timeout=20_000,
            )
            duration = page.evaluate("document.querySelector('audio').duration")
            page.wait_for_function(
                "() => [...document.querySelectorAll('.widget-html')].some(e => / exact/.test(e.innerText))"
            )
            after = _summary(page)
            shown = re.search(r"(\d+:\d\d) exact", after)
            assert shown, after
            page.locator("audio").scroll_into_view_if_needed()
            _save(page, tmp_path, "lab-builder-rendered.png")
            # every cue is cached now: a rest changes no words, so the player follows by itself; twice,
            # as the first preview may also make the cues' cached MP3 frames (the frame back end)
            rendered_src = page.evaluate("document.querySelector('audio').src")
            src = rendered_src
            for rest in (25, 30):
                moved = time.monotonic()
                _type_into(page, _slider(page, "Knee sways", "Rest"), rest)
                page.wait_for_function(
                    "src => { const a = document.querySelector('audio');"
                    " return a && a.src !== src && a.readyState >= 1; }",
                    arg=src,
                    timeout=RENDER_MS,
                )
                src = page.evaluate("document.querySelector('audio').src")
                # from the slider's release to the player's new track: reported, not asserted (the
                # numbers are in docs/ARCHITECTURE.md)
                print(f"live preview (rest {rest} s): player updated {time.monotonic() - moved:.2f} s after")
            live_duration = page.evaluate("document.querySelector('audio').duration")
            live_status = page.locator(".widget-html", has_text="Live preview:").first.inner_text()
            live_shown = re.search(r"(\d+:\d\d) exact", _summary(page))
            page.locator("audio").scroll_into_view_if_needed()
            _save(page, tmp_path, "lab-builder-live-preview.png")
            # a second set needs cues never spoken: the player stays, and the line beside Render says so
            _type_into(page, _slider(page, "Knee sways", "Sets"), 2)
            behind = page.locator(".widget-html", has_text="The player has the routine from before")
            behind.wait_for(timeout=20_000)
            behind_text = behind.inner_text()
            still_src = page.evaluate("document.querySelector('audio').src")
            page.locator("audio").scroll_into_view_if_needed()
            _save(page, tmp_path, "lab-builder-live-behind.png", full_page=False)
        mp3s = sorted(p.name for p in lab.audio.glob("*.mp3"))
        assert mp3s == ["si-joint-routine-standard-adjusted.mp3"]  # the preview wrote nothing here
        manifest = json.loads((lab.audio / "si-joint-routine-standard-adjusted.json").read_text())
        assert abs(duration - manifest["duration_ms"] / 1000) < 0.1
        assert _seconds(shown.group(1)) == manifest["duration_ms"] // 1000
        assert live_shown and live_shown.group(1) != shown.group(1), live_shown
        assert live_status.startswith(f"Live preview: {live_shown.group(1)}, made in "), live_status
        assert 0 <= live_duration - _seconds(live_shown.group(1)) < 1.1  # the clock shows whole seconds
        assert "Your change needs cues not spoken yet: press Render" in behind_text
        assert still_src != rendered_src  # the live preview's track is still there to play

    def test_failed_render_and_messages(self, browser: Browser, lab: Lab, tmp_path: Path) -> None:
        """The Voice list marks gTTS unavailable here; rendering with it anyway takes the previous track
        off the screen and says why right under Render; an empty title is reported beside the title."""
        context, page = _run_builder(browser, lab)
        with context:
            voice = page.locator(
                ".widget-dropdown", has=page.locator(".widget-label", has_text="Voice")
            ).locator("select")
            labels = [t.replace("\xa0", " ") for t in voice.locator("option").all_inner_texts()]
            assert any(t.startswith("gtts: unavailable (gTTS unreachable") for t in labels), labels
            page.locator(".widget-button", has_text="Render").click()
            page.wait_for_function(
                "() => { const a = document.querySelector('audio'); return a && a.readyState >= 1; }",
                timeout=RENDER_MS,
            )
            voice.select_option(index=next(i for i, t in enumerate(labels) if t.startswith("gtts")))
            note = page.locator(".jp-RenderedHTML", has_text="The gtts voice cannot speak here")
            note.wait_for(timeout=20_000)
            _save(page, tmp_path, "lab-builder-voice-unavailable.png")
            page.locator(".widget-button", has_text="Render").click()
            page.locator(".widget-html", has_text="Not rendered").wait_for(timeout=RENDER_MS)
            reason = page.locator(".jp-RenderedHTML", has_text="gTTS unreachable").first
            reason.wait_for()
            audio_shown = page.evaluate(
                "() => [...document.querySelectorAll('audio')].some(a => a.offsetParent !== null)"
            )
            render_box = page.locator(".widget-button", has_text="Render").bounding_box()
            reason_box = reason.bounding_box()
            reason_text = reason.inner_text()
            page.locator(".widget-button", has_text="Render").scroll_into_view_if_needed()
            _save(page, tmp_path, "lab-builder-render-failed.png", full_page=False)
            title = page.locator(".widget-text", has=page.locator(".widget-label", has_text="Title")).locator(
                "input"
            )
            title.fill("")
            title.press("Enter")
            beside = page.locator(".jp-RenderedHTML", has_text="The title must not be empty.")
            beside.wait_for(timeout=20_000)
            title_box = title.bounding_box()
            beside_box = beside.bounding_box()
            title.scroll_into_view_if_needed()
            _save(page, tmp_path, "lab-builder-title-problem.png", full_page=False)
            still_failed = page.locator(".jp-RenderedHTML", has_text="gTTS unreachable").count()
        assert not audio_shown
        assert "--" not in reason_text and "Voice list" in reason_text
        assert render_box and reason_box and 0 <= reason_box["y"] - render_box["y"] < 120
        assert title_box and beside_box and 0 <= beside_box["y"] - title_box["y"] < 120
        assert still_failed == 0  # the newer message replaced it
