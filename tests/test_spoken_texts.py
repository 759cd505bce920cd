"""Every sentence a shipped routine can say, checked against what espeak-ng and Piper will say for it."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from stretchcast.content import Collection, Routine, load_routine
from stretchcast.content.pronunciation import NONE
from stretchcast.timeline import compile_timeline
from stretchcast.voices.phonemes import (
    espeak_phonemes,
    piper_available,
    piper_phonemes,
    problems,
)

from .conftest import CONTENT

PHONEMIZERS: dict[str, Callable[[str], str]] = {"espeak-ng": espeak_phonemes}
if piper_available():
    PHONEMIZERS["piper"] = piper_phonemes


def _routines(collection: Collection) -> Iterator[Routine]:
    """Every preset, and each preset with every dose across the whole range each exercise allows.

    A programme's weeks (``programmes/``) and any routine file can only choose doses within those
    ranges, so these are every cue text any of them can speak.
    """
    for name in collection.presets():
        yield load_routine(collection, name)
    standard = load_routine(collection, "standard")
    for ex in collection.exercises:
        for field in ("reps", "hold", "sets"):
            span = getattr(ex.ranges, field)
            for value in range(int(span.min), int(span.max) + 1):
                yield standard.with_overrides([f"{ex.id}.{field}={value}"])
    rounds = dataclasses.replace(standard, rounds=2)
    yield rounds


def _programme_lines() -> list[str]:
    """Every line of text in shipped programme files (titles and notes a week may speak)."""
    folder = CONTENT / "programmes"
    lines: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, str) and any(c.isalpha() for c in node):
            lines.append(node)
        elif isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        walk(yaml.safe_load(path.read_text(encoding="utf-8")))
    return lines


def spoken_texts(collection: Collection) -> list[str]:
    """Every distinct written text the shipped routines (and shipped programmes) can speak."""
    texts: dict[str, None] = {}
    for routine in _routines(collection):
        texts.update(dict.fromkeys(compile_timeline(routine).texts()))
    texts.update(dict.fromkeys(_programme_lines()))
    return list(texts)


@pytest.fixture(scope="module")
def texts(collection: Collection) -> list[str]:
    """The texts, with a floor on how many there are (so the test cannot pass by checking nothing)."""
    found = spoken_texts(collection)
    assert len(found) > 120
    assert any("SI joint" in t for t in found)
    return found


@pytest.mark.parametrize("engine", sorted(PHONEMIZERS))
def test_every_spoken_text_is_said_right(engine: str, texts: list[str], collection: Collection) -> None:
    """No spoken text keeps an all-capital word or phonemizes to a known misreading (SI as /siː/)."""  # noqa: RUF002
    phonemize = PHONEMIZERS[engine]
    found = {t: p for t in texts if (p := problems(t, collection.pronunciations, phonemize=phonemize))}
    assert found == {}


@pytest.mark.parametrize("engine", sorted(PHONEMIZERS))
def test_without_the_table_si_is_the_see_joint(engine: str, texts: list[str], collection: Collection) -> None:
    """With the SI entry removed, the same check fails: the welcome is read as the "see joint"."""
    phonemize = PHONEMIZERS[engine]
    without = dataclasses.replace(collection.pronunciations, entries=())
    assert without == NONE
    found = {t: p for t in texts if (p := problems(t, without, phonemize=phonemize))}
    welcome = "Welcome. This is the standard SI joint routine."
    assert welcome in found
    assert f"'SI' is read as /siː/ in {welcome!r}" in found[welcome]  # noqa: RUF001
    assert all("SI" in t for t in found)


@pytest.mark.parametrize("engine", sorted(PHONEMIZERS))
def test_welcome_spells_out_si(engine: str, collection: Collection) -> None:
    """The standard routine's welcome reaches the engine as the letters S, I: /ɛs aɪ/."""  # noqa: RUF002
    said = PHONEMIZERS[engine](collection.pronunciations.spoken("This is the standard SI joint routine."))
    assert "ˈɛs aɪ dʒˈɔɪnt" in said and "siː" not in said  # noqa: RUF001


@pytest.mark.parametrize("engine", sorted(PHONEMIZERS))
def test_rep_counts_stand_alone(engine: str, collection: Collection) -> None:
    """Every rep cue's count is its own sentence in the engine's phonemes, never run into the action."""
    phonemize = PHONEMIZERS[engine]
    standard = load_routine(collection, "full")
    reps = {e.text for e in compile_timeline(standard).speech() if e.role == "rep" and e.text}
    assert len(reps) > 20
    for text in sorted(reps):
        count = text.split(".")[0]
        first = phonemize(text).split(" | ")[0].rstrip(".")
        assert first == phonemize(f"{count}.").rstrip("."), text


def test_programme_lines_are_read_when_present(tmp_path: Path) -> None:
    """Lines in programme files are part of what is checked (an empty list when none ship)."""
    lines = _programme_lines()
    folder = CONTENT / "programmes"
    assert (len(lines) > 0) == (folder.is_dir() and any(folder.glob("*.yaml")))
