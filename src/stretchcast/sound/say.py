"""One sentence spoken as a track would speak it: the same pronunciation table, the same cue levelling.

For a content author hearing a new line before building a routine (``stretchcast say``), and for
the play buttons on the notebooks' exercise cards. The sentence goes through ``CueSet``, the one
place a written text becomes what a voice is asked to say (and the cue cache, keyed by that), then
is lifted from the cues' level to the track's (-16 LUFS) as mastering would, with its true peak
kept under the ceiling mastering keeps.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import soundfile as sf

from stretchcast.content.pronunciation import NONE, Pronunciations
from stretchcast.errors import UsageError
from stretchcast.sound import mp3
from stretchcast.sound.cues import CueSet
from stretchcast.sound.master import CEILING_DBTP, TARGET_LUFS, coding_margin_db
from stretchcast.sound.signal import CUE_LOUDNESS_LUFS
from stretchcast.voices.base import Samples, Voice
from stretchcast.voices.cache import CueCache

Format = Literal["mp3", "wav"]
SAMPLE_RATE = 22050
BITRATE = 64
MAX_CHARS = 300  # one sentence or a few: what a cue is


@dataclass(frozen=True)
class Said:
    """A sentence as audio: what was written, what the voice was asked to say, and the samples."""

    text: str
    spoken: str
    samples: Samples
    sample_rate: int
    gain_db: float  # the lift from the cues' level towards the track's

    @property
    def duration_ms(self) -> int:
        """Length in milliseconds."""
        return math.ceil(len(self.samples) * 1000 / self.sample_rate)

    def encode(self, fmt: Format = "mp3", *, bitrate: int = BITRATE) -> bytes:
        """The audio as an MP3 (gapless header, mono) or a 16-bit WAV file's bytes."""
        pcm = np.clip(np.round(self.samples * 32768.0), -32768, 32767).astype(np.int16)
        buf = io.BytesIO()
        if fmt == "wav":
            sf.write(buf, pcm, self.sample_rate, format="WAV", subtype="PCM_16")
        else:
            writer = mp3.Mp3Writer(buf, self.sample_rate, bitrate)
            writer.write(pcm)
            writer.close()
        return buf.getvalue()


def say(
    text: str,
    voice: Voice,
    *,
    pronunciations: Pronunciations = NONE,
    sample_rate: int = SAMPLE_RATE,
    cache: CueCache | None = None,
) -> Said:
    """``text`` said by ``voice`` through ``pronunciations``, levelled as a cue, at the track's loudness."""
    text = " ".join(text.split())
    if not text or not any(c.isalnum() for c in text):
        raise UsageError("there is nothing to say", fix='Give a sentence, like: stretchcast say "Rest."')
    if len(text) > MAX_CHARS:
        raise UsageError(
            f"the text is {len(text)} characters long; at most {MAX_CHARS} are spoken at once",
            fix="Say one cue at a time: a sentence or two.",
        )
    cues = CueSet(voice, sample_rate, cache=cache, pronunciations=pronunciations)
    samples = cues[text]
    # Mastering lifts the cues (all at CUE_LOUDNESS_LUFS) to the track's loudness; one cue alone
    # gets the same lift, less where that would take its true peak past the ceiling and margin.
    headroom = CEILING_DBTP - coding_margin_db(sample_rate, BITRATE) - cues.true_peak_db(text)
    gain_db = min(TARGET_LUFS - CUE_LOUDNESS_LUFS, headroom)
    lifted = (samples * np.float32(10 ** (gain_db / 20))).astype(np.float32)
    return Said(text, pronunciations.spoken(text), lifted, sample_rate, gain_db)


def format_for(suffix: str) -> Format:
    """The audio format a file name's suffix asks for: .mp3 or .wav."""
    fmt = suffix.lower().lstrip(".")
    if fmt not in ("mp3", "wav"):
        raise UsageError(
            f"cannot write a '{suffix or 'suffix-less'}' file",
            fix="Name the file with .mp3 or .wav, like -o line.mp3.",
        )
    return "mp3" if fmt == "mp3" else "wav"


__all__ = ["BITRATE", "SAMPLE_RATE", "Said", "format_for", "say"]
