"""Every bad input gets one plain message naming where and what to do, exit code 2, and no output.

The table is the contract (docs/RELIABILITY.md lists it): each row is something a person might
type or save, the words the message must contain, and for files the line it must point at.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from stretchcast.cli import routines as routines_cli
from stretchcast.cli.main import main
from stretchcast.content import load_collection, load_routine
from stretchcast.errors import OutputError
from stretchcast.pipeline import BuildOptions, build
from stretchcast.testing import FakeVoice
from stretchcast.voices.base import Speech

from .conftest import CONTENT

GOOD = "title: Mine\nexercises:\n  - id: knee-sways\n"


@dataclass(frozen=True)
class Case:
    """One bad input: a routine file body (or raw bytes), extra CLI arguments, what the message says."""

    id: str
    routine: str | bytes | None  # None: use the standard preset
    args: tuple[str, ...]
    says: tuple[str, ...]
    line: int | None = None


ROUTINE_FILES = [
    Case(
        "yaml-syntax",
        "title: x\nexercises:\n  - id: knee-sways\n    reps: [4\n",
        (),
        ("YAML syntax error",),
        5,
    ),
    Case(
        "yaml-tab-indent",
        "title: x\nexercises:\n\t- id: knee-sways\n",
        (),
        ("a tab character", "spaces only"),
        3,
    ),
    Case("unknown-key", GOOD + "    rep: 4\n", (), ("unknown field 'rep'", "Did you mean 'reps'"), 4),
    Case("swapped-letters", GOOD + "    rpes: 4\n", (), ("unknown field 'rpes'", "Did you mean 'reps'"), 4),
    Case(
        "unclosed-quote",
        'title: "x\nexercises:\n  - id: knee-sways\n',
        (),
        ("a quote is opened here and never closed",),
        1,
    ),
    Case("top-level-list", "- id: knee-sways\n", (), ("found a list", "'title:' and 'exercises:'"), 1),
    Case("unknown-top-key", GOOD + "round: 2\n", (), ("unknown field 'round'", "Did you mean 'rounds'"), 4),
    Case("missing-title", "exercises:\n  - id: knee-sways\n", (), ("required field 'title' is missing",), 1),
    Case("missing-exercises", "title: x\n", (), ("required field 'exercises' is missing",), 1),
    Case("wrong-type-reps", GOOD + "    reps: six\n", (), ("expected a number", "'six'"), 4),
    Case("bool-for-number", GOOD + "    reps: yes\n", (), ("expected a number", "found true"), 4),
    Case("nan", GOOD + "    reps: .nan\n", (), ("expected a number",), 4),
    Case(
        "zero-reps",
        GOOD + "    reps: 0\n",
        (),
        ("reps 0 is outside its allowed range, 4 to 8", "Use a value from 4 to 8"),
        4,
    ),
    Case(
        "negative-hold", GOOD + "    hold: -3\n", (), ("hold -3s is outside its allowed range, 2 to 5 s",), 4
    ),
    Case("huge-rest", GOOD + "    rest: 1e30\n", (), ("rest 1e+30s is outside its allowed range",), 4),
    Case("infinite-rest", GOOD + "    rest: .inf\n", (), ("expected a number", "from 5 to 60"), 4),
    Case("fractional-reps", GOOD + "    reps: 4.5\n", (), ("must be a whole number",), 4),
    Case(
        "fixed-by-source",
        "title: x\nexercises:\n  - id: tall-cobra\n    hold: 12\n",
        (),
        ("the source allows no other value",),
        4,
    ),
    Case(
        "unknown-exercise",
        "title: x\nexercises:\n  - id: knee-sway\n",
        (),
        ("no exercise called 'knee-sway'", "Did you mean 'knee-sways'"),
        3,
    ),
    Case("duplicate-exercise", GOOD + "  - id: knee-sways\n", (), ("already exercise 1", "sets: 2"), 4),
    Case("empty-routine", "title: x\nexercises: []\n", (), ("'exercises' is empty",), 2),
    Case(
        "exercise-as-string",
        "title: x\nexercises:\n  - knee-sways\n",
        (),
        ("expected a mapping", "- id: knee-sways"),
        3,
    ),
    Case("empty-file", "", (), ("file is empty",)),
    Case(
        "non-utf8",
        b"title: caf\xe9\nexercises:\n  - id: knee-sways\n",
        (),
        ("is not UTF-8", "Save the file as UTF-8"),
        1,
    ),
    Case("long-title", f"title: {'x' * 5000}\n" + GOOD.split("\n", 1)[1], (), ("5000 characters long",), 1),
    Case(
        "python-tag",
        "title: !!python/object/apply:os.system ['touch /tmp/pwned']\nexercises:\n  - id: knee-sways\n",
        (),
        ("YAML tag", "not allowed"),
        1,
    ),
    Case(
        "duplicate-key",
        "title: a\ntitle: b\nexercises:\n  - id: knee-sways\n",
        (),
        ("'title' is given twice",),
        2,
    ),
    Case("two-documents", GOOD + "---\n" + GOOD, (), ("YAML syntax error",), 4),
    Case("rounds-zero", GOOD + "rounds: 0\n", (), ("0 is out of range", "from 1 to 10"), 4),
    Case("guidance-pace", GOOD + "guidance:\n  pace: 5\n", (), ("5 is out of range", "0.5 to 2"), 5),
    Case("bad-voice-name", GOOD + "voice: ../robot\n", (), ("is not a voice name",), 4),
    Case("exercises-not-list", "title: x\nexercises:\n  id: knee-sways\n", (), ("expected a list",), 3),
    # issue 21: nesting, null text, huge numbers, control characters
    Case(
        "deep-nesting",
        "title: x\nexercises: " + "[" * 600 + "]" * 600 + "\n",
        (),
        ("nested more than 32 levels deep",),
        2,
    ),
    Case(
        "deep-nesting-block",
        "title: x\nexercises:\n" + "".join("  " * i + "- \n" for i in range(1, 40)),
        (),
        ("nested more than 32 levels deep",),
    ),
    Case("null-title", "title: ~\n" + GOOD.split("\n", 1)[1], (), ("field 'title'", "found nothing"), 1),
    Case("empty-title-value", "title:\n" + GOOD.split("\n", 1)[1], (), ("found nothing",), 1),
    Case(
        "huge-integer",
        GOOD + f"    rest: {'9' * 400}\n",
        (),
        ("a number 400 characters long is out of range", "from 5 to 60"),
        4,
    ),
    Case(
        "huge-integer-5000-digits",
        GOOD + f"    reps: -{'1' * 5000}\n",
        (),
        ("a number 5001 characters long is out of range",),
        4,
    ),
    Case("huge-rounds", GOOD + f"rounds: {'7' * 400}\n", (), ("out of range", "from 1 to 10"), 4),
    Case(
        "title-escape-code",
        'title: "x\\e[2Jy"\n' + GOOD.split("\n", 1)[1],
        (),
        ("control character (U+001B)",),
        1,
    ),
    Case(
        "raw-control-character",
        b"title: ok\n\nexercises:\n  - id: knee-s\x07ways\n",
        (),
        ("line 4, column 15", "control character (U+0007)"),
        4,
    ),
    Case(
        "title-bidi-override",
        "title: abc\u202edef\n" + GOOD.split("\n", 1)[1],
        (),
        ("control character (U+202E)",),
        1,
    ),
    Case(
        "title-lone-joiner",
        "title: yoga\u200d\n" + GOOD.split("\n", 1)[1],
        (),
        ("control character (U+200D)",),
        1,
    ),
]

ARGUMENTS = [
    Case("set-out-of-range", None, ("--set", "knee-sways.reps=40"), ("--set knee-sways.reps=40", "4 to 8")),
    Case("set-bad-form", None, ("--set", "knee-sways=4"), ("EXERCISE.FIELD=VALUE",)),
    Case("set-not-number", None, ("--set", "knee-sways.reps=lots"), ("'lots' is not a number",)),
    Case("set-unknown-exercise", None, ("--set", "knee-swys.reps=4"), ("Did you mean 'knee-sways'",)),
    Case("set-unknown-field", None, ("--set", "knee-sways.hodl=4"), ("Did you mean 'hold'",)),
    Case("set-swapped-letters", None, ("--set", "knee-sways.rpes=6"), ("Did you mean 'reps'",)),
    Case(
        "set-not-in-routine",
        "title: x\nexercises:\n  - id: tall-cobra\n",
        ("--set", "knee-sways.reps=4"),
        ("not in the routine",),
    ),
    Case("set-nan", None, ("--set", "knee-sways.reps=nan"), ("'nan' is not a number",)),
    Case("pace-zero", None, ("--pace", "0"), ("--pace 0 is out of range",)),
    Case("bitrate", None, ("--bitrate", "33"), ("bitrate 33 kbit/s", "Use one of")),
    Case("sample-rate", None, ("--sample-rate", "8000"), ("sample rate 8000 Hz",)),
    Case("unknown-voice", None, ("--voice", "robot"), ("no voice called 'robot'",)),
    Case("name-escapes", None, ("--name", "../../etc/evil"), ("is not a plain file name", "etc-evil")),
    Case("name-absolute", None, ("--name", "/tmp/evil"), ("is not a plain file name",)),
    # issue 21: typed values shown escaped on one line, numbers too long for any range
    Case("set-newline", None, ("--set", "knee-sways.reps=4\n5\n6"), ("'4\\n5\\n6' is not a number",)),
    Case(
        "set-escape-code",
        None,
        ("--set", "knee-sways.\x1b[2J=4"),
        ("'\\x1b[2J' is not a dose field",),
    ),
    Case(
        "set-huge-integer",
        None,
        ("--set", f"knee-sways.rest={'9' * 400}"),
        ("a number 400 characters long is out of range", "from 5 to 60"),
    ),
    Case("set-infinite", None, ("--set", "knee-sways.rest=1e999"), ("'1e999' is out of range",)),
    Case("pace-infinite", None, ("--pace", "1e999"), ("--pace inf is out of range",)),
]


def _run(capsys: pytest.CaptureFixture[str], args: list[str]) -> tuple[int, str]:
    code = main(args)
    return code, capsys.readouterr().err


def _routine_arg(tmp_path: Path, case: Case) -> str:
    if case.routine is None:
        return "standard"
    path = tmp_path / "routine.yaml"
    if isinstance(case.routine, bytes):
        path.write_bytes(case.routine)
    else:
        path.write_text(case.routine, encoding="utf-8")
    return str(path)


def _check(code: int, err: str, case: Case, out: Path) -> None:
    assert code == 2, err
    for needle in case.says:
        assert needle in err, f"{case.id}: {needle!r} not in {err!r}"
    assert "Traceback" not in err
    assert 1 <= len(err.strip().splitlines()) <= 2, err
    if case.line is not None:
        assert f"line {case.line}" in err, err
    assert not out.exists(), f"{case.id}: output folder was created"


class TestRoutineFiles:
    """Mistakes in a routine file."""

    @pytest.mark.parametrize("case", ROUTINE_FILES, ids=[c.id for c in ROUTINE_FILES])
    def test_rejected(self, capsys: pytest.CaptureFixture[str], tmp_path: Path, case: Case) -> None:
        """The message names the file, the line and the problem; exit 2; nothing written."""
        routine = _routine_arg(tmp_path, case)
        out = tmp_path / "out"
        code, err = _run(capsys, ["build", routine, *case.args, "-o", str(out)])
        _check(code, err, case, out)
        assert routine in err


class TestArguments:
    """Mistakes on the command line."""

    @pytest.mark.parametrize("case", ARGUMENTS, ids=[c.id for c in ARGUMENTS])
    def test_rejected(self, capsys: pytest.CaptureFixture[str], tmp_path: Path, case: Case) -> None:
        """The message names the option and the allowed values; exit 2; nothing written."""
        out = tmp_path / "out"
        code, err = _run(capsys, ["build", _routine_arg(tmp_path, case), *case.args, "-o", str(out)])
        _check(code, err, case, out)

    def test_missing_routine_file(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        """A routine path that does not exist is named, with the presets offered instead."""
        out = tmp_path / "out"
        code, err = _run(capsys, ["build", str(tmp_path / "nope.yaml"), "-o", str(out)])
        _check(code, err, Case("missing", None, (), ("not found", "gentle, standard, full")), out)

    def test_routine_is_a_folder(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        """A folder given as a routine file is named as such."""
        folder = tmp_path / "dir.yaml"
        folder.mkdir()
        out = tmp_path / "out"
        code, err = _run(capsys, ["build", str(folder), "-o", str(out)])
        _check(code, err, Case("folder", None, (), ("is a folder, not a routine file",)), out)


def _content_copy(tmp_path: Path) -> Path:
    root = tmp_path / "content"
    shutil.copytree(CONTENT, root)
    return root


CONTENT_EDITS = [
    # (id, file inside the collection, old text, new text, words the message must contain)
    (
        "exercise-unknown-key",
        "exercises/knee-sways.yaml",
        "summary:",
        "sumary:",
        ("unknown field 'sumary'", "Did you mean 'summary'"),
    ),
    (
        "exercise-range-inverted",
        "exercises/knee-sways.yaml",
        "min: 4, max: 8",
        "min: 8, max: 4",
        ("is not between min 8 and max 4",),
    ),
    (
        "exercise-bad-side",
        "exercises/knee-sways.yaml",
        "sides: [left, right]",
        "sides: [left, up]",
        ("'up' is not one of left, right",),
    ),
    (
        "exercise-bad-template",
        "exercises/knee-sways.yaml",
        '{side}."',
        '{sde}."',
        ("unknown placeholder {sde}",),
    ),
    (
        "exercise-id-mismatch",
        "exercises/knee-sways.yaml",
        "id: knee-sways",
        "id: knee-sway",
        ("does not match the file name",),
    ),
    (
        "collection-missing-exercise",
        "collection.yaml",
        "  - tall-cobra\n",
        "  - tall-cobra\n  - side-plank\n",
        ("no exercises/side-plank.yaml",),
    ),
    (
        "exercise-deep-nesting",
        "exercises/knee-sways.yaml",
        "summary:",
        "notes: " + "{a: " * 200 + "1" + "}" * 200 + "\nsummary:",
        ("nested more than 32 levels deep",),
    ),
    (
        "preset-deep-nesting",
        "routines/standard.yaml",
        "exercises:",
        "notes: " + "[" * 500 + "]" * 500 + "\nexercises:",
        ("routines/standard.yaml", "nested more than 32 levels deep"),
    ),
    (
        "exercise-null-name",
        "exercises/knee-sways.yaml",
        "name: Knee sways",
        "name: ~",
        ("field 'name'", "found nothing"),
    ),
    (
        "exercise-huge-default",
        "exercises/knee-sways.yaml",
        "max: 8}",
        f"max: {'8' * 400}}}",
        ("a number 400 characters long is out of range",),
    ),
    (
        "exercise-huge-reps",
        "exercises/knee-sways.yaml",
        "max: 8}",
        "max: 800}",
        ("800 is out of range", "from 1 to 50"),
    ),
    (
        "collection-bad-placeholder",
        "collection.yaml",
        "This is {routine}.",
        "This is {name}.",
        ("unknown placeholder {name}", "{routine}"),
    ),
    (
        "pronunciation-not-a-word",
        "pronunciation.yaml",
        "SI: S I\n",
        "SI: S I\nS I: ess eye\n",
        ("'S I' is not a single written word",),
    ),
]


class TestContentFiles:
    """Mistakes in the exercise and collection files, for people editing content."""

    @pytest.mark.parametrize(
        ("id_", "file", "old", "new", "says"), CONTENT_EDITS, ids=[c[0] for c in CONTENT_EDITS]
    )
    def test_rejected(
        self,
        capsys: pytest.CaptureFixture[str],
        tmp_path: Path,
        id_: str,
        file: str,
        old: str,
        new: str,
        says: tuple[str, ...],
    ) -> None:
        """Every command refuses a broken collection, naming the file and the problem; nothing written."""
        root = _content_copy(tmp_path)
        path = root / file
        text = path.read_text()
        assert old in text
        path.write_text(text.replace(old, new, 1))
        out = tmp_path / "out"
        code, err = _run(capsys, ["--content", str(root), "build", "-o", str(out)])
        _check(code, err, Case(id_, None, (), says), out)
        assert str(path) in err

    def test_not_a_content_folder(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        """--content pointing at the wrong folder says what a content folder looks like."""
        out = tmp_path / "out"
        code, err = _run(capsys, ["--content", str(tmp_path), "list"])
        assert code == 2 and "no collection.yaml here" in err and "--content" in err
        assert not out.exists()


def test_table_is_big_enough() -> None:
    """The issue asks for at least 25 bad-input cases; the table holds them all."""
    assert len(ROUTINE_FILES) + len(ARGUMENTS) + len(CONTENT_EDITS) + 3 >= 25


# -- issue 21: odd paths, output paths, 'new', an unwritable standard output ----------------------


def _fifo(tmp: Path) -> Path:
    path = tmp / "pipe.yaml"
    os.mkfifo(path)
    return path


def _device(tmp: Path) -> Path:
    path = tmp / "zero.yaml"
    path.symlink_to("/dev/zero")
    return path


def _loop(tmp: Path) -> Path:
    path = tmp / "loop.yaml"
    path.symlink_to(path.name)
    return path


def _huge(tmp: Path) -> Path:
    path = tmp / "huge.yaml"
    path.write_text(GOOD + "# " + "x" * (300 * 1024) + "\n")
    return path


def _file_in_path(tmp: Path) -> Path:
    (tmp / "plain").write_text("not a folder")
    return tmp / "plain" / "routine.yaml"


def _escape_name(tmp: Path) -> Path:
    return tmp / "x\x1b[2J\x1b[H.yaml"  # does not exist: the name is echoed, and must be escaped


#: (case id, make the routine path in a temporary folder, words the message must contain)
ROUTINE_PATHS: list[tuple[str, Callable[[Path], Path], tuple[str, ...]]] = [
    ("routine-is-fifo", _fifo, ("is a named pipe (FIFO), not a content file",)),
    ("routine-is-device", _device, ("is a device, not a content file",)),
    ("routine-symlink-loop", _loop, ("symbolic link that leads round in a loop",)),
    ("routine-huge-file", _huge, ("file is 300 KiB; a content file is at most 256 KiB",)),
    ("routine-under-a-file", _file_in_path, ("a part of its path is a file",)),
    ("routine-name-escape-codes", _escape_name, ("x\\x1b[2J\\x1b[H.yaml' not found",)),
]


class TestOddPaths:
    """A routine file that is not a regular file is refused at once, with its true reason."""

    @pytest.mark.parametrize(("id_", "make", "says"), ROUTINE_PATHS, ids=[c[0] for c in ROUTINE_PATHS])
    def test_rejected(
        self,
        capsys: pytest.CaptureFixture[str],
        tmp_path: Path,
        id_: str,
        make: Callable[[Path], Path],
        says: tuple[str, ...],
    ) -> None:
        """Exit 2, one or two lines naming the path (escaped), never 'not found' for a file that exists."""
        path = make(tmp_path)
        out = tmp_path / "out"
        code, err = _run(capsys, ["build", str(path), "-o", str(out)])
        _check(code, err, Case(id_, None, (), says), out)
        assert "\x1b" not in err
        if os.path.lexists(path):
            assert "not found" not in err

    def test_exercise_file_linked_to_a_device(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        """An exercise file that is a link to /dev/zero is refused without being read."""
        root = _content_copy(tmp_path)
        path = root / "exercises" / "knee-sways.yaml"
        path.unlink()
        path.symlink_to("/dev/zero")
        code, err = _run(capsys, ["--content", str(root), "list"])
        assert code == 2 and "is a device, not a content file" in err and str(path) in err, err

    def test_collection_index_is_a_fifo(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        """A collection.yaml that is a FIFO is named as one, not as a missing file."""
        root = _content_copy(tmp_path)
        (root / "collection.yaml").unlink()
        os.mkfifo(root / "collection.yaml")
        code, err = _run(capsys, ["--content", str(root), "list"])
        assert code == 2 and "named pipe (FIFO)" in err and "no collection.yaml" not in err, err


def _mp3_is_folder(out: Path) -> None:
    (out / "standard.mp3").mkdir(parents=True)


def _manifest_is_loop(out: Path) -> None:
    out.mkdir()
    (out / "standard.json").symlink_to("standard.json")


def _split_folder_is_file(out: Path) -> None:
    out.mkdir()
    (out / "standard").write_text("in the way")


def _out_is_loop(out: Path) -> None:
    out.symlink_to(out.name)


def _out_is_file(out: Path) -> None:
    out.write_text("a file")


#: (case id, spoil the output folder, extra arguments, words the message must contain)
OUTPUT_PATHS: list[tuple[str, Callable[[Path], None], tuple[str, ...], tuple[str, ...]]] = [
    ("output-mp3-is-folder", _mp3_is_folder, (), ("cannot write the MP3: a folder is in its place",)),
    ("output-manifest-loop", _manifest_is_loop, (), ("cannot write the manifest", "loop")),
    ("output-split-is-file", _split_folder_is_file, ("--split",), ("a file is where their folder goes",)),
    ("output-folder-loop", _out_is_loop, (), ("symbolic link that leads round in a loop",)),
    ("output-folder-is-file", _out_is_file, (), ("it is a file, not a folder",)),
]


class TestOutputPaths:
    """Every output path is checked before a voice is chosen or a cue spoken: exit 4 with a fix."""

    @pytest.mark.parametrize(("id_", "spoil", "args", "says"), OUTPUT_PATHS, ids=[c[0] for c in OUTPUT_PATHS])
    def test_refused_before_synthesis(
        self,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path,
        id_: str,
        spoil: Callable[[Path], None],
        args: tuple[str, ...],
        says: tuple[str, ...],
    ) -> None:
        """The command line refuses before choosing a voice; pipeline.build refuses before speaking."""
        out = tmp_path / "out"
        spoil(out)
        before = sorted(p.name for p in tmp_path.rglob("*"))

        def no_voice(*_a: object, **_k: object) -> None:
            raise AssertionError("a voice was chosen before the output paths were checked")

        monkeypatch.setattr(routines_cli, "choose_voice", no_voice)
        code, err = _run(capsys, ["build", "-o", str(out), *args])
        assert code == 4, err
        assert all(s in err for s in says), err
        assert "Traceback" not in err and len(err.strip().splitlines()) == 2, err  # the problem and a fix
        assert sorted(p.name for p in tmp_path.rglob("*")) == before

        spoken: list[str] = []

        class Mute(FakeVoice):
            def synthesize(self, text: str) -> Speech:
                spoken.append(text)
                return super().synthesize(text)

        routine = load_routine(load_collection(CONTENT), "standard")
        with pytest.raises(OutputError, match=says[0].split(":")[0]):
            build(routine, voice=Mute(), options=BuildOptions(out_dir=out, split=bool(args)), cache=False)
        assert spoken == []


#: (case id, arguments after 'new', words the message must contain)
NEW_ARGS: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = [
    ("new-empty-name", ("",), ("'' is not a file name",)),
    ("new-title-control", ("mine.yaml", "--title", "a\x1b[2Jb"), ("--title: contains a control character",)),
    ("new-title-too-long", ("mine.yaml", "--title", "x" * 500), ("--title: text is 500 characters long",)),
    ("new-title-lone-joiner", ("mine.yaml", "--title", "yoga\u200d"), ("--title: contains a control",)),
]


class TestNew:
    """'new' checks what it writes by the rules a routine file is read by."""

    @pytest.mark.parametrize(("id_", "args", "says"), NEW_ARGS, ids=[c[0] for c in NEW_ARGS])
    def test_rejected(
        self,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path,
        id_: str,
        args: tuple[str, ...],
        says: tuple[str, ...],
    ) -> None:
        """Exit 2, the flag named, nothing written."""
        monkeypatch.chdir(tmp_path)
        code, err = _run(capsys, ["new", *args])
        _check(code, err, Case(id_, None, (), says), tmp_path / "out")
        assert list(tmp_path.iterdir()) == []

    def test_emoji_title_round_trips(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        """A title with real emoji sequences (ZWJ, skin tone, flags) is written and read back as typed."""
        monkeypatch.chdir(tmp_path)
        title = "\U0001f9d8\U0001f3fd\u200d\u2640\ufe0f Calm \U0001f3f4\U000e0067\U000e0062\U000e0077\U000e006c\U000e0073\U000e007f \U0001f1ec\U0001f1e7"
        assert main(["new", "mine.yaml", "--title", title]) == 0
        capsys.readouterr()
        assert load_routine(load_collection(CONTENT), tmp_path / "mine.yaml").title == title


def test_unknown_argument_is_shown_escaped(capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown argument holding terminal escape codes is echoed escaped, on the usual two lines."""
    with pytest.raises(SystemExit) as exc:
        main(["list", "x\x1b[2J\x1b[31mRED\nmore"])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "\x1b" not in err and len(err.strip().splitlines()) == 2, err
    assert "unknown argument" in err and r"x\x1b[2J\x1b[31mRED\nmore" in err, err


class TestStdout:
    """An unwritable standard output is a plain error, not a traceback."""

    def test_dev_full(self) -> None:
        """'stretchcast list > /dev/full' exits 4 with two plain lines."""
        with open("/dev/full", "w") as full:  # noqa: PTH123
            done = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    "import sys; from stretchcast.cli.main import main; sys.exit(main())",
                    "list",
                ],
                stdout=full,
                stderr=subprocess.PIPE,
                text=True,
                check=False,
                timeout=120,
            )
        assert done.returncode == 4, done.stderr
        assert "cannot write to the standard output (No space left on device)" in done.stderr
        assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 2, done.stderr
