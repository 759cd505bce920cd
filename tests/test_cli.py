"""The command line: what people type, what they read, and the exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mutagen.id3 import ID3

from stretchcast.cli.main import main

from .conftest import write


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


class TestCommands:
    """list, plan and build do what their help says."""

    def test_list(self, capsys: pytest.CaptureFixture[str]) -> None:
        """list shows every exercise with its dose and range, and the presets with lengths."""
        code, out, _ = run(capsys, "list")
        assert code == 0
        for shown in (
            "reps 6 per side (4 to 8)",
            "hold 3 s (2 to 5)",
            "rest 15 s (5 to 60)",
            "sets 1 (1 to 3)",
        ):
            assert shown in out
        assert "pace 2 s (1 to 5)" in out and "hold 10 s (fixed)" in out and "hold: none" in out
        for name in ("gentle", "standard", "full"):
            assert name in out

    def test_plan_json(self, capsys: pytest.CaptureFixture[str]) -> None:
        """plan --json shows 16 knee-to-chest holds of 2000 ms and 3 tall-cobra holds of 10000 ms."""
        code, out, _ = run(capsys, "plan", "standard", "--json")
        assert code == 0
        data = json.loads(out)
        holds = [s for s in data["spans"] if s["kind"] == "hold"]
        k2c = [s["end_ms"] - s["start_ms"] for s in holds if s["exercise"] == "knee-to-chest"]
        cobra = [s["end_ms"] - s["start_ms"] for s in holds if s["exercise"] == "tall-cobra"]
        assert k2c == [2000] * 16 and cobra == [10000] * 3
        assert data["estimated"] is True

    def test_plan_set(self, capsys: pytest.CaptureFixture[str]) -> None:
        """--set changes what plan shows."""
        _, out, _ = run(capsys, "plan", "standard", "--set", "knee-sways.reps=8", "--json")
        sways = [s for s in json.loads(out)["spans"] if s["kind"] == "hold" and s["exercise"] == "knee-sways"]
        assert len(sways) == 16

    def test_build_prints_the_mp3(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        """build writes the MP3 (and with --split the tracks and playlist) and says where they are."""
        code, out, _ = run(
            capsys, "build", "gentle", "--voice", "fake", "--split", "--year", "2031", "-o", str(tmp_path)
        )
        assert code == 0
        assert f"MP3: {(tmp_path / 'gentle.mp3').resolve()}" in out
        assert f"Playlist: {tmp_path / 'gentle.m3u8'} (4 tracks)" in out
        manifest = json.loads((tmp_path / "gentle.json").read_text())
        assert len(manifest["split"]) == 4 and manifest["tags"]["year"] == 2031
        assert str(ID3(tmp_path / "gentle.mp3")["TDRC"].text[0]) == "2031"
        # the default back end, split tracks and all, and the summary says so
        assert manifest["audio"]["encoder"] == "frames"
        assert "Audio: each sound's MP3 frames, encoded once (frames; auto: no sounds overlap)" in out

    def test_build_encoder_pcm(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        """--encoder pcm masters and encodes the whole track, and the summary and manifest say so."""
        code, out, _ = run(
            capsys, "build", "gentle", "--voice", "fake", "--encoder", "pcm", "-o", str(tmp_path)
        )
        assert code == 0
        assert "Audio: the whole track mastered and encoded (pcm; asked for)" in out
        assert json.loads((tmp_path / "gentle.json").read_text())["audio"]["encoder"] == "pcm"

    def test_build_help_names_every_encoder(self, capsys: pytest.CaptureFixture[str]) -> None:
        """build --help says what frames, pcm and auto each do."""
        with pytest.raises(SystemExit):
            main(["build", "--help"])
        text = " ".join(capsys.readouterr().out.split())
        assert "--encoder {auto,frames,pcm}" in text
        for said in ("frames (each sound encoded once", "pcm (the whole track mastered", "or auto (default"):
            assert said in text


class TestBadInput:
    """Bad input: one plain message naming the problem, exit code 2, nothing written."""

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["build", "standard", "--set", "knee-sways.reps=40"], "4 to 8"),
            (["build", "nope"], "no routine called 'nope'"),
            (["build", "standrd"], "Did you mean 'standard'"),
            (["build", "--set", "knee-swys.reps=4"], "Did you mean 'knee-sways'"),
            (["build", "--pace", "3"], "--pace 3 is out of range"),
            (["build", "--bitrate", "33"], "bitrate 33 kbit/s"),
            (["build", "--voice", "robot"], "no voice called 'robot'"),
            (["build", "missing.yaml"], "routine file 'missing.yaml' not found"),
            (["build", "--year", "12"], "--year 12 is not a year"),
        ],
    )
    def test_rejected(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path, args: list[str], message: str
    ) -> None:
        """The message names the problem and the fix; no file is written."""
        out_dir = tmp_path / "out"
        code, _, err = run(capsys, *args, "-o", str(out_dir))
        assert code == 2
        assert message in err
        assert "Traceback" not in err and len(err.strip().splitlines()) <= 2
        assert not out_dir.exists() or not any(out_dir.iterdir())

    @pytest.mark.parametrize(
        ("body", "message"),
        [
            (
                "title: x\nexercises:\n  - id: knee-sways\n    rep: 4\n",
                "line 4, column 5, field 'exercises[0].rep': unknown field 'rep'",
            ),
            ("title: x\nexercises:\n  - id: knee-sways\n    reps: [4\n", "YAML syntax error"),
            ("title: x\nexercises:\n  - id: nope\n", "no exercise called 'nope'"),
        ],
    )
    def test_bad_files(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path, body: str, message: str
    ) -> None:
        """A bad routine file is named with line and field; nothing is written."""
        path = write(tmp_path, "r.yaml", body)
        code, _, err = run(capsys, "build", str(path), "-o", str(tmp_path / "out"))
        assert code == 2 and message in err and str(path) in err
        assert not (tmp_path / "out").exists()

    def test_argparse_errors_exit_2(self, capsys: pytest.CaptureFixture[str]) -> None:
        """An unknown option, or an encoder that is not one of the three, is a usage error with exit code 2."""
        with pytest.raises(SystemExit) as exc:
            main(["build", "--colour"])
        assert exc.value.code == 2
        with pytest.raises(SystemExit) as exc:
            main(["build", "--encoder", "lame"])
        assert exc.value.code == 2 and "choose from 'auto', 'frames', 'pcm'" in capsys.readouterr().err


class TestListJson:
    """list --json gives the same facts as data."""

    def test_every_range(self, capsys: pytest.CaptureFixture[str]) -> None:
        """Each exercise lists default, min and max of every dose field, and the presets their lengths."""
        code, out, _ = run(capsys, "list", "--json")
        data = json.loads(out)
        sways = next(e for e in data["exercises"] if e["id"] == "knee-sways")
        assert code == 0 and sways["dose"]["reps"] == {"default": 6, "min": 4, "max": 8, "unit": ""}
        assert set(sways["dose"]) == {"reps", "hold", "rest", "sets", "pace"}
        assert [r["name"] for r in data["routines"]] == ["gentle", "standard", "full"]


class TestArgumentMistakes:
    """What argparse catches reads like every other message: two lines, a suggestion, exit 2."""

    @pytest.mark.parametrize(
        ("args", "first", "second"),
        [
            (["biuld", "standard"], "there is no command 'biuld'", "Did you mean 'build'?"),
            (["build", "--pace", "fast"], "invalid float value: 'fast'", "stretchcast build --help"),
            (["build", "--pase", "1.5"], "unknown argument", "Did you mean '--pace'?"),
            (["build", "--no-chime"], "unknown argument: --no-chime", "Did you mean '--no-chimes'?"),
            ([], "a command is needed", "stretchcast list"),
            (["cache"], "'stretchcast cache' needs info|clear", "cache --help"),
        ],
    )
    def test_two_plain_lines(
        self, capsys: pytest.CaptureFixture[str], args: list[str], first: str, second: str
    ) -> None:
        """The message names the mistake and the way to the right words."""
        with pytest.raises(SystemExit) as exc:
            main(args)
        err = capsys.readouterr().err
        lines = err.strip().splitlines()
        assert exc.value.code == 2 and len(lines) == 2
        assert first in lines[0] and second in lines[1] and "usage:" not in err


class TestAdjustedRoutines:
    """A routine changed on the command line says so."""

    def test_adjusted_title(self, capsys: pytest.CaptureFixture[str]) -> None:
        """--set marks the title as adjusted, so tags, page and feed do not pass it off as the preset."""
        _, out, _ = run(capsys, "plan", "standard", "--set", "knee-sways.reps=8", "--json")
        assert json.loads(out)["title"] == "SI joint routine, standard (adjusted)"
        _, out, _ = run(capsys, "plan", "standard", "--json")
        assert json.loads(out)["title"] == "SI joint routine, standard"

    def test_adjusted_build_is_not_the_preset_track(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        """An adjusted build carries the adjusted title and no preset track number."""
        assert main(["build", "gentle", "--voice", "fake", "--pace", "1.2", "-o", str(tmp_path)]) == 0
        manifest = json.loads((tmp_path / "gentle.json").read_text())
        assert manifest["tags"]["title"].endswith("(adjusted)") and manifest["tags"]["tracks"] is None

    def test_new_names_its_origin(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        """'new' adds .yaml when missing and replaces the preset's description with where it came from."""
        assert main(["new", str(tmp_path / "morning"), "--from", "gentle", "--set", "knee-sways.reps=5"]) == 0
        text = (tmp_path / "morning.yaml").read_text()
        assert "description: Made from the 'gentle' routine with --set knee-sways.reps=5." in text
        assert f"stretchcast build {tmp_path / 'morning.yaml'}" in text


class TestVoiceInput:
    """A language no voice speaks is a mistake in the input, not a broken install."""

    def test_unknown_language(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        """--lang zz exits 2 with an example of a language, nothing written."""
        code, _, err = run(capsys, "build", "gentle", "--lang", "zz", "-o", str(tmp_path / "out"))
        assert code == 2 and "no voice can speak as asked" in err and "Reinstall" not in err
        assert not (tmp_path / "out").exists()
