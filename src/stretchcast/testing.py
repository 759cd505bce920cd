"""Fakes for tests and notebooks: fast, offline, deterministic stand-ins for the real engines and Google."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import threading
import urllib.parse
from collections import Counter
from collections.abc import Iterable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Literal

import numpy as np
import soundfile as sf

from stretchcast.timeline import estimate_speech_ms
from stretchcast.voices import VoiceSettings
from stretchcast.voices.base import Speech


class FakeVoice:
    """A voice that hums instead of speaking: a tone as long as the words would take, the same every time.

    Each text gets its own pitch (from a SHA-256 of the text) and a 4 Hz syllable rhythm, so the
    result has the level, length and on/off shape of speech without any engine. ``calls`` counts
    how often each text was synthesized, for tests that check nothing is spoken twice.
    """

    name = "fake"

    def __init__(self, sample_rate: int = 22050, speed: float = 1.0) -> None:
        self.sample_rate = sample_rate
        self.speed = speed
        self.calls: Counter[str] = Counter()

    def identity(self) -> Mapping[str, str | int | float | bool]:
        """Engine name, rate and speed."""
        return {
            "engine": self.name,
            "version": "1",
            "sample_rate": self.sample_rate,
            "speed": self.speed,
        }

    def describe(self) -> str:
        """ "fake voice (tones, for tests)"."""
        return "fake voice (tones, for tests)"

    def synthesize(self, text: str) -> Speech:
        """A hum as long as ``text`` would take to say."""
        self.calls[text] += 1
        n = int(estimate_speech_ms(text) / self.speed * self.sample_rate / 1000)
        seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big")
        f0 = 110 + seed % 90
        t = np.arange(n, dtype=np.float64) / self.sample_rate
        voiced = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in (1, 2, 3, 4))
        syllables = 0.55 + 0.45 * np.sin(2 * np.pi * 4.0 * t + seed % 7) ** 2
        edge = np.minimum(1.0, np.minimum(t, t[::-1] if n else t) / 0.02)
        samples = (0.25 * voiced * syllables * edge).astype(np.float32)
        return Speech(samples, self.sample_rate)


def fake_voice(settings: VoiceSettings) -> FakeVoice:
    """The ``fake`` engine, registered under the ``stretchcast.voices`` entry point (pyproject.toml)."""
    return FakeVoice(speed=settings.rate)


def google_answer(mp3: bytes) -> bytes:
    """A body shaped like Google's batchexecute answer carrying ``mp3``, as gTTS 2.5 parses it."""
    payload = base64.b64encode(mp3).decode("ascii")
    compact = (",", ":")  # Google's separators; gTTS's pattern expects them
    inner = json.dumps([payload], separators=compact)
    rpc = json.dumps([["wrb.fr", "jQ1olc", inner, None, None, None, "generic"]], separators=compact)
    return f')]}}\'\n\n{len(rpc)}\n{rpc}\n25\n[["e",4,null,null,{len(rpc) + 60}]]\n'.encode()


def hum_mp3(text: str, sample_rate: int = 24000) -> bytes:
    """Real MP3 audio (a :class:`FakeVoice` hum as long as ``text`` would take), like Google's answers."""
    speech = FakeVoice(sample_rate=sample_rate).synthesize(text)
    buffer = io.BytesIO()
    sf.write(buffer, speech.samples, sample_rate, format="MP3")
    return buffer.getvalue()


#: What :class:`FakeGoogle` can do with a request.
Behaviour = Literal["ok", "429", "500", "503", "slow", "garbage", "no-audio", "bad-base64", "hang-up"]


class FakeGoogle:
    """Google's TTS endpoint, faked on 127.0.0.1: real MP3 audio, or scripted failures, one per request.

    ``script`` is consumed one behaviour per request; after it runs out every request gets
    ``then``. ``texts`` records the text each request asked for (decoded from gTTS's body), in
    order. Use as a context manager; ``url`` is the base URL to give :class:`GttsVoice`::

        with FakeGoogle(["429", "ok"]) as google:
            GttsVoice(base_url=google.url, backoff=0.01).synthesize("Hello.")
    """

    def __init__(
        self,
        script: Iterable[Behaviour] = (),
        *,
        then: Behaviour = "ok",
        slow_s: float = 60.0,
        retry_after: int | None = None,
    ) -> None:
        self._script = list(script)
        self._then = then
        self.slow_s = slow_s  # the longest a "slow" answer is held, should the test never end
        self._release = threading.Event()  # set when the test leaves the block: "slow" answers go
        self.retry_after = retry_after
        self._lock = threading.Lock()
        self.texts: list[str] = []
        self.behaviours: list[Behaviour] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-google", daemon=True)

    @property
    def url(self) -> str:
        """Where the fake listens, e.g. ``http://127.0.0.1:40123``."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> FakeGoogle:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def _next(self, text: str) -> Behaviour:
        with self._lock:
            self.texts.append(text)
            behaviour = self._script.pop(0) if self._script else self._then
            self.behaviours.append(behaviour)
            return behaviour

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                """Quiet: tests read ``texts`` and ``behaviours`` instead."""

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length).decode()
                text = _text_of(body)
                behaviour = fake._next(text)
                if behaviour == "hang-up":
                    self.close_connection = True
                    return
                if behaviour == "slow":
                    # held until the test is done with the fake: later than any client timeout,
                    # whatever the machine's load, and with no test waiting out a fixed delay
                    fake._release.wait(fake.slow_s)
                if behaviour in ("429", "500", "503"):
                    self._send(int(behaviour), b"busy")
                    return
                if behaviour == "garbage":
                    answer = google_answer(bytes(range(256)) * 8)
                elif behaviour == "no-audio":
                    answer = b')]}\'\n\n[["wrb.fr","other",null]]\n'
                elif behaviour == "bad-base64":
                    answer = b')]}\'\n\n[["wrb.fr","jQ1olc","[\\"%%%not base64%%%\\"]"]]\n'
                else:
                    answer = google_answer(hum_mp3(text))
                self._send(200, answer)

            def _send(self, status: int, body: bytes) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json; charset=utf-8")
                    self.send_header("Content-Length", str(len(body)))
                    if status == 429 and fake.retry_after is not None:
                        self.send_header("Retry-After", str(fake.retry_after))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (a timeout test): nothing to answer

        return Handler


def _text_of(body: str) -> str:
    """The text a gTTS request body asks for: ``f.req=[[["jQ1olc","[text,lang,speed,null]",...]]]``."""
    fields = urllib.parse.parse_qs(body)
    rpc = json.loads(fields["f.req"][0])
    return str(json.loads(rpc[0][0][1])[0])
