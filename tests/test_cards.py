"""HTML for notebooks: every fact of an exercise on its card, every piece of text escaped."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import pytest

from stretchcast.content import Collection, Routine
from stretchcast.content.words import clock
from stretchcast.notebook.cards import (
    chapters_table,
    dose_lines,
    exercise_card,
    file_link,
    introduction,
    routines_table,
    size_text,
    summarize,
)
from stretchcast.pipeline import plan


class _Text(HTMLParser):
    """Collects the text of an HTML fragment and checks that its tags balance."""

    VOID = frozenset({"br", "img", "hr"})

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open[-1] == tag, f"</{tag}> closes {self.open[-1:]}"
        self.open.pop()

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def text_of(html: str) -> str:
    """The visible text of ``html`` with spaces tidied; fails if tags do not balance."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    assert parser.open == []
    return " ".join(" ".join(parser.parts).split())


class TestExerciseCard:
    """A card shows everything a person needs to do the exercise safely."""

    @pytest.mark.parametrize("ex_id", ["knee-to-chest", "knee-sways", "knee-stirs", "tall-cobra"])
    def test_everything_is_there(self, collection: Collection, ex_id: str) -> None:
        """Name, summary, position, every setup line and step, and every caution appear on the card."""
        ex = collection.exercise(ex_id)
        text = text_of(exercise_card(ex, number=2))
        assert f"2. {ex.name}" in text
        for line in (ex.summary, ex.position, *ex.setup, *ex.steps, *ex.cautions):
            assert " ".join(line.split()) in text, line

    def test_dose_and_range(self, collection: Collection) -> None:
        """The dose shows the standard value and the allowed range, with units and what a rep counts."""
        text = text_of(exercise_card(collection.exercise("knee-sways")))
        assert "Repetitions 6 per side 4 to 8 per side" in text
        assert "Hold 3 s 2 to 5 s" in text
        assert "Rest afterwards 15 s 5 to 60 s" in text

    def test_fixed_values_say_so(self, collection: Collection) -> None:
        """A value the source fixes is marked as such, and an exercise without holds says so."""
        k2c = text_of(exercise_card(collection.exercise("knee-to-chest")))
        assert "Repetitions 8 per leg fixed by the source" in k2c
        assert "Hold 2 s fixed by the source" in k2c
        stirs = text_of(exercise_card(collection.exercise("knee-stirs")))
        assert "Hold none continuous movement" in stirs
        assert [line.label for line in dose_lines(collection.exercise("knee-stirs"))][:2] == [
            "Repetitions",
            "Time for each movement",
        ]

    def test_routine_dose(self, collection: Collection, preset: Callable[[str], Routine]) -> None:
        """Given a routine's dose, the card shows that dose under 'this routine'."""
        item = preset("full").items[1]
        text = text_of(exercise_card(item.exercise, item.dose))
        assert "this routine" in text and "Repetitions 8 per side" in text

    def test_text_is_escaped(self, collection: Collection) -> None:
        """Markup in content text is shown as text, never run or rendered."""
        ex = dataclasses.replace(
            collection.exercise("tall-cobra"),
            name="<script>alert(1)</script>",
            steps=('Press "up" & <b>hold</b>',),
            cautions=("<img src=x onerror=alert(1)>",),
        )
        html = exercise_card(ex)
        assert "<script>" not in html and "<img src=x" not in html and "<b>hold" not in html
        text = text_of(html)
        assert "<script>alert(1)</script>" in text and 'Press "up" & <b>hold</b>' in text


class TestTables:
    """The introduction, the routines table, chapters and file links."""

    def test_introduction(self, collection: Collection) -> None:
        """The introduction has every paragraph and every caution of the collection."""
        text = text_of(introduction(collection))
        for line in (*collection.introduction, *collection.cautions):
            assert line in text

    def test_routines_table(self, collection: Collection, preset: Callable[[str], Routine]) -> None:
        """Each preset is a row with its title, what is in it, and its planned length."""
        rows = [summarize(name, preset(name), plan(preset(name))) for name in collection.presets()]
        text = text_of(routines_table(rows))
        for row in rows:
            assert row.name in text and row.title in text and clock(row.duration_ms) in text
        assert "Knee sways \u00d78, 5 s holds" in text  # full

    def test_routines_table_escapes(self, preset: Callable[[str], Routine]) -> None:
        """A routine's title and description are escaped."""
        routine = dataclasses.replace(preset("gentle"), title="<i>Mine</i>", description="a < b & c")
        html = routines_table([summarize("mine", routine, plan(routine))])
        assert "<i>Mine" not in html and "&lt;i&gt;Mine&lt;/i&gt;" in html and "a &lt; b &amp; c" in html

    def test_chapters(self, preset: Callable[[str], Routine]) -> None:
        """The chapters table lists every chapter with its start and length."""
        timeline = plan(preset("standard"))
        text = text_of(chapters_table(timeline))
        for ch in timeline.chapters:
            assert f"{clock(ch.start_ms)} {ch.title} {clock(ch.end_ms - ch.start_ms)}" in text

    def test_file_link(self, tmp_path: Path) -> None:
        """A link is relative to the notebook's folder, downloads under the file's name, shows the path."""
        path = tmp_path / "audio" / "my <routine>.mp3"
        html = file_link(path, base=tmp_path / "notebooks")
        assert re.search(r'href="\.\./audio/my &lt;routine&gt;\.mp3"', html)
        assert 'download="my &lt;routine&gt;.mp3"' in html
        assert str(path.resolve()).replace("<", "&lt;").replace(">", "&gt;") in html

    @pytest.mark.parametrize(("size", "text"), [(1, "1 kB"), (812_400, "812 kB"), (3_412_000, "3.4 MB")])
    def test_size_text(self, size: int, text: str) -> None:
        """Sizes read the way people say them."""
        assert size_text(size) == text
