"""The one progress hook: what a build reports, the terminal's and the builder's adapters, and that the
builder hands its voice to the build whole (threads, timeout, auto fallback)."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable, Mapping
from itertools import pairwise
from pathlib import Path

import ipywidgets as widgets
import pytest

from stretchcast.cli.progress import TerminalProgress
from stretchcast.content import Collection, Routine
from stretchcast.errors import VoiceError
from stretchcast.notebook.model import RoutineModel
from stretchcast.notebook.view import WidgetProgress
from stretchcast.pipeline import BuildOptions, build
from stretchcast.progress import STAGES, Stage
from stretchcast.testing import FakeVoice
from stretchcast.voices import Choice
from stretchcast.voices.base import Speech
from stretchcast.voices.cache import CueCache

Report = tuple[Stage, int, int]
# a failing engine or a stuck barrier fails the test instead of hanging it; nothing is timed
STUCK_S = 30.0


class _Unique(FakeVoice):
    """A fake voice of its own identity, so no other test's cached cues stand in for it."""

    def __init__(self, tag: str) -> None:
        super().__init__()
        self.tag = tag

    def identity(self) -> Mapping[str, str | int | float | bool]:
        """The fake voice's identity and this test's tag."""
        return {**super().identity(), "test": self.tag}


def _cobra_model(collection: Collection, choice: Choice) -> RoutineModel:
    """A builder on the tall cobra alone (few cues), choosing ``choice`` whatever is asked."""
    model = RoutineModel(collection, voice="auto", choose=lambda _name, *, offline=False: choice)
    for ex_id in ("knee-to-chest", "knee-sways", "knee-stirs"):
        model.exercises[ex_id].include = False
    return model


def _check_order(reports: list[Report]) -> None:
    """Stages in order; within each pass done grows one at a time to total; the build ends written."""
    stages = [stage for stage, _, _ in reports]
    assert stages == sorted(stages, key=STAGES.index)
    assert reports[-2:] == [("write", 0, 1), ("write", 1, 1)]
    speak = [(done, total) for stage, done, total in reports if stage == "speak"]
    for (prev_done, prev_total), (done, total) in pairwise(speak):
        assert 0 <= done <= total
        if prev_done == prev_total:
            continue  # the pass before ended: a new one starts where the cache leaves it
        if total < prev_total:
            assert done == prev_done == total  # given up: the total shrinks to what was done
            continue
        assert (done, total) == (prev_done + 1, prev_total)
    assert speak[-1][0] == speak[-1][1]


def test_progress_in_order_to_total(tmp_path: Path, preset: Callable[[str], Routine]) -> None:
    """A build reports the cues the cache gave first, then one more per cue spoken, then the writing."""
    cache = CueCache(tmp_path / "cache")
    voice = _Unique("order")
    build(preset("gentle"), voice=voice, options=BuildOptions(out_dir=tmp_path / "a"), cache=cache)
    reports: list[Report] = []
    result = build(
        preset("standard"),
        voice=voice,
        options=BuildOptions(out_dir=tmp_path / "b"),
        cache=cache,
        on_progress=lambda stage, done, total: reports.append((stage, done, total)),
    )
    _check_order(reports)
    cues = result.cues_cached + result.cues_synthesized
    assert 0 < result.cues_cached < cues
    assert reports[0] == ("speak", result.cues_cached, cues)  # what the cache gave, before any speech
    assert [r for r in reports if r[0] == "speak"][-1] == ("speak", cues, cues)


class _FailsAfter(FakeVoice):
    """A voice calling itself Piper that speaks ``good`` cues, then fails every one after."""

    name = "piper"

    def __init__(self, good: int) -> None:
        super().__init__()
        self.good = good

    def identity(self) -> Mapping[str, str | int | float | bool]:
        """Not the real Piper's cache key."""
        return {**super().identity(), "test": "fails-after"}

    def synthesize(self, text: str) -> Speech:
        """Speak, or fail once ``good`` cues were spoken."""
        if sum(self.calls.values()) >= self.good:
            raise VoiceError("the fake Piper stopped answering")
        return super().synthesize(text)


def test_builder_render_falls_back_mid_build(collection: Collection, tmp_path: Path) -> None:
    """A builder render with a voice "auto" picked moves on to the next engine when it fails mid-build,
    as the command line does, and the progress shows the given-up pass and the new one."""
    failing = _FailsAfter(good=3)
    model = _cobra_model(collection, Choice(failing, "auto picked piper", auto=True))
    reports: list[Report] = []
    result = model.render(tmp_path, on_progress=lambda s, d, t: reports.append((s, d, t)))
    assert sum(failing.calls.values()) == 3
    assert result.voice.startswith("espeak-ng")
    assert "piper failed during the build (the fake Piper stopped answering)" in result.voice_reason
    manifest = json.loads(result.manifest.read_text())
    assert manifest["voice"]["engine"] == "espeak"
    _check_order(reports)
    given_up = [i for i, (s, d, t) in enumerate(reports[1:], 1) if s == "speak" and t < reports[i - 1][2]]
    assert len(given_up) == 1
    assert reports[given_up[0]][1] == 3  # three cues were spoken before Piper failed


