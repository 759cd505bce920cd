"""The timeline compiler: exact, contiguous, and guiding the way the content says."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest

from stretchcast.content import Routine
from stretchcast.content.words import number
from stretchcast.pipeline import with_guidance
from stretchcast.timeline import COUNTDOWN_WORDS, Timeline, compile_timeline


def _holds(t: Timeline, exercise: str) -> list[int]:
    return [h.duration_ms for h in t.holds if h.exercise == exercise]


def _speech(t: Timeline, exercise: str | None = None, role: str | None = None) -> list[str]:
    return [
        e.text or ""
        for e in t.speech()
        if (exercise is None or e.exercise == exercise) and (role is None or e.role == role)
    ]


class TestStructure:
    """Invariants that hold for every routine."""

    @pytest.mark.parametrize("name", ["gentle", "standard", "full"])
    def test_contiguous(self, preset: Callable[[str], Routine], name: str) -> None:
        """Events start at 0, touch end to start, never overlap, and end at the duration."""
        t = compile_timeline(preset(name))
        assert t.events[0].start_ms == 0
        for a, b in zip(t.events, t.events[1:], strict=False):
            assert a.end_ms == b.start_ms and a.duration_ms > 0
        assert t.events[-1].end_ms == t.duration_ms

    def test_holds_start_when_their_cue_ends(self, preset: Callable[[str], Routine]) -> None:
        """Each hold starts the moment the rep cue before it has ended."""
        t = compile_timeline(preset("standard"))
        ends = {e.end_ms: e for e in t.events}
        for hold in t.holds:
            cue = ends[hold.start_ms]
            assert cue.kind == "speech" and cue.role == "rep"

    def test_holds_contain_only_silence_and_countdown(self, preset: Callable[[str], Routine]) -> None:
        """Inside a hold there is silence, and for long holds the countdown words, nothing else."""
        t = compile_timeline(preset("standard"))
        for hold in t.holds:
            inside = [e for e in t.events if hold.start_ms <= e.start_ms < hold.end_ms]
            assert all((e.kind == "silence" and e.role == "hold") or e.role == "countdown" for e in inside)

    def test_chapters_cover_the_track(self, preset: Callable[[str], Routine]) -> None:
        """Chapters run from 0 to the end without gaps: welcome, each exercise, finish."""
        t = compile_timeline(preset("standard"))
        assert [c.title for c in t.chapters] == [
            "Welcome",
            "Knee-to-chest stretch",
            "Knee sways",
            "Knee stirs",
            "Tall cobra",
            "Finish",
        ]
        assert t.chapters[0].start_ms == 0 and t.chapters[-1].end_ms == t.duration_ms
        for a, b in zip(t.chapters, t.chapters[1:], strict=False):
            assert a.end_ms == b.start_ms

    def test_real_lengths_move_everything_but_doses(self, preset: Callable[[str], Routine]) -> None:
        """With other speech lengths the times change but every hold and rest keeps its dose."""
        routine = preset("standard")
        a = compile_timeline(routine)
        b = compile_timeline(routine, lambda text: 100 + 37 * len(text))
        assert a.duration_ms != b.duration_ms
        assert [h.duration_ms for h in a.spans] == [h.duration_ms for h in b.spans]


class TestDoses:
    """The source's doses, as the timeline plays them."""

    def test_standard_holds(self, preset: Callable[[str], Routine]) -> None:
        """Standard has 16 knee-to-chest holds of 2 s and 3 tall-cobra holds of 10 s."""
        t = compile_timeline(preset("standard"))
        assert _holds(t, "knee-to-chest") == [2000] * 16
        assert _holds(t, "tall-cobra") == [10000] * 3
        assert _holds(t, "knee-sways") == [3000] * 12
        assert _holds(t, "knee-stirs") == []

    def test_knee_to_chest_alternates(self, preset: Callable[[str], Routine]) -> None:
        """Knee-to-chest reps alternate right and left, counted per side."""
        reps = _speech(compile_timeline(preset("standard")), "knee-to-chest", "rep")
        assert reps[:4] == [
            "One. Right knee to your chest.",
            "One. Left knee to your chest.",
            "Two. Right knee to your chest.",
            "Two. Left knee to your chest.",
        ]
        assert len(reps) == 16

    def test_knee_stirs_each_direction_each_leg(self, preset: Callable[[str], Routine]) -> None:
        """Knee stirs count 6 circles per direction per leg and switch legs once."""
        t = compile_timeline(preset("standard"))
        assert len(_speech(t, "knee-stirs", "rep")) == 6 * 2 * 2
        assert _speech(t, "knee-stirs", "direction") == ["Circle clockwise.", "Circle counterclockwise."] * 2
        assert _speech(t, "knee-stirs", "switch") == ["Switch legs."]

    def test_gentle_and_full_differ_as_ranges_say(self, preset: Callable[[str], Routine]) -> None:
        """Gentle has 4 sways per side held 2 s; full has 8 held 5 s; cobra is the same in both."""
        gentle, full = compile_timeline(preset("gentle")), compile_timeline(preset("full"))
        assert _holds(gentle, "knee-sways") == [2000] * 8
        assert _holds(full, "knee-sways") == [5000] * 16
        assert (
            len(_speech(gentle, "knee-stirs", "rep")) == 16 and len(_speech(full, "knee-stirs", "rep")) == 32
        )
        assert _holds(gentle, "tall-cobra") == _holds(full, "tall-cobra") == [10000] * 3
        assert gentle.duration_ms < compile_timeline(preset("standard")).duration_ms < full.duration_ms

    def test_sets_and_rounds_repeat(self, preset: Callable[[str], Routine]) -> None:
        """Two sets double an exercise's holds; two rounds double everything and add chapters."""
        base = preset("standard")
        two_sets = base.with_overrides(["tall-cobra.sets=2"])
        assert _holds(compile_timeline(two_sets), "tall-cobra") == [10000] * 6
        two_rounds = compile_timeline(dataclasses.replace(base, rounds=2))
        assert len(two_rounds.holds) == 2 * len(compile_timeline(base).holds)
        assert "Tall cobra (round 2)" in [c.title for c in two_rounds.chapters]


