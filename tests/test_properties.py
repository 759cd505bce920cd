"""Properties that hold for every valid routine, and loaders that only ever fail in our own words."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stretchcast.content import (
    Collection,
    Dose,
    Guidance,
    Routine,
    RoutineItem,
    load_collection,
    load_exercise,
    load_routine,
)
from stretchcast.errors import ContentError
from stretchcast.pipeline import BuildOptions, build
from stretchcast.testing import FakeVoice
from stretchcast.timeline import compile_timeline

from .conftest import CONTENT, decode

COLLECTION = load_collection(CONTENT)
BASE = load_routine(COLLECTION, "standard")
SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _value(rng_min: float, rng_max: float, whole: bool) -> st.SearchStrategy[float]:
    if whole:
        return st.integers(int(rng_min), int(rng_max)).map(float)
    steps = round((rng_max - rng_min) * 2)
    return st.integers(0, steps).map(lambda k: rng_min + k / 2)


@st.composite
def routines(draw: st.DrawFn, max_exercises: int = 4, max_rounds: int = 3) -> Routine:
    """Any routine the content allows: a subset of exercises in any order, any doses in range."""
    exercises = draw(st.permutations(COLLECTION.exercises))[: draw(st.integers(1, max_exercises))]
    items = []
    for ex in exercises:
        r = ex.ranges
        dose = Dose(
            reps=int(draw(_value(r.reps.min, r.reps.max, True))),
            hold=int(draw(_value(r.hold.min, r.hold.max, True))),
            pace=draw(_value(r.pace.min, r.pace.max, False)),
            rest=int(draw(_value(r.rest.min, r.rest.max, True))),
            sets=int(draw(_value(r.sets.min, r.sets.max, True))),
        )
        items.append(RoutineItem(ex, dose))
    guidance = Guidance(
        pace=draw(st.integers(5, 20)) / 10, chimes=draw(st.booleans()), countdown=draw(st.booleans())
    )
    return dataclasses.replace(
        BASE, items=tuple(items), rounds=draw(st.integers(1, max_rounds)), guidance=guidance
    )


def speech_lengths(seed: int) -> Callable[[str], int]:
    """A deterministic, arbitrary speech length per text, different for each seed.

    Each word takes 150 ms to a per-voice maximum drawn from the seed: some voices are quick enough
    for the countdown words to fit their one-second ticks, some are so slow that they do not.
    """
    max_per_word = (700, 1500)[seed % 2]

    def length(text: str) -> int:
        digest = int.from_bytes(hashlib.sha256(f"{seed}:{text}".encode()).digest()[:8], "big")
        n_words = max(1, len(text.split()))
        return (
            sum(150 + (digest >> (8 * i)) % (max_per_word - 150) for i in range(min(n_words, 8)))
            + 50 * n_words
        )

    return length


def _expected_holds(routine: Routine) -> list[int]:
    holds: list[int] = []
    for _ in range(routine.rounds):
        for item in routine.items:
            ex, dose = item.exercise, item.dose
            per_set = dose.reps * max(1, len(ex.sides)) * max(1, len(ex.directions))
            if dose.hold:
                holds += [dose.hold_ms] * per_set * dose.sets
    return holds


class TestTimelineProperties:
    """Whatever the routine and however long each cue takes to say."""

    @SETTINGS
    @given(routine=routines(), seed=st.integers(0, 2**32))
    def test_contiguous_exact_and_complete(self, routine: Routine, seed: int) -> None:
        """Events are sorted, contiguous and non-overlapping; holds and rests last exactly their dose."""
        t = compile_timeline(routine, speech_lengths(seed))
        assert t.events[0].start_ms == 0
        assert all(e.duration_ms > 0 for e in t.events)
        assert all(a.end_ms == b.start_ms for a, b in zip(t.events, t.events[1:], strict=False))
        assert sum(e.duration_ms for e in t.events) == t.duration_ms
        assert [h.duration_ms for h in t.holds] == _expected_holds(routine)
        rests = {item.exercise.id: item.dose.rest_ms for item in routine.items}
        assert all(r.duration_ms == rests[r.exercise] for r in t.rests if r.exercise)
        assert t.chapters[0].start_ms == 0 and t.chapters[-1].end_ms == t.duration_ms
        assert all(a.end_ms == b.start_ms for a, b in zip(t.chapters, t.chapters[1:], strict=False))

    @SETTINGS
    @given(routine=routines(), seed=st.integers(0, 2**32))
    def test_holds_are_silent_but_for_the_countdown(self, routine: Routine, seed: int) -> None:
        """Inside every hold there is only hold silence and, when enabled and long enough, the countdown."""
        t = compile_timeline(routine, speech_lengths(seed))
        for hold in t.holds:
            inside = [e for e in t.events if hold.start_ms <= e.start_ms < hold.end_ms]
            roles = {e.role for e in inside}
            assert roles <= {"hold", "countdown"}
            if "countdown" in roles:
                assert routine.guidance.countdown and hold.duration_ms >= 5000


class TestTrackProperties:
    """With the fake voice, the decoded audio is as long as the plan, for any short routine."""

    @settings(deadline=None, max_examples=4, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(routine=routines(max_exercises=1, max_rounds=1))
    def test_decoded_length_equals_plan(self, tmp_path_factory: Any, routine: Routine) -> None:
        """The MP3 decodes to the timeline's length, within one millisecond."""
        out = tmp_path_factory.mktemp("prop")
        result = build(routine, voice=FakeVoice(), options=BuildOptions(out_dir=out))
        assert abs(decode(result.mp3).duration_ms - result.timeline.duration_ms) <= 1


