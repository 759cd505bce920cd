"""Google's text-to-speech through gTTS: a natural voice when the network is there.

gTTS builds each request (text pre-processing, the RPC body, headers); this module sends it,
because gTTS's own ``stream()`` opens a fresh ``requests`` session per piece with no timeout by
default, no retries, and no way to swap the HTTP layer. Here every request has a timeout, 429
and 5xx answers and read timeouts are retried with exponential backoff (honouring
``Retry-After``), requests are spaced out so that a build does not hammer the service, and the
HTTP layer (the base URL and the session factory) can be replaced: tests run against a fake
server on 127.0.0.1.

Text is cut into pieces under gTTS's 100-character limit at sentence ends where it can be, else
at clause ends (commas, semicolons, colons), else at spaces. The MP3 Google returns is decoded
with soundfile (libsndfile), never ffmpeg. Every cue's text is sent to Google.
"""

from __future__ import annotations

import base64
import importlib.metadata
import io
import logging
import os
import random
import re
import threading
import time
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

import numpy as np
import requests
import soundfile as sf

from stretchcast.errors import UsageError, VoiceError
from stretchcast.voices.base import Speech

log = logging.getLogger(__name__)

#: The Google endpoint gTTS uses; ``{tld}`` is the accent's top-level domain.
GOOGLE_URL = "https://translate.google.{tld}"
#: Environment variable that points the engine at another server (a proxy, or a fake in tests).
URL_ENV = "STRETCHCAST_GTTS_URL"
RPC_PATH = "/_/TranslateWebserverUi/data/batchexecute"
MAX_CHARS = 100  # gTTS's piece limit (gTTS.GOOGLE_TTS_MAX_CHARS)
PROBE_TEXT = "Hello."
RETRY_AFTER_CAP_S = 30.0
# The audio sits in the response as base64 inside an escaped JSON string, on the line naming the
# RPC; this is how gTTS 2.5's stream() finds it.
_AUDIO = re.compile(r'jQ1olc","\[\\"(.*?)\\"]')
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_CLAUSE = re.compile(r"(?<=[,;:])\s+")
_SPACE = re.compile(r"\s+")


def gtts_version() -> str:
    """The installed gTTS version, or "?" when it is missing."""
    try:
        return importlib.metadata.version("gTTS")
    except importlib.metadata.PackageNotFoundError:
        return "?"


def split_text(text: str, limit: int = MAX_CHARS) -> list[str]:
    """``text`` in pieces of at most ``limit`` characters: whole sentences where possible, else clauses.

    Consecutive sentences share a piece while they fit, so a cue costs as few requests as it can.
    Only a single word longer than ``limit`` is cut inside the word.
    """
    text = " ".join(text.split())
    return _pack(text, limit, (_SENTENCE, _CLAUSE, _SPACE)) if text else []


def _pack(text: str, limit: int, splitters: tuple[re.Pattern[str], ...]) -> list[str]:
    if len(text) <= limit:
        return [text]
    if not splitters:
        return [text[i : i + limit] for i in range(0, len(text), limit)]
    pieces: list[str] = []
    current = ""
    for part in (p for p in splitters[0].split(text) if p):
        if len(part) > limit:
            if current:
                pieces.append(current)
                current = ""
            pieces.extend(_pack(part, limit, splitters[1:]))
            continue
        candidate = f"{current} {part}" if current else part
        if len(candidate) <= limit:
            current = candidate
        else:
            pieces.append(current)
            current = part
    if current:
        pieces.append(current)
    return pieces


def _explain(err: requests.RequestException, host: str, timeout: float) -> str:
    """A short cause for a failed request, for people: "no network (...)", "no answer within 2 s"."""
    detail = repr(err)
    if isinstance(err, requests.Timeout):
        return f"no answer from {host} within {timeout:g} s"
    if "NameResolution" in detail or "resolve" in detail or "getaddrinfo" in detail:
        return f"no network (could not look up {host})"
    if "Connection refused" in detail or "ConnectionRefused" in detail:
        return f"{host} refused the connection"
    if isinstance(err, requests.exceptions.SSLError):
        return f"the secure connection to {host} failed"
    if isinstance(err, requests.exceptions.ProxyError):
        return "the proxy refused the connection"
    return f"the connection to {host} failed ({type(err).__name__})"


class _RetryableError(Exception):
    """An answer worth trying again after a while (429, 5xx, a read timeout)."""

    def __init__(self, cause: str, retry_after: float | None = None) -> None:
        super().__init__(cause)
        self.cause = cause
        self.retry_after = retry_after