class TestGuidance:
    """What is said between the reps."""

    def test_countdown_only_in_long_holds(self, preset: Callable[[str], Routine]) -> None:
        """Holds of 5 s or more end with three, two, one on whole seconds; shorter ones are silent."""
        t = compile_timeline(preset("standard"))
        for hold in t.holds:
            words = [
                e for e in t.events if e.role == "countdown" and hold.start_ms <= e.start_ms < hold.end_ms
            ]
            if hold.duration_ms >= 5000:
                assert [e.text for e in words] == list(COUNTDOWN_WORDS)
                assert [hold.end_ms - e.start_ms for e in words] == [3000, 2000, 1000]
            else:
                assert words == []

    def test_no_countdown_no_chimes(self, preset: Callable[[str], Routine]) -> None:
        """--no-countdown and --no-chimes remove them; holds keep their length."""
        routine = with_guidance(preset("standard"), chimes=False, countdown=False)
        t = compile_timeline(routine)
        assert not [e for e in t.events if e.role == "countdown" or e.kind == "tone"]
        assert _holds(t, "tall-cobra") == [10000] * 3

    def test_pace_scales_movement_time(self, preset: Callable[[str], Routine]) -> None:
        """A pace factor of 1.5 makes every movement 1.5 times as long, holds unchanged."""
        slow = compile_timeline(with_guidance(preset("standard"), pace=1.5))
        normal = compile_timeline(preset("standard"))

        def moves(t: Timeline) -> list[int]:
            return [e.duration_ms for e in t.events if e.role == "move"]

        assert moves(slow) == [round(m * 1.5) for m in moves(normal)]
        assert [h.duration_ms for h in slow.holds] == [h.duration_ms for h in normal.holds]

    def test_welcome_rest_next_and_closing(self, preset: Callable[[str], Routine]) -> None:
        """A welcome with the safety reminder opens, rests announce what is next, a closing line ends."""
        t = compile_timeline(preset("standard"))
        said = _speech(t)
        assert said[0] == "Welcome. This is the standard SI joint routine."
        assert any("sharp pain" in s for s in _speech(t, role="safety"))
        assert _speech(t, role="next") == [
            "Next: Knee sways.",
            "Next: Knee stirs.",
            "Next: Tall cobra.",
        ]
        assert [r.duration_ms for r in t.rests] == [15000] * 3
        assert said[-1].startswith("Take your time getting up")
        assert "Exercise two of four: Knee sways." in said

    def test_welcome_states_the_real_length(self, preset: Callable[[str], Routine]) -> None:
        """The spoken length matches the compiled length, rounded to minutes."""
        t = compile_timeline(preset("standard"))
        minutes = round(t.duration_ms / 60000)
        assert f"about {number(minutes)} minutes" in _speech(t, role="welcome")[1]

    def test_halfway_and_last_one(self, preset: Callable[[str], Routine]) -> None:
        """Halfway is said once in long single runs; last one before each final rep."""
        t = compile_timeline(preset("standard"))
        assert _speech(t, "knee-to-chest", "progress") == ["Halfway.", "Last one on each side."]
        assert _speech(t, "knee-stirs", "progress") == ["Last one."] * 4
        assert _speech(t, "tall-cobra", "progress") == ["Last one."]

    def test_round_announced_after_the_chime(self, preset: Callable[[str], Routine]) -> None:
        """Each round opens with the chime, then "Round N of M", then the first exercise's name."""
        t = compile_timeline(dataclasses.replace(preset("standard"), rounds=2))
        for n, word in ((1, "one"), (2, "two")):
            i = next(i for i, e in enumerate(t.events) if e.text == f"Round {word} of two.")
            assert t.events[i - 1].kind == "tone" and t.events[i - 1].text == "start"
            after = next(e for e in t.events[i + 1 :] if e.kind == "speech")
            assert after.text == "Exercise one of four: Knee-to-chest stretch."
            chapter = [c for c in t.chapters if c.exercise == "knee-to-chest"][n - 1]
            assert chapter.start_ms == t.events[i - 1].start_ms


class TestSpeechAskedFor:
    """Compiling asks the voice only for what the track says."""

    def test_no_unused_cue(self, preset: Callable[[str], Routine]) -> None:
        """Every text whose length is asked for is spoken in the final track (no guessed welcome line)."""
        asked: set[str] = set()

        def speech_ms(text: str) -> int:
            asked.add(text)
            return 90 * len(text)

        t = compile_timeline(preset("standard"), speech_ms)
        assert asked == set(t.texts())
