"""``stretchcast say``: one line, spoken through the pronunciation table and levelling, into a file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyloudnorm
import pytest

from stretchcast.cli.main import main
from stretchcast.content import Collection
from stretchcast.errors import UsageError
from stretchcast.sound.say import say
from stretchcast.testing import FakeVoice

from .conftest import decode


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_say_speaks_the_spoken_form(collection: Collection) -> None:
    """The voice is asked for "S I joint"; the result keeps the written text beside it."""
    voice = FakeVoice()
    said = say("Your SI joint.", voice, pronunciations=collection.pronunciations)
    assert list(voice.calls) == ["Your S I joint."]
    assert (said.text, said.spoken) == ("Your SI joint.", "Your S I joint.")


def test_mp3_decodes_at_the_tracks_loudness(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The MP3 written decodes to the line's length, at about the track's -16 LUFS, under the ceiling."""
    out = tmp_path / "line.mp3"
    code, printed, _ = run(
        capsys, "say", "Get comfortable on your mat, and let's begin.", "--voice", "fake", "-o", str(out)
    )
    assert code == 0
    assert f"Wrote {out}" in printed
    decoded = decode(out)
    assert decoded.sample_rate == 22050
    assert 2000 < decoded.duration_ms < 6000
    lufs = pyloudnorm.Meter(decoded.sample_rate).integrated_loudness(decoded.samples.astype(np.float64))
    assert -17.5 < lufs < -15.0
    assert 20 * np.log10(np.abs(decoded.samples).max()) < -1.0


def test_wav_by_suffix_and_spoken_form_printed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A .wav name gives a WAV; the command says what the voice was asked to say."""
    out = tmp_path / "line.wav"
    code, printed, _ = run(capsys, "say", "Keep your SI joint moving.", "--voice", "fake", "-o", str(out))
    assert code == 0
    assert out.read_bytes()[:4] == b"RIFF"
    assert "Spoken as: Keep your S I joint moving." in printed
    assert decode(out).duration_ms > 1000


def test_unexpanded_capitals_are_pointed_out(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A line with an all-capital word the table does not know gets a hint to add it."""
    code, printed, _ = run(capsys, "say", "Ask your PT.", "--voice", "fake", "-o", str(tmp_path / "pt.mp3"))
    assert code == 0
    assert "'PT' is all capitals" in printed and "pronunciation.yaml" in printed


@pytest.mark.parametrize(
    ("args", "message"), [(["x", "-o", "x.ogg"], "cannot write a '.ogg' file"), (["..."], "nothing to say")]
)
def test_mistakes_exit_2_and_write_nothing(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    message: str,
) -> None:
    """A wrong suffix or an empty line is a mistake: exit 2, one plain line, no file."""
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "say", *args, "--voice", "fake")
    assert code == 2 and message in err
    assert list(tmp_path.iterdir()) == []


def test_say_refuses_a_paragraph() -> None:
    """More than a cue's worth of text is refused with what to do."""
    with pytest.raises(UsageError, match="at most 300"):
        say("Rest. " * 80, FakeVoice())
