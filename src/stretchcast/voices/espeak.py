"""The last-resort voice: libespeak-ng from the ``espeakng-loader`` wheel, driven through ctypes.

Robotic but intelligible, about 10 ms a cue, and always available: nothing to download, no
network. libespeak-ng keeps global state, so one process-wide instance is set up once and every
call holds a lock.
"""

from __future__ import annotations

import ctypes
import logging
import threading
from collections.abc import Mapping
from typing import Any

import numpy as np

from stretchcast.errors import VoiceError
from stretchcast.voices.base import Speech

log = logging.getLogger(__name__)

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_ESPEAK_CHARS_UTF8 = 1
_ESPEAK_RATE = 1
_ESPEAK_VOLUME = 2
_ESPEAK_PITCH = 3
_SYNTH_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)

_lock = threading.Lock()
_engine: _Engine | None = None


class _Engine:
    """The loaded library, its sample rate and version; created once per process."""

    def __init__(self) -> None:
        try:
            import espeakng_loader

            self.lib = ctypes.CDLL(espeakng_loader.get_library_path())
            data_path = espeakng_loader.get_data_path()
        except (ImportError, OSError, RuntimeError) as err:
            raise VoiceError(
                f"espeak-ng is not available ({err})",
                fix="Reinstall stretchcast so that the espeakng-loader package is present.",
            ) from err
        lib = self.lib
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_SetSynthCallback.argtypes = [_SYNTH_CALLBACK]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_Synth.argtypes = [
            ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
            ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p,
        ]  # fmt: skip
        lib.espeak_Info.argtypes = [ctypes.c_void_p]
        lib.espeak_Info.restype = ctypes.c_char_p
        self.sample_rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data_path.encode(), 0)
        if self.sample_rate <= 0:
            raise VoiceError(f"espeak-ng failed to start (data folder {data_path})")
        self.version = (lib.espeak_Info(None) or b"?").decode()
        self._chunks: list[bytes] = []
        # Keep a reference: ctypes callbacks must outlive every call that may invoke them.
        self._callback = _SYNTH_CALLBACK(self._collect)
        lib.espeak_SetSynthCallback(self._callback)
        log.debug("espeak-ng %s loaded at %d Hz", self.version, self.sample_rate)

    def _collect(self, wav: Any, n: int, _events: Any) -> int:
        if n > 0 and wav:
            self._chunks.append(ctypes.string_at(wav, n * 2))
        return 0

    def speak(self, text: str, voice: str, rate: int, pitch: int) -> bytes:
        if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
            raise VoiceError(f"espeak-ng has no voice '{voice}'", fix="Try --espeak-voice en-us.")
        self.lib.espeak_SetParameter(_ESPEAK_RATE, rate, 0)
        self.lib.espeak_SetParameter(_ESPEAK_PITCH, pitch, 0)
        self.lib.espeak_SetParameter(_ESPEAK_VOLUME, 100, 0)
        data = text.encode() + b"\0"
        self._chunks = []
        status = self.lib.espeak_Synth(data, len(data), 0, 0, 0, _ESPEAK_CHARS_UTF8, None, None)
        if status != 0:
            raise VoiceError(f"espeak-ng could not speak {text!r} (status {status})")
        return b"".join(self._chunks)


def _get_engine() -> _Engine:
    global _engine  # noqa: PLW0603 - libespeak-ng is a process-wide singleton by design
    if _engine is None:
        _engine = _Engine()
    return _engine


class EspeakVoice:
    """espeak-ng: fast, offline, always there; the voice of last resort."""

    name = "espeak"

    def __init__(self, voice: str = "en-us", rate: int = 150, pitch: int = 45) -> None:
        if not 80 <= rate <= 450:
            raise VoiceError(f"espeak rate {rate} words per minute is out of range", fix="Use 80 to 450.")
        self.voice = voice
        self.rate = rate
        self.pitch = pitch

    def _engine(self) -> _Engine:
        with _lock:
            return _get_engine()

    def check(self) -> None:
        """Load libespeak-ng now; raises :class:`VoiceError` if it cannot be used."""
        self._engine()

    def identity(self) -> Mapping[str, str | int | float | bool]:
        """Engine, library version, voice, rate and pitch."""
        return {
            "engine": self.name,
            "version": self._engine().version,
            "voice": self.voice,
            "rate": self.rate,
            "pitch": self.pitch,
        }

    def describe(self) -> str:
        """E.g. "espeak-ng 1.52.0, voice en-us, 150 words per minute"."""
        return f"espeak-ng {self._engine().version}, voice {self.voice}, {self.rate} words per minute"

    def synthesize(self, text: str) -> Speech:
        """Speak ``text`` with libespeak-ng."""
        engine = self._engine()
        with _lock:
            pcm = engine.speak(text, self.voice, self.rate, self.pitch)
        if not pcm:
            raise VoiceError(f"espeak-ng produced no audio for {text!r}")
        return Speech.from_int16(np.frombuffer(pcm, dtype="<i2"), engine.sample_rate)
