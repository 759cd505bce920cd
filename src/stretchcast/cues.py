"""The prepared audio of every cue a build needs; each distinct text is synthesized once."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable

from tqdm.auto import tqdm

from .audio import prepare_cue
from .errors import VoiceError
from .voices.base import Samples, Voice

log = logging.getLogger(__name__)


class CueSet:
    """Cue audio by text, at the track's sample rate, trimmed and levelled; made on first use."""

    def __init__(self, voice: Voice, sample_rate: int) -> None:
        self.voice = voice
        self.sample_rate = sample_rate
        self._audio: dict[str, Samples] = {}
        self.synthesized = 0

    def __contains__(self, text: str) -> bool:
        return text in self._audio

    def __len__(self) -> int:
        return len(self._audio)

    def prepare(self, texts: Iterable[str], *, progress: bool = False) -> None:
        """Make every cue in ``texts`` that is not made yet, with a progress bar if asked."""
        todo = [t for t in dict.fromkeys(texts) if t not in self._audio]
        for text in tqdm(
            todo, desc="Speaking cues", unit="cue", disable=not progress or not todo, leave=False
        ):
            self._make(text)

    def _make(self, text: str) -> Samples:
        speech = self.voice.synthesize(text)
        audio = prepare_cue(speech, self.sample_rate)
        if not len(audio):
            raise VoiceError(
                f"the {self.voice.name} voice returned silence for {text!r}",
                fix="Try another voice with --voice.",
            )
        self.synthesized += 1
        self._audio[text] = audio
        log.debug("cue %r: %.0f ms", text, len(audio) * 1000 / self.sample_rate)
        return audio

    def __getitem__(self, text: str) -> Samples:
        audio = self._audio.get(text)
        return audio if audio is not None else self._make(text)

    def length_ms(self, text: str) -> int:
        """The cue's length in whole milliseconds, rounded up so the audio always fits its event."""
        return math.ceil(len(self[text]) * 1000 / self.sample_rate)
