"""What the offline engines will say for a text, as IPA phonemes, without making any sound.

Used to check spoken forms (the pronunciation table, the cue templates) against the engines
themselves rather than by ear: espeak-ng through ``espeak_TextToPhonemes`` on the same library the
espeak voice loads, and Piper through ``PiperVoice.phonemize`` (its espeak-ng based phonemizer)
where piper-tts is installed. A clause or sentence break shows as `` | ``.
"""

from __future__ import annotations

import ctypes
import importlib.util
import json
import re
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from stretchcast.voices import espeak as _espeak


class SpokenForms(Protocol):
    """What turns a written text into what the voice is asked to say (the content's pronunciation table)."""

    def spoken(self, text: str) -> str:
        """``text`` as the voice should say it."""
        ...


class _AsWritten:
    def spoken(self, text: str) -> str:
        return text


_IPA = 0x02  # phonememode bit 1: IPA as UTF-8, not espeak's ASCII names
_CLAUSE = " | "


def espeak_phonemes(text: str, voice: str = "en-us") -> str:
    """espeak-ng's phonemes for ``text`` (IPA), one clause after another, joined by ``|``."""
    engine = _espeak.EspeakVoice(voice)._engine()
    lib = engine.lib
    lib.espeak_TextToPhonemes.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.c_int, ctypes.c_int]
    lib.espeak_TextToPhonemes.restype = ctypes.c_char_p
    data = ctypes.create_string_buffer(text.encode("utf-8") + b"\0")
    clauses: list[str] = []
    with _espeak._lock:
        if lib.espeak_SetVoiceByName(voice.encode()) != 0:
            raise ValueError(f"espeak-ng has no voice '{voice}'")
        pointer = ctypes.c_void_p(ctypes.addressof(data))
        # Each call phonemizes one clause and moves the pointer on; NULL once the text is used up.
        while pointer.value:
            out = lib.espeak_TextToPhonemes(ctypes.byref(pointer), _espeak._ESPEAK_CHARS_UTF8, _IPA)
            phonemes = (out or b"").decode("utf-8", "replace").strip()
            if phonemes:
                clauses.append(phonemes)
    return _CLAUSE.join(clauses)


def piper_available() -> bool:
    """Whether piper-tts (and so its phonemizer) is installed."""
    return importlib.util.find_spec("piper") is not None


_phonemizer: Any = None


def _piper_phonemizer() -> Any:
    """A ``piper.PiperVoice`` for the bundled voice's config, without its model.

    ``PiperVoice.phonemize`` needs only the config (which espeak-ng voice to use), so the model
    (~0.8 s to load) is left out; the config is checked against its pinned SHA-256 as for speech.
    """
    global _phonemizer  # noqa: PLW0603 - one per process, like the voice itself
    if _phonemizer is None:
        from piper import PiperConfig
        from piper import PiperVoice as _Piper

        from stretchcast.voices import piper as _piper

        files = _piper.ModelFiles.bundled()
        config = _piper._read_verified(files.config, files.config_sha256, "config")
        _phonemizer = _Piper(session=None, config=PiperConfig.from_dict(json.loads(config)))
    return _phonemizer


def piper_phonemes(text: str) -> str:
    """Piper's phonemes for ``text`` (what the Piper voice is given), sentence by sentence."""
    sentences = _piper_phonemizer().phonemize(text)
    return _CLAUSE.join("".join(s).strip() for s in sentences if "".join(s).strip())


#: Words the engines are known to misread, and the phonemes (IPA, stress marks left out) that give
#: the misreading away: "SI" read as one word, /siː/, the "see joint".  # noqa: RUF003
MISREADINGS: Mapping[str, tuple[str, ...]] = {"SI": ("siː",)}  # noqa: RUF001
_ALL_CAPS = re.compile(r"(?<![\w'])[A-Z]{2,}(?![\w'])")
_MARKS = re.compile(r"[ˈˌʲ]")  # stress, and Piper's palatal glide: not what makes a word
_BREAKS = re.compile(r"[|.,;:!?]")


def _tokens(phonemes: str) -> list[str]:
    """The words of ``phonemes``, stress marks and punctuation left out."""
    return _BREAKS.sub(" ", _MARKS.sub("", phonemes)).split()


def problems(
    text: str,
    pronunciations: SpokenForms = _AsWritten(),  # noqa: B008 - stateless
    *,
    phonemize: Callable[[str], str] = espeak_phonemes,
    misreadings: Mapping[str, tuple[str, ...]] = MISREADINGS,
) -> list[str]:
    """Why ``text``, spoken through ``pronunciations``, would be misheard; empty if nothing is found.

    Flags an all-capital word the table leaves as it is (engines read those as words or guess),
    and a word of ``misreadings`` whose tell-tale phonemes the engine produces for the text.
    """
    spoken = pronunciations.spoken(text)
    found = [
        f"'{word}' is all capitals and has no spoken form in pronunciation.yaml"
        for word in dict.fromkeys(_ALL_CAPS.findall(spoken))
    ]
    tokens = set(_tokens(phonemize(spoken)))
    for word, tells in misreadings.items():
        if re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text):
            for tell in tells:
                if tell in tokens:
                    found.append(f"'{word}' is read as /{tell}/ in {spoken!r}")
    return found


__all__ = [
    "MISREADINGS",
    "espeak_phonemes",
    "piper_available",
    "piper_phonemes",
    "problems",
]
