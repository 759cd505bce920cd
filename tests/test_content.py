"""Content files load, match the source, and bad ones are refused with a positioned message."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from stretchcast.content import Collection, Routine, load_collection, load_exercise, load_routine
from stretchcast.errors import ContentError, UsageError

from .conftest import CONTENT, write


class TestShippedContent:
    """The four exercises say what the source says."""

    def test_four_exercises_in_order(self, collection: Collection) -> None:
        """The collection holds the four SI joint exercises, in the source's order."""
        assert [e.id for e in collection.exercises] == [
            "knee-to-chest",
            "knee-sways",
            "knee-stirs",
            "tall-cobra",
        ]

    def test_knee_to_chest_dose(self, collection: Collection) -> None:
        """Knee-to-chest alternates legs, 8 per side, 2-second holds, nothing else allowed."""
        ex = collection.exercise("knee-to-chest")
        assert ex.alternate and set(ex.sides) == {"left", "right"}
        assert (ex.ranges.reps.min, ex.ranges.reps.default, ex.ranges.reps.max) == (8, 8, 8)
        assert (ex.ranges.hold.min, ex.ranges.hold.max) == (2, 2)

    def test_knee_sways_dose(self, collection: Collection) -> None:
        """Knee sways: 4 to 8 per side, a few seconds each, alternating, left first."""
        ex = collection.exercise("knee-sways")
        assert (ex.ranges.reps.min, ex.ranges.reps.max) == (4, 8)
        assert 2 <= ex.ranges.hold.min <= ex.ranges.hold.default <= ex.ranges.hold.max <= 5
        assert ex.alternate and ex.sides[0] == "left"

    def test_knee_stirs_dose(self, collection: Collection) -> None:
        """Knee stirs: 4 to 8 circles each direction, each leg, no hold."""
        ex = collection.exercise("knee-stirs")
        assert (ex.ranges.reps.min, ex.ranges.reps.max) == (4, 8)
        assert ex.directions == ("clockwise", "counterclockwise")
        assert len(ex.sides) == 2 and not ex.alternate
        assert ex.ranges.hold.max == 0

    def test_tall_cobra_dose(self, collection: Collection) -> None:
        """Tall cobra: 3 times, 10-second holds, no sides."""
        ex = collection.exercise("tall-cobra")
        assert (ex.ranges.reps.min, ex.ranges.reps.max, ex.ranges.hold.min, ex.ranges.hold.max) == (
            3,
            3,
            10,
            10,
        )
        assert ex.sides == ()

    def test_safety_cautions_cover_the_brief(self, collection: Collection) -> None:
        """Cautions cover pain, red flags, pregnancy and osteoporosis."""
        text = " ".join(collection.cautions).lower()
        for needle in ("sharp pain", "spreads", "red flags", "pregnancy", "osteoporosis"):
            assert needle in text

    def test_sources_document_names_every_exercise(self) -> None:
        """SOURCES.md maps each exercise file to the source."""
        sources = (CONTENT / "SOURCES.md").read_text()
        for ex_id in ("knee-to-chest", "knee-sways", "knee-stirs", "tall-cobra"):
            assert f"exercises/{ex_id}.yaml" in sources

    @pytest.mark.parametrize("name", ["gentle", "standard", "full"])
    def test_presets_load(self, preset: Callable[[str], Routine], name: str) -> None:
        """Every preset loads with all four exercises."""
        assert len(preset(name).items) == 4

    def test_gentle_and_full_take_the_ends_of_the_ranges(self, preset: Callable[[str], Routine]) -> None:
        """Gentle takes the low end of every source range and full the top."""
        for name, end in (("gentle", "min"), ("full", "max")):
            for item in preset(name).items:
                r = item.exercise.ranges
                assert item.dose.reps == getattr(r.reps, end)
                assert item.dose.hold == getattr(r.hold, end)


class TestBadContent:
    """Malformed files are refused with the file, line, field and fix."""

    def _exercise_text(self, **changes: str) -> str:
        text = (CONTENT / "exercises" / "knee-sways.yaml").read_text()
        for old, new in changes.items():
            assert old in text
            text = text.replace(old, new)
        return text

    def test_unknown_key_in_exercise(self, tmp_path: Path) -> None:
        """An unknown key is an error naming it and suggesting the closest known one."""
        path = write(tmp_path, "knee-sways.yaml", self._exercise_text(**{"summary:": "summry:"}))
        with pytest.raises(ContentError) as err:
            load_exercise(path)
        assert "unknown field 'summry'" in err.value.message
        assert "Did you mean 'summary'" in err.value.message
        assert err.value.where is not None and err.value.where.line == 3

    def test_default_outside_range(self, tmp_path: Path) -> None:
        """A default outside its own min..max is refused."""
        path = write(
            tmp_path,
            "knee-sways.yaml",
            self._exercise_text(**{"default: 6, min: 4": "default: 9, min: 4"}),
        )
        with pytest.raises(ContentError, match=r"default 9 is not between min 4 and max 8"):
            load_exercise(path)

    def test_id_must_match_file_name(self, tmp_path: Path) -> None:
        """The id and the file name must agree, so ids stay unique."""
        path = write(tmp_path, "other.yaml", self._exercise_text())
        with pytest.raises(ContentError, match=r"does not match the file name"):
            load_exercise(path)

    def test_unknown_placeholder(self, tmp_path: Path) -> None:
        """A cue template with an unknown placeholder is refused before anything is spoken."""
        path = write(tmp_path, "knee-sways.yaml", self._exercise_text(**{'{side}."': '{sde}."'}))
        with pytest.raises(ContentError, match=r"unknown placeholder \{sde\}"):
            load_exercise(path)

    def test_python_tags_are_not_constructed(self, tmp_path: Path, collection: Collection) -> None:
        """A YAML tag that would build a Python object is an error, never executed."""
        path = write(
            tmp_path,
            "r.yaml",
            "title: !!python/object/apply:os.system ['echo hacked']\nexercises:\n  - id: knee-sways\n",
        )
        with pytest.raises(ContentError, match=r"YAML tag .* is not allowed"):
            load_routine(collection, path)

    def test_collection_lists_missing_exercise(self, tmp_path: Path) -> None:
        """A collection naming an exercise with no file says which one."""
        (tmp_path / "exercises").mkdir()
        write(tmp_path, "collection.yaml", (CONTENT / "collection.yaml").read_text())
        with pytest.raises(ContentError, match=r"no exercises/knee-to-chest\.yaml"):
            load_collection(tmp_path)