class _Parallel(_Unique):
    """A voice allowed four threads, whose first two cues each wait until the other has started."""

    parallel = 4

    def __init__(self) -> None:
        super().__init__("parallel")
        self.both_speaking = threading.Barrier(2, timeout=STUCK_S)
        self.started = 0
        self.speaking = 0  # calls under way now
        self.most_at_once = 0
        self._lock = threading.Lock()

    def synthesize(self, text: str) -> Speech:
        """Count the calls under way; the first two meet at the barrier (one thread alone never gets past)."""
        with self._lock:
            self.started += 1
            self.speaking += 1
            self.most_at_once = max(self.most_at_once, self.speaking)
            first_two = self.started <= 2
        try:
            if first_two:
                self.both_speaking.wait()
            return super().synthesize(text)
        finally:
            with self._lock:
                self.speaking -= 1


def test_builder_render_keeps_the_voices_threads(collection: Collection, tmp_path: Path) -> None:
    """A parallel engine is still called from several threads at once during a builder render."""
    voice = _Parallel()
    model = _cobra_model(collection, Choice(voice, "asked for parallel"))
    reports: list[Report] = []
    result = model.render(tmp_path, on_progress=lambda s, d, t: reports.append((s, d, t)))
    assert not voice.both_speaking.broken
    assert voice.most_at_once >= 2
    assert voice.started == result.cues_synthesized > 2
    _check_order(reports)


class _Hangs(_Unique):
    """A voice that never answers until released, and says it may take 0.2 s a cue."""

    timeout_s = 0.2

    def __init__(self) -> None:
        super().__init__("hangs")
        self.release = threading.Event()

    def synthesize(self, text: str) -> Speech:
        """Wait for the test to let go, then hum."""
        self.release.wait(STUCK_S)
        return super().synthesize(text)


def test_builder_render_keeps_the_voices_timeout(collection: Collection, tmp_path: Path) -> None:
    """A builder render gives up on a cue after the voice's own timeout, not the generous default."""
    voice = _Hangs()
    model = _cobra_model(collection, Choice(voice, "asked for hangs"))
    try:
        with pytest.raises(VoiceError, match=r"did not answer within 0\.2 s"):
            model.render(tmp_path)
    finally:
        voice.release.set()
    assert not list(tmp_path.glob("*.mp3"))


class _Stream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def test_terminal_progress_off_a_terminal() -> None:
    """Off a terminal: one line per pass that speaks, none when all is cached or for a late short pass."""
    out = _Stream(tty=False)
    progress = TerminalProgress(out)
    reports: list[Report] = [
        ("speak", 2, 5), ("speak", 3, 5),  # the first voice speaks one cue, then fails
        ("speak", 3, 3),  # given up
        ("speak", 1, 5), ("speak", 2, 5), ("speak", 3, 5), ("speak", 4, 5), ("speak", 5, 5),
        ("speak", 5, 6), ("speak", 6, 6),  # one cue more, to settle the welcome
        ("write", 0, 1), ("write", 1, 1),
    ]  # fmt: skip
    for report in reports:
        progress(*report)
    progress.close()
    assert out.getvalue() == (
        "Speaking 3 new cues (2 from the cache)...\nSpeaking 4 new cues (1 from the cache)...\n"
    )
    cached = _Stream(tty=False)
    all_cached = TerminalProgress(cached)
    all_cached("speak", 9, 9)
    all_cached("write", 1, 1)
    assert cached.getvalue() == ""


def test_terminal_progress_bar_on_a_terminal() -> None:
    """On a terminal the bar counts the cues spoken, under today's description, and is gone at the end."""
    out = _Stream(tty=True)
    progress = TerminalProgress(out)
    progress("speak", 1, 3)
    assert "Speaking 2 new cues (1 from the cache)" in out.getvalue() and "0/2" in out.getvalue()
    progress("speak", 2, 3)
    bar = progress._bar
    assert bar is not None and (bar.n, bar.total) == (1, 2)
    progress("speak", 3, 3)
    assert progress._bar is None and bar.n == 2  # closed, and (leave=False) cleared from the line
    assert "..." not in out.getvalue()  # no plain line where there is a bar


def test_widget_progress() -> None:
    """The builder's bar follows the cues ready, and its status line says what the build is doing."""
    bar, status = widgets.IntProgress(value=0, min=0, max=1), widgets.HTML()
    progress = WidgetProgress(bar, status)
    progress("speak", 2, 5)
    assert (bar.value, bar.max, status.value) == (2, 5, "Speaking the cues: 2 of 5 ready\u2026")
    progress("speak", 5, 5)
    progress("write", 0, 1)
    assert (bar.value, bar.max, status.value) == (5, 5, "Mixing, levelling and encoding\u2026")
