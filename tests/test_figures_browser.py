"""The phone page's figure in Chromium: it moves with the voice, and a seek lands on the right pose."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from stretchcast.content import Collection, load_routine
from stretchcast.pipeline import BuildOptions, build
from stretchcast.serve.server import BackgroundServer, start_background
from stretchcast.testing import FakeVoice

from ._library import fetch
from .test_browser import (
    _metadata,
    _open,
    _phone,
    _save,
    browser,  # noqa: F401 - the Chromium fixture, found by name
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CARD = "article[data-routine]"


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, collection: Collection
) -> Iterator[tuple[BackgroundServer, dict[str, Any]]]:
    """A routine of knee-to-chest and knee stirs built with the fake voice, served."""
    base = tmp_path_factory.mktemp("figures-built")
    routine_file = base / "figs.yaml"
    routine_file.write_text(
        "title: Figure check\nexercises:\n  - id: knee-to-chest\n    rest: 5\n  - id: knee-stirs\n    reps: 4\n"
    )
    out = base / "audio"
    result = build(
        load_routine(collection, str(routine_file)), voice=FakeVoice(), options=BuildOptions(out_dir=out)
    )
    with start_background(out) as running:
        manifest: dict[str, Any] = json.loads(result.manifest.read_text())
        yield running, manifest


def _event(manifest: dict[str, Any], role: str, text: str, nth: int = 0) -> dict[str, Any]:
    found: list[dict[str, Any]] = [
        e for e in manifest["events"] if e["role"] == role and text in (e["text"] or "")
    ]
    return found[nth]


def _seek(page: Page, ms: float) -> dict[str, str]:
    """Seek the card's audio to ``ms`` and read the figure's state once the seek has landed."""
    page.evaluate(
        "([s, t]) => { const a = document.querySelector(s + ' audio'); window.landed = false;"
        " a.addEventListener('seeked', () => { window.landed = true; }, {once: true}); a.currentTime = t; }",
        [CARD, ms / 1000],
    )
    page.wait_for_function("() => window.landed === true")
    state: dict[str, str] = page.evaluate(
        "s => { const f = document.querySelector(s + ' [data-figure]');"
        " return {pose: f.dataset.pose, side: f.dataset.side || '', cue: f.dataset.cue || '',"
        " exercise: f.dataset.exercise || '', hidden: String(f.hidden)}; }",
        CARD,
    )
    return state


def test_figure_routes_are_served(served: tuple[BackgroundServer, dict[str, Any]]) -> None:
    """/figures/<id>.json and .svg come from the package; an unknown exercise is a 404."""
    running, _ = served
    data = fetch(running.url, "/figures/knee-stirs.json")
    assert data.status == 200 and json.loads(data.body)["id"] == "knee-stirs"
    svg = fetch(running.url, "/figures/knee-stirs.svg")
    assert svg.status == 200 and b"<animate" in svg.body
    assert fetch(running.url, "/figures/no-such.json").status == 404


def test_figure_follows_the_voice_after_seeking(
    browser: Browser,  # noqa: F811 - the fixture imported above
    served: tuple[BackgroundServer, dict[str, Any]],
    tmp_path: Path,
) -> None:
    """Seeking to a cue shows its pose: right knee in, held, back on Release, resting during rest; left mirrored."""
    running, manifest = served
    right_in = _event(manifest, "rep", "Right knee to your chest")
    hold = next(e for e in manifest["events"] if e["role"] == "hold" and e["start_ms"] >= right_in["end_ms"])
    release = next(
        e for e in manifest["events"] if e["role"] == "release" and e["start_ms"] >= hold["end_ms"]
    )
    after_release = next(  # the next cue spoken: the release and the silence after it are over
        e
        for e in manifest["events"]
        if e["start_ms"] >= release["end_ms"] and e["role"] not in {"move", "transition"}
    )
    left_in = _event(manifest, "rep", "Left knee to your chest")
    rest = next(e for e in manifest["events"] if e["role"] == "rest" and e["exercise"] == "knee-to-chest")
    welcome = manifest["events"][0]
    # the stirs' first circle (knee-to-chest counts "One. Right knee to your chest." before it)
    circle = next(e for e in manifest["events"] if e["role"] == "rep" and e["exercise"] == "knee-stirs")
    circle_move = next(
        e for e in manifest["events"] if e["role"] == "move" and e["start_ms"] >= circle["end_ms"]
    )
    errors: list[str] = []
    with _phone(browser) as context:
        page = _open(context, running.url + "/", errors)
        _metadata(page, CARD)
        page.wait_for_function(
            "s => document.querySelector(s + ' [data-figure]').dataset.ready === 'true'", arg=CARD
        )
        states = {
            "welcome": _seek(page, welcome["start_ms"] + 100),
            "right in (end of the cue)": _seek(page, right_in["end_ms"] - 20),
            "hold": _seek(page, (hold["start_ms"] + hold["end_ms"]) / 2),
            "back after release": _seek(page, after_release["start_ms"] - 20),
            "left in": _seek(page, left_in["end_ms"] - 20),
            "rest": _seek(page, rest["start_ms"] + 500),
        }
        page.locator(f"{CARD} [data-figure]").scroll_into_view_if_needed()
        _seek(page, (hold["start_ms"] + hold["end_ms"]) / 2)
        _save(page, tmp_path, "figure-page-hold.png", full_page=False)
        states["circling"] = _seek(page, (circle_move["start_ms"] + circle_move["end_ms"]) / 2)
        _save(page, tmp_path, "figure-page-stirs.png", full_page=False)
    assert states["welcome"]["hidden"] == "true"
    assert states["right in (end of the cue)"] == {
        "pose": "knee-in",
        "side": "right",
        "cue": "rep",
        "exercise": "knee-to-chest",
        "hidden": "false",
    }
    assert states["hold"]["pose"] == "knee-in" and states["hold"]["cue"] == "hold"
    assert (
        states["back after release"]["pose"] == "legs-long"
        and states["back after release"]["cue"] == "release"
    )
    assert states["left in"]["pose"] == "knee-in" and states["left in"]["side"] == "left"
    assert states["rest"]["pose"] == "legs-long" and states["rest"]["cue"] == "rest"
    assert states["circling"]["exercise"] == "knee-stirs" and states["circling"]["pose"].startswith("circle-")
    assert errors == []