class TestRoutineFiles:
    """A user's routine file works like a preset, within the exercises' ranges."""

    def test_user_routine(self, tmp_path: Path, collection: Collection) -> None:
        """Overrides within range are applied; the slug comes from the file name."""
        path = write(
            tmp_path,
            "My Routine.yaml",
            "title: Mine\nrounds: 2\nexercises:\n  - id: knee-sways\n    reps: 5\n    hold: 4\n",
        )
        routine = load_routine(collection, path)
        assert routine.slug == "my-routine" and routine.rounds == 2
        assert (routine.items[0].dose.reps, routine.items[0].dose.hold) == (5, 4)

    @pytest.mark.parametrize(
        ("body", "message", "line"),
        [
            (
                "title: x\nexercises:\n  - id: knee-sways\n    reps: 40\n",
                "reps 40 is outside its allowed range, 4 to 8",
                4,
            ),
            ("title: x\nexercises:\n  - id: knee-sway\n", "no exercise called 'knee-sway'", 3),
            ("title: x\nexercises:\n  - id: knee-sways\n    rep: 4\n", "unknown field 'rep'", 4),
            ("title: x\nexercises: [\n", "YAML syntax error", 3),
            ("title: x\nexercises: []\n", "'exercises' is empty", 2),
            (
                "title: x\nexercises:\n  - id: tall-cobra\n    hold: 12\n",
                "the source allows no other value",
                4,
            ),
            (
                "title: x\nexercises:\n  - id: knee-sways\n  - id: knee-sways\n",
                "already exercise 1",
                4,
            ),
            (
                "title: x\nexercises:\n  - id: knee-sways\n    reps: 4.5\n",
                "must be a whole number",
                4,
            ),
            ("title: x\ntitle: y\nexercises:\n  - id: knee-sways\n", "'title' is given twice", 2),
        ],
    )
    def test_bad_routine(
        self, tmp_path: Path, collection: Collection, body: str, message: str, line: int
    ) -> None:
        """Each mistake is named, with the line it is on."""
        path = write(tmp_path, "r.yaml", body)
        with pytest.raises(ContentError) as err:
            load_routine(collection, path)
        assert message in err.value.message
        assert err.value.where is not None and err.value.where.line == line
        assert err.value.exit_code == 2

    def test_set_overrides(self, preset: Callable[[str], Routine]) -> None:
        """--set changes one dose field and checks it against the range."""
        routine = preset("standard").with_overrides(["knee-sways.reps=8"])
        assert routine.items[1].dose.reps == 8
        with pytest.raises(UsageError, match="4 to 8"):
            preset("standard").with_overrides(["knee-sways.reps=40"])
        with pytest.raises(UsageError, match="not of the form"):
            preset("standard").with_overrides(["knee-sways=4"])
        with pytest.raises(UsageError, match="Did you mean 'hold'"):
            preset("standard").with_overrides(["knee-sways.hodl=4"])


def _shape(node: object) -> object:
    """A node tree as plain data: kind, tag, value and where each node starts."""
    import yaml

    assert isinstance(node, yaml.Node)
    at = (type(node).__name__, node.tag, node.start_mark.line, node.start_mark.column)
    if isinstance(node, yaml.MappingNode):
        return (*at, [(_shape(k), _shape(v)) for k, v in node.value])
    if isinstance(node, yaml.SequenceNode):
        return (*at, [_shape(item) for item in node.value])
    return (*at, node.value)


YAML_FILES = sorted(p for p in CONTENT.parent.rglob("*.y*ml") if p.suffix in {".yaml", ".yml"})


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: str(p.relative_to(CONTENT.parent)))
def test_libyaml_reads_what_pyyaml_reads(path: Path) -> None:
    """libyaml's nodes for every content file are PyYAML's: kinds, tags, values and start positions."""
    from stretchcast.content import strict_yaml

    text = path.read_text(encoding="utf-8-sig")
    fast = strict_yaml._fast(text)
    assert fast is not None  # the fast path is taken for the shipped content
    assert _shape(fast) == _shape(strict_yaml._Loader(text).get_single_node())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: [1, 2\nb: 3\n", "YAML syntax error"),  # libyaml refuses it too; PyYAML's words are shown
        ("a:\n  - " + "[" * 40 + "1" + "]" * 40 + "\n", "nested more than 32 levels"),
        ("title: a\u0007b\n", "control character (U+0007)"),
        ("a: 1\n---\nb: 2\n", "YAML syntax error"),
        ("", "file is empty"),
    ],
)
def test_bad_yaml_told_as_pyyaml_tells_it(tmp_path: Path, text: str, expected: str) -> None:
    """Where libyaml finds fault, or the text is too deep or unprintable, PyYAML's message and line are given."""
    from stretchcast.content import strict_yaml

    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    assert strict_yaml._fast(text) is None
    with pytest.raises(ContentError, match=re.escape(expected)) as caught:
        strict_yaml.read_document(path)
    assert caught.value.where is not None and caught.value.where.path == path
