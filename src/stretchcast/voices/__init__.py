"""Voices: engines that speak cues, behind the one :class:`Voice` interface.

``make_voice(name)`` builds an engine by name; ``choose_voice(name)`` makes sure it works here
(loads it, or asks Google) and, for "auto", picks the best engine that works and says why:
gTTS when Google answers a quick probe, else Piper, else espeak-ng. An engine asked for by name
never falls back: if it cannot work, :class:`~stretchcast.errors.VoiceError` says why.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from stretchcast.errors import UsageError, VoiceError, shown
from stretchcast.voices.base import Samples, Speech, Voice, parallelism

log = logging.getLogger(__name__)

#: Engine names people can ask for, in the order "auto" tries them.
ENGINES = ("gtts", "piper", "espeak")
_NETWORK_ENGINES = frozenset({"gtts"})
#: Where other packages (and ``stretchcast.testing``, for the fake voice) register more engines:
#: an entry point ``NAME = "module:factory"``, the factory taking :class:`VoiceSettings`.
ENTRY_POINT_GROUP = "stretchcast.voices"
RATE_RANGE = (0.7, 1.5)  # beyond this Piper stops sounding natural
ESPEAK_WPM = 150  # espeak-ng's words per minute at rate 1


@dataclass(frozen=True)
class VoiceSettings:
    """How the voice should speak: gTTS's language, accent and slow mode; the rate of the others."""

    lang: str = "en"
    tld: str = "com"
    slow: bool = False
    rate: float = 1.0  # speaking rate for piper and espeak: 0.8 is slower, 1.25 quicker

    def __post_init__(self) -> None:
        lo, hi = RATE_RANGE
        if not lo <= self.rate <= hi:
            raise UsageError(
                f"--rate {self.rate:g} is out of range", fix=f"Use {lo:g} to {hi:g}; 1 is normal."
            )


def make_voice(name: str, settings: VoiceSettings | None = None) -> Voice:
    """The engine called ``name``, set up but not yet loaded; never another engine."""
    s = settings or VoiceSettings()
    if name == "gtts":
        from stretchcast.voices.gtts import GttsVoice

        return GttsVoice(lang=s.lang, tld=s.tld, slow=s.slow)
    if name == "piper":
        from stretchcast.voices.piper import PiperVoice

        return PiperVoice(rate=s.rate)
    if name == "espeak":
        from stretchcast.voices.espeak import EspeakVoice

        return EspeakVoice(rate=round(ESPEAK_WPM * s.rate))
    factory = _registered(name)
    if factory is not None:
        return factory(s)
    raise UsageError(
        f"there is no voice called '{shown(name)}'",
        fix=f"Voices: auto, {', '.join(ENGINES)} ('stretchcast voices' shows which work here).",
    )


def _registered(name: str) -> Callable[[VoiceSettings], Voice] | None:
    """The factory an installed package registered for ``name``, if any."""
    # importlib.metadata (with email and its parsers) takes ~30 ms to import: only for a name that
    # is not built in
    from importlib.metadata import entry_points

    for ep in entry_points(group=ENTRY_POINT_GROUP, name=name):
        factory: Callable[[VoiceSettings], Voice] = ep.load()
        return factory
    return None


def ready_voice(name: str, settings: VoiceSettings | None = None) -> Voice:
    """The engine called ``name``, checked to work here: loaded, or Google asked; else VoiceError."""
    s = settings or VoiceSettings()
    if name == "gtts" and s.rate != 1.0:
        raise UsageError(
            f"gTTS cannot speak at rate {s.rate:g}",
            fix="Use --slow for gTTS, or --voice piper for any rate.",
        )
    if name in ("piper", "espeak") and s.lang != "en":
        raise UsageError(
            f"the {name} voice speaks only English, not '{s.lang}'",
            fix="Drop --lang, or use --voice gtts.",
        )
    voice = make_voice(name, s)
    check = getattr(voice, "check", None)
    if callable(check):
        check()
    return voice


