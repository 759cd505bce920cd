"""The command line: what people type, what they read, and the exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mutagen.id3 import ID3

from stretchcast.cli import main

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
        assert "knee-sways" in out and "allowed 4 to 8" in out
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
        """An unknown option is a usage error with exit code 2."""
        with pytest.raises(SystemExit) as exc:
            main(["build", "--colour"])
        assert exc.value.code == 2