def _documents() -> st.SearchStrategy[Any]:
    keys = st.sampled_from(
        ["title", "exercises", "id", "reps", "hold", "rest", "sets", "pace", "rounds", "guidance", "voice"]
    ) | st.text(max_size=8)
    scalars = (
        st.none()
        | st.booleans()
        | st.integers(-(10**12), 10**12)
        | st.floats(allow_nan=True, allow_infinity=True)
        | st.text(max_size=30)
        | st.sampled_from(["knee-sways", "tall-cobra", "../x", "!!python/object"])
    )
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=5),
        max_leaves=20,
    )


class TestLoaderFuzz:
    """Whatever is in the file, the loaders either load it or raise ContentError, never anything else."""

    @SETTINGS
    @given(doc=_documents())
    def test_routine_documents(self, tmp_path_factory: Any, doc: Any) -> None:
        """Generated YAML documents of any shape load or raise ContentError."""
        path = tmp_path_factory.mktemp("fuzz") / "r.yaml"
        path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
        _load_or_content_error(lambda: load_routine(COLLECTION, path))

    @SETTINGS
    @given(raw=st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
    def test_routine_bytes(self, tmp_path_factory: Any, raw: bytes) -> None:
        """Arbitrary bytes load or raise ContentError."""
        path = tmp_path_factory.mktemp("fuzz") / "r.yaml"
        path.write_bytes(raw)
        _load_or_content_error(lambda: load_routine(COLLECTION, path))

    @SETTINGS
    @given(data=st.data())
    def test_exercise_mutations(self, tmp_path_factory: Any, data: st.DataObject) -> None:
        """A real exercise file with a field removed, renamed or given any value loads or raises ContentError."""
        doc = yaml.safe_load((CONTENT / "exercises" / "knee-stirs.yaml").read_text())
        key = data.draw(st.sampled_from(sorted(doc)))
        action = data.draw(st.sampled_from(["drop", "rename", "replace"]))
        if action == "drop":
            del doc[key]
        elif action == "rename":
            doc[data.draw(st.text(min_size=1, max_size=10))] = doc.pop(key)
        else:
            doc[key] = data.draw(_documents())
        path = tmp_path_factory.mktemp("fuzz") / "knee-stirs.yaml"
        path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
        _load_or_content_error(lambda: load_exercise(path))


def _load_or_content_error(load: Callable[[], object]) -> None:
    try:
        load()
    except ContentError as err:
        assert err.exit_code == 2 and err.message


def test_collection_fixture_is_the_shipped_one(collection: Collection) -> None:
    """The properties run on the same content the product ships."""
    assert Path(COLLECTION.root) == Path(collection.root)