class GttsVoice:
    """Google Translate's voice through gTTS: natural, needs the network, sends each cue's text to Google."""

    name = "gtts"
    #: Cues spoken at once: the time goes in waiting for the network, so threads help.
    parallel = 4

    def __init__(
        self,
        lang: str = "en",
        tld: str = "com",
        slow: bool = False,
        *,
        base_url: str | None = None,
        timeout: float = 10.0,
        probe_timeout: float = 2.0,
        retries: int = 4,
        backoff: float = 1.0,
        min_interval: float = 0.05,
        session_factory: Callable[[], requests.Session] = requests.Session,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        from gtts.lang import tts_langs

        if lang not in tts_langs():
            raise UsageError(f"gTTS has no language '{lang}'", fix="For example: --lang en (English).")
        if not re.fullmatch(r"[a-z]{2,3}(\.[a-z]{2,3})?", tld):
            raise UsageError(
                f"'{tld}' is not a Google domain ending", fix="For example: --tld com, co.uk, com.au."
            )
        self.lang = lang
        self.tld = tld
        self.slow = slow
        self.base_url = (base_url or os.environ.get(URL_ENV) or GOOGLE_URL.format(tld=tld)).rstrip("/")
        self.host = urlsplit(self.base_url).netloc or self.base_url
        self.timeout = timeout
        self.probe_timeout = probe_timeout
        self.retries = retries
        self.backoff = backoff
        self.min_interval = min_interval
        self._session_factory = session_factory
        self._sleep = sleep
        self._random = random.Random()
        self._slot_lock = threading.Lock()
        self._next_slot = 0.0
        #: Seconds the last successful probe took.
        self.answered_in: float | None = None
        # Set when a cue has used up its retries: the other threads then stop retrying at once
        # instead of each waiting out its own backoff before the build can fail over.
        self._gave_up: VoiceError | None = None

    def identity(self) -> Mapping[str, str | int | float | bool]:
        """Engine, gTTS version, language, accent, speed, and who answers (Google, or a test server)."""
        return {
            "engine": self.name,
            "version": gtts_version(),
            "lang": self.lang,
            "tld": self.tld,
            "slow": self.slow,
            "url": self.base_url,
        }

    def describe(self) -> str:
        """E.g. "Google TTS via gTTS 2.5.4, language en, accent com, normal speed"."""
        speed = "slow" if self.slow else "normal speed"
        return f"Google TTS via gTTS {gtts_version()}, language {self.lang}, accent {self.tld}, {speed}"

    def probe(self) -> float:
        """Ask Google for one short word, once, within ``probe_timeout``; seconds taken, or VoiceError."""
        began = time.monotonic()
        with self._session_factory() as session:
            for body in self._bodies(PROBE_TEXT):
                try:
                    mp3 = self._request(session, body, self.probe_timeout)
                except _RetryableError as err:
                    raise VoiceError(f"gTTS unavailable: {err.cause}") from err
                self._decode(mp3, PROBE_TEXT)
        self.answered_in = time.monotonic() - began
        log.debug("gTTS probe: %s answered in %.2f s", self.host, self.answered_in)
        return self.answered_in

    def check(self) -> None:
        """Probe Google now; raises :class:`VoiceError` saying why if it does not answer with audio."""
        self.probe()

    def synthesize(self, text: str) -> Speech:
        """Speak ``text`` with Google's voice: a request per piece, retried on 429, 5xx and timeouts."""
        parts: list[Speech] = []
        with self._session_factory() as session:
            for piece in split_text(text):
                for body in self._bodies(piece):
                    parts.append(self._decode(self._fetch(session, body, text), text))
        if not parts:
            raise VoiceError(f"gTTS has nothing to say in {text!r}")
        rate = parts[0].sample_rate
        if any(p.sample_rate != rate for p in parts):
            raise VoiceError(
                f"Google answered {text!r} at mixed sample rates", fix="Try again, or use --voice piper."
            )
        return Speech(np.concatenate([p.samples for p in parts]), rate)

    def _bodies(self, piece: str) -> list[str]:
        """The request bodies gTTS would send for ``piece`` (normally one)."""
        from gtts import gTTS
        from gtts.tokenizer import pre_processors

        # gTTS's "abbreviations" pre-processor drops the period after any word ending in "st",
        # "dr", "mr"... ("Rest." becomes "Rest", "chest." becomes "chest"), flattening the falling
        # tone at the end of a cue. Cues are written out for listening, with no abbreviations.
        keep = [pre_processors.tone_marks, pre_processors.end_of_line, pre_processors.word_sub]
        try:
            tts = gTTS(
                piece,
                tld=self.tld,
                lang=self.lang,
                slow=self.slow,
                lang_check=False,
                pre_processor_funcs=keep,
            )
            return [str(body) for body in tts.get_bodies()]
        except AssertionError as err:  # gTTS asserts when nothing is left to say after cleaning
            raise VoiceError(f"gTTS has nothing to say in {piece!r}") from err

    def _fetch(self, session: requests.Session, body: str, text: str) -> bytes:
        """One piece's MP3, trying again with backoff while the answer is worth retrying."""
        for attempt in range(self.retries + 1):
            if self._gave_up is not None:
                raise VoiceError(self._gave_up.problem, fix=self._gave_up.fix) from self._gave_up
            try:
                return self._request(session, body, self.timeout)
            except _RetryableError as err:
                if attempt == self.retries:
                    self._gave_up = VoiceError(
                        f"gTTS failed: {err.cause} after {attempt + 1} tries (on {text!r})",
                        fix="Try again later, or use --voice piper (offline).",
                    )
                    raise self._gave_up from err
                delay = self.backoff * 2**attempt
                delay += self._random.uniform(0, delay / 4)  # jitter: parallel retries do not collide
                if err.retry_after is not None:
                    delay = max(delay, min(err.retry_after, RETRY_AFTER_CAP_S))
                log.debug("gTTS: %s; try %d again in %.2f s", err.cause, attempt + 2, delay)
                self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    def _wait_for_slot(self) -> None:
        """Space request starts ``min_interval`` apart across threads."""
        with self._slot_lock:
            now = time.monotonic()
            wait = self._next_slot - now
            self._next_slot = max(now, self._next_slot) + self.min_interval
        if wait > 0:
            self._sleep(wait)

    def _request(self, session: requests.Session, body: str, timeout: float) -> bytes:
        """Send one body; the MP3 bytes, or :class:`_RetryableError`, or :class:`VoiceError` for the rest."""
        from gtts import gTTS

        self._wait_for_slot()
        url = self.base_url + RPC_PATH
        log.debug("gTTS POST %s (%d bytes)", url, len(body))
        try:
            with session.post(url, data=body, headers=gTTS.GOOGLE_TTS_HEADERS, timeout=timeout) as response:
                status = response.status_code
                reason = response.reason
                retry_after = response.headers.get("Retry-After")
                content = response.text if status == 200 else ""
        except requests.Timeout as err:
            raise _RetryableError(_explain(err, self.host, timeout)) from err
        except requests.RequestException as err:
            raise VoiceError(
                f"gTTS unreachable: {_explain(err, self.host, timeout)}",
                fix="Check the connection, or use --voice piper (offline).",
            ) from err
        log.debug("gTTS answer: HTTP %d %s", status, reason)
        if status == 429 or status >= 500:
            after = float(retry_after) if retry_after and retry_after.strip().isdigit() else None
            raise _RetryableError(f"HTTP {status} {reason} from {self.host}", after)
        if status != 200:
            cause = {403: "bad token or upstream API change", 404: f"unsupported accent '{self.tld}'"}
            raise VoiceError(
                f"gTTS failed: HTTP {status} {reason} from {self.host} "
                f"(probable cause: {cause.get(status, 'upstream API change')})",
                fix="Use --voice piper (offline), or update gTTS.",
            )
        found = _AUDIO.search(content)
        if not found:
            raise VoiceError(
                f"gTTS failed: {self.host} answered without audio (probable cause: unsupported "
                f"language '{self.lang}' or an upstream API change)",
                fix="Use --voice piper (offline), or update gTTS.",
            )
        try:
            return base64.b64decode(found.group(1), validate=True)
        except ValueError as err:
            raise VoiceError(f"gTTS failed: {self.host} answered with damaged audio data") from err

    def _decode(self, mp3: bytes, text: str) -> Speech:
        """Decode one piece's MP3 with libsndfile; anything that is not whole audio is an error."""
        try:
            samples, rate = sf.read(io.BytesIO(mp3), dtype="float32", always_2d=True)
        except (sf.LibsndfileError, RuntimeError, ValueError, TypeError) as err:
            raise VoiceError(
                f"gTTS failed: the audio {self.host} sent for {text!r} cannot be decoded ({err})",
                fix="Try again later, or use --voice piper (offline).",
            ) from err
        mono = samples.mean(axis=1, dtype=np.float32)
        if not len(mono) or not np.isfinite(mono).all():
            raise VoiceError(f"gTTS failed: {self.host} sent empty audio for {text!r}")
        return Speech(np.ascontiguousarray(mono), int(rate))
