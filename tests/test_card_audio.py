"""The exercise cards' play buttons: each instruction spoken as a track would say it."""

from __future__ import annotations

import base64
import io
import re

import pytest
import soundfile as sf

from stretchcast.content import Collection
from stretchcast.notebook.cards import exercise_card, speaker
from stretchcast.sound.say import say
from stretchcast.testing import FakeVoice


def _players(html: str) -> list[tuple[str, bytes]]:
    found = re.findall(r'<audio [^>]*title="Play: ([^"]*)" src="data:audio/mpeg;base64,([^"]+)"', html)
    return [(title, base64.b64decode(data)) for title, data in found]


def test_one_player_per_instruction(collection: Collection) -> None:
    """Every setup line and step has a player whose MP3 decodes to speech of that line."""
    voice = FakeVoice()
    ex = collection.exercise("tall-cobra")

    def speak(text: str) -> bytes:
        return say(text, voice, pronunciations=collection.pronunciations).encode("mp3")

    html = exercise_card(ex, number=4, speak=speak)
    players = _players(html)
    assert [title for title, _ in players] == [*ex.setup, *ex.steps]
    for _, mp3 in players:
        samples, rate = sf.read(io.BytesIO(mp3), dtype="float32")
        assert rate == 22050 and len(samples) > rate // 2
    assert set(voice.calls) == set(ex.setup) | set(ex.steps)


def test_no_speaker_no_players(collection: Collection) -> None:
    """Without a speaker the card is as before: text only, nothing spoken."""
    assert "<audio" not in exercise_card(collection.exercise("knee-sways"))


def test_speaker_uses_the_pronunciation_table(
    collection: Collection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The notebooks' speaker (fake voice, as under nbval) asks the voice for the spoken form."""
    monkeypatch.setenv("STRETCHCAST_VOICE", "fake")
    heard: list[str] = []
    original = FakeVoice.synthesize

    def listen(self: FakeVoice, text: str):  # type: ignore[no-untyped-def]
        heard.append(text)
        return original(self, text)

    monkeypatch.setattr(FakeVoice, "synthesize", listen)
    mp3 = speaker(collection)("Gentle movement helps your SI joint.")
    assert heard == ["Gentle movement helps your S I joint."]
    samples, _ = sf.read(io.BytesIO(mp3), dtype="float32")
    assert len(samples) > 0
