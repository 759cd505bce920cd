"""The exact length of a routine whose cues are all in the cue cache, found without speaking.

A build compiles the timeline twice: once with estimated speech lengths, to learn which sentences
to speak, then with each prepared cue's real length. When every sentence is already in the cue
cache for the voice that will speak, the second compile can be done now, from the cache alone, and
gives the very length the build will give (the same function, the same lengths). When any sentence
is missing, there is no exact length yet, and the builder shows its estimate, labelled as one.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping

from stretchcast.content import Routine
from stretchcast.errors import StretchcastError
from stretchcast.pipeline import DEFAULT_SAMPLE_RATE
from stretchcast.sound.prepared import prepared_info
from stretchcast.sound.signal import prepare_cue
from stretchcast.timeline import Timeline, compile_timeline
from stretchcast.voices import make_voice
from stretchcast.voices.cache import CueCache

log = logging.getLogger(__name__)

Identity = Mapping[str, str | int | float | bool]
CueLength = Callable[[str], "int | None"]


class _NotCachedError(Exception):
    """A sentence the cue cache does not hold yet: no exact length."""


class CachedLengths:
    """Cue lengths from the cue cache, per voice; None for a sentence not spoken yet.

    ``auto_engine`` is the engine "auto" would pick here (None: unknown, so no exact length for
    "auto"). A length once found is kept: a cache entry never changes for the same voice and text.
    """

    def __init__(
        self,
        cache: CueCache | None = None,
        *,
        sample_rate: int = DEFAULT_SAMPLE_RATE,
        auto_engine: str | None = None,
    ) -> None:
        self._cache = cache
        self.sample_rate = sample_rate
        self.auto_engine = auto_engine
        self._identities: dict[str, Identity | None] = {}
        self._known: dict[tuple[str, str], int] = {}

    @property
    def cache(self) -> CueCache:
        """The cue cache builds use (``$STRETCHCAST_CACHE`` or the user's), opened on first use."""
        if self._cache is None:
            self._cache = CueCache.default()
        return self._cache

    def engine(self, voice: str) -> str | None:
        """The engine that would speak for ``voice`` ("auto" resolved), or None if unknown."""
        return self.auto_engine if voice == "auto" else voice

    def _identity(self, engine: str) -> Identity | None:
        if engine not in self._identities:
            try:
                self._identities[engine] = dict(make_voice(engine).identity())
            except (StretchcastError, OSError) as err:  # an unknown or broken voice: estimate only
                log.debug("no identity for %s: %s", engine, err)
                self._identities[engine] = None
        return self._identities[engine]

    def length_ms(self, engine: str, text: str) -> int | None:
        """The prepared cue's length in whole milliseconds (as a build rounds it), or None.

        ``text`` is the spoken form (after the pronunciation table), as the cache keys it.
        """
        known = self._known.get((engine, text))
        if known is not None:
            return known
        identity = self._identity(engine)
        if identity is None:
            return None
        try:
            info = prepared_info(self.cache, identity, text, self.sample_rate)  # its header only
            if info is not None:
                samples = info.samples
            else:
                speech = self.cache.get(identity, text)
                if speech is None:
                    return None
                samples = len(prepare_cue(speech, self.sample_rate).samples)
        except (StretchcastError, OSError) as err:
            log.debug("cue cache lookup failed: %s", err)
            return None
        ms = math.ceil(samples * 1000 / self.sample_rate)
        self._known[(engine, text)] = ms
        return ms

    def exact_timeline(self, routine: Routine, voice: str) -> Timeline | None:
        """The timeline a build with ``voice`` would make, if every cue it needs is cached; else None."""
        engine = self.engine(voice)
        if engine is None:
            return None

        spoken = routine.collection.pronunciations.spoken  # the cache keeps cues by what is said

        def cached_ms(text: str) -> int:
            ms = self.length_ms(engine, spoken(text))
            if ms is None:
                raise _NotCachedError(text)
            return ms

        try:
            return compile_timeline(routine, cached_ms)
        except _NotCachedError:
            return None

    def plan_cached(self, routine: Routine, voice: str, estimated: Timeline) -> bool:
        """Whether every cue of the estimated plan ``estimated`` is in the cue cache for ``voice``.

        A build speaks the plan's cues first, then those of the exact timeline; the plan's welcome
        may say "about eleven minutes" where the exact one says "about ten". So a build runs without
        asking the voice when this holds and :meth:`exact_timeline` finds every cue too.
        """
        engine = self.engine(voice)
        if engine is None:
            return False
        spoken = routine.collection.pronunciations.spoken
        return all(self.length_ms(engine, spoken(text)) is not None for text in estimated.texts())


__all__ = ["CachedLengths"]