@dataclass(frozen=True)
class Choice:
    """The voice a build will use, and why (shown to the user and kept in the manifest)."""

    voice: Voice
    reason: str
    #: Picked by "auto": if the engine fails mid-build, the next one in ENGINES takes over.
    auto: bool = False
    settings: VoiceSettings = field(default_factory=VoiceSettings)

    def after_failure(self, err: VoiceError) -> Choice | None:
        """For "auto", the next working engine after this one failed mid-build; None if asked by name."""
        if not self.auto or self.voice.name not in ENGINES:
            return None
        failed = f"{self.voice.name} failed during the build ({err.problem})"
        rest = ENGINES[ENGINES.index(self.voice.name) + 1 :]
        return _first_working(rest, self.settings, [failed])


def _first_working(names: tuple[str, ...], settings: VoiceSettings, why: list[str]) -> Choice:
    refused: list[UsageError] = []  # engines that refused the settings, rather than failing
    for name in names:
        try:
            voice = ready_voice(name, settings)
        except (VoiceError, UsageError) as err:
            log.debug("auto: %s does not work here: %s", name, err.problem)
            if isinstance(err, UsageError):
                refused.append(err)
            why.append(err.problem if err.problem.startswith(("gTTS", name)) else f"{name}: {err.problem}")
            continue
        reason = "; ".join([*why, f"using {name}"])
        return Choice(voice, reason, auto=True, settings=settings)
    if refused and len(refused) == len(names):
        # Every engine refused what was asked (a language none speaks): the input is at fault.
        raise UsageError("no voice can speak as asked: " + "; ".join(why), fix=refused[0].fix)
    raise VoiceError(
        "no voice works here: " + "; ".join(why),
        fix="Reinstall stretchcast so that piper-tts and espeakng-loader are present.",
    )


def choose_voice(
    name: str = "auto", *, offline: bool = False, settings: VoiceSettings | None = None
) -> Choice:
    """The voice to build with: ``name`` checked to work, or for "auto" the best engine that works here.

    "auto" asks Google once with a short probe (about two seconds at most) unless ``offline``.
    """
    s = settings or VoiceSettings()
    if name != "auto":
        if offline and name in _NETWORK_ENGINES:
            raise UsageError(
                f"--voice {name} needs the network, and --offline forbids it",
                fix="Drop --offline, or use --voice piper.",
            )
        return Choice(ready_voice(name, s), f"asked for {name}", settings=s)
    why: list[str] = []
    names: tuple[str, ...] = ENGINES
    if offline:
        why.append("offline: gTTS skipped")
        names = tuple(n for n in ENGINES if n not in _NETWORK_ENGINES)
    elif s.rate != 1.0:
        why.append(f"gTTS cannot speak at rate {s.rate:g}")
        names = tuple(n for n in ENGINES if n != "gtts")
    choice = _first_working(names, s, why)
    if choice.voice.name == "gtts":
        answered = getattr(choice.voice, "answered_in", None)
        took = f" in {answered:.1f} s" if isinstance(answered, float) else ""
        choice = Choice(choice.voice, f"Google answered{took}; using gtts", auto=True, settings=s)
    return choice


@dataclass(frozen=True)
class EngineStatus:
    """Whether an engine works here: its description if it does, the reason if not."""

    name: str
    available: bool
    detail: str


def engine_statuses(settings: VoiceSettings | None = None, *, offline: bool = False) -> list[EngineStatus]:
    """Each engine, checked: loaded, or Google asked (unless ``offline``)."""
    s = settings or VoiceSettings()
    statuses = []
    for name in ENGINES:
        if offline and name in _NETWORK_ENGINES:
            statuses.append(EngineStatus(name, False, "not tried: --offline"))
            continue
        try:
            voice = ready_voice(name, s)
        except (VoiceError, UsageError) as err:
            statuses.append(EngineStatus(name, False, err.problem))
        else:
            statuses.append(EngineStatus(name, True, voice.describe()))
    return statuses


__all__ = [
    "ENGINES",
    "Choice",
    "EngineStatus",
    "Samples",
    "Speech",
    "Voice",
    "VoiceSettings",
    "choose_voice",
    "engine_statuses",
    "make_voice",
    "parallelism",
    "ready_voice",
]
