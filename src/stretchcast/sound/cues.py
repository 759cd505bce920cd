"""The prepared audio of every cue a build needs; each distinct text is spoken once, ever.

A cue comes from the persistent cue cache when any earlier build spoke it with the same voice;
only the others reach the engine, in parallel where the engine allows (threads for gTTS, which
mostly waits on the network). Engine output is rounded to 16-bit PCM before anything else, which
is exactly what the cache stores, so a track built from the cache is bit-identical to the one
built fresh. The cache also keeps each cue as prepared for the track (with its true peak), so a
rebuild reads it back instead of decoding and measuring it again.

A cue is asked for by its written text (what the timeline, captions and manifest hold) and spoken
by its *spoken* text: the collection's pronunciation table applied (``SI`` -> ``S I``). This is the
one place a cue's text becomes what an engine is asked to say, and the cue cache is keyed by the
spoken text, so no engine sees a written form and a new table entry re-speaks only the cues it
changes, once. Written texts that say the same thing share one spoken cue.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, as_completed

import numpy as np
import numpy.typing as npt

from stretchcast.content.pronunciation import NONE, Pronunciations
from stretchcast.errors import VoiceError
from stretchcast.progress import ProgressCallback, no_progress
from stretchcast.sound.prepared import PreparedInfo, prepared_info, put_prepared, read_prepared
from stretchcast.sound.signal import PreparedCue, prepare_cue
from stretchcast.voices import Choice
from stretchcast.voices.base import Samples, Speech, Voice, cue_timeout, parallelism
from stretchcast.voices.cache import CueCache

log = logging.getLogger(__name__)


class CueSet:
    """Cue audio by text, at the track's sample rate, trimmed and levelled; made on first use.

    ``prepare`` makes sure every cue exists and learns its length; a cue already prepared in the
    cache is known from its file's header alone, and its samples are read only when something
    asks for them (``cues[text]``): a track written from frames never does, so a warm build reads
    ~100 headers instead of ~75 MB of samples and energy.

    ``synthesized`` counts the cues the engine spoke; ``cached`` those the cache gave back.
    ``on_progress`` is told of every cue made, as stage "speak" (see :mod:`stretchcast.progress`).
    ``pronunciations`` turns each written text into what the voice is asked to say.
    """

    def __init__(
        self,
        voice: Voice,
        sample_rate: int,
        *,
        cache: CueCache | None = None,
        on_progress: ProgressCallback = no_progress,
        pronunciations: Pronunciations = NONE,
    ) -> None:
        self.voice = voice
        self.sample_rate = sample_rate
        self.cache = cache
        self.on_progress = on_progress
        self.pronunciations = pronunciations
        self._length: dict[str, int] = {}  # written text -> samples, for every cue made
        self._spoken: dict[str, str] = {}  # written text -> what the voice says
        self._fingerprint: dict[str, int] = {}  # spoken text -> its prepared file's CRC, when kept
        self._audio: dict[str, Samples] = {}  # written text -> samples, once read
        self._peaks: dict[str, float] = {}
        self._energy: dict[str, npt.NDArray[np.float64]] = {}
        self._identity: Mapping[str, str | int | float | bool] | None = None
        self.synthesized = 0
        self.cached = 0

    def __contains__(self, text: str) -> bool:
        return text in self._length

    def __len__(self) -> int:
        return len(self._length)

    @property
    def identity(self) -> Mapping[str, str | int | float | bool]:
        """The voice's identity, asked once (it may load the engine)."""
        if self._identity is None:
            self._identity = dict(self.voice.identity())
        return self._identity

    def prepare(self, texts: Iterable[str]) -> None:
        """Make every cue in ``texts`` that is not made yet: from the cache, else from the engine."""
        wanted: dict[str, list[str]] = {}  # spoken text -> the written texts that say it
        for text in dict.fromkeys(texts):
            if text not in self._length:
                wanted.setdefault(self.pronunciations.spoken(text), []).append(text)
        new: list[str] = []
        for spoken, written in wanted.items():
            info = self._info(spoken)
            if info is not None:
                self._know(written, spoken, info.samples, info.fingerprint)
                self.cached += 1
                continue
            if self._from_cache(written, spoken):
                self.cached += 1
            else:
                new.append(spoken)
        log.debug("cues: %d new, %d from the cache", len(new), self.cached)
        ready = len(self._length)
        self.on_progress("speak", ready, ready + sum(len(wanted[spoken]) for spoken in new))
        if new:
            self._speak_all({spoken: wanted[spoken] for spoken in new})

    def _info(self, text: str) -> PreparedInfo | None:
        if self.cache is None:
            return None
        info = prepared_info(self.cache, self.identity, text, self.sample_rate)
        return info if info is not None and info.samples > 0 else None

    def _from_cache(self, written: list[str], spoken: str) -> bool:
        """Read the cue prepared, else prepare the cache's entry; False if the cache has neither."""
        if self.cache is None:
            return False
        found = read_prepared(self.cache, self.identity, spoken, self.sample_rate)
        if found is not None:
            self._accept(written, spoken, found[0], found[1])
            return True
        speech = self.cache.get(self.identity, spoken)
        if speech is None:
            return False
        self._keep(written, spoken, speech)
        return True

    def _speak_all(self, texts: dict[str, list[str]]) -> None:
        """Speak each spoken text in ``texts`` and keep it for the written texts it stands for."""
        workers = min(parallelism(self.voice), len(texts))
        total = len(self._length) + sum(len(written) for written in texts.values())
        if workers == 1:
            for text, written in texts.items():
                self._accept_new(written, text, self._speak(text))
                self.on_progress("speak", len(self._length), total)
            return
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"{self.voice.name}-cue") as pool:
            futures: dict[Future[Speech], str] = {pool.submit(self._speak, t): t for t in texts}
            try:
                # results (and so reports) are taken on this thread, whichever worker spoke them
                for future in as_completed(futures):
                    spoken = futures[future]
                    self._accept_new(texts[spoken], spoken, future.result())
                    self.on_progress("speak", len(self._length), total)
            except BaseException:
                # The first failure ends the build: start nothing more, wait only for what runs.
                for future in futures:
                    future.cancel()
                raise

    def _speak(self, text: str) -> Speech:
        """The engine's speech for ``text``, checked, as 16-bit PCM (exactly what the cache keeps)."""
        speech = _within(cue_timeout(self.voice), lambda: self.voice.synthesize(text), self.voice.name, text)
        samples = np.asarray(speech.samples)
        if samples.ndim != 1 or not len(samples) or speech.sample_rate <= 0 or not np.isfinite(samples).all():
            raise VoiceError(
                f"the {self.voice.name} voice returned no usable audio for {text!r}",
                fix="Try another voice with --voice.",
            )
        return speech.quantized()

    def _accept_new(self, written: list[str], spoken: str, speech: Speech) -> None:
        prepared = prepare_cue(speech, self.sample_rate)
        self._accept(written, spoken, prepared, None)  # checks the audio before anything is cached
        self.synthesized += 1
        if self.cache is not None and self.cache.put(self.identity, spoken, speech):
            self._kept(spoken, put_prepared(self.cache, self.identity, spoken, self.sample_rate, prepared))

    def _keep(self, written: list[str], spoken: str, speech: Speech) -> None:
        """Prepare a cue the cache gave back, and keep it prepared for next time."""
        prepared = prepare_cue(speech, self.sample_rate)
        self._accept(written, spoken, prepared, None)
        if self.cache is not None:
            self._kept(spoken, put_prepared(self.cache, self.identity, spoken, self.sample_rate, prepared))

    def _kept(self, spoken: str, fingerprint: int | None) -> None:
        if fingerprint is not None:
            self._fingerprint[spoken] = fingerprint

    def _know(self, written: list[str], spoken: str, samples: int, fingerprint: int | None) -> None:
        for text in written:
            self._length[text] = samples
            self._spoken[text] = spoken
        if fingerprint is not None:
            self._fingerprint[spoken] = fingerprint

    def _accept(
        self, written: list[str], spoken: str, prepared: PreparedCue, fingerprint: int | None
    ) -> None:
        if not len(prepared.samples):
            raise VoiceError(
                f"the {self.voice.name} voice returned silence for {written[0]!r}",
                fix="Try another voice with --voice.",
            )
        self._know(written, spoken, len(prepared.samples), fingerprint)
        for text in written:
            self._audio[text] = prepared.samples
            self._peaks[text] = prepared.true_peak_dbtp
            self._energy[text] = prepared.energy
            log.debug("cue %r: %.0f ms", text, len(prepared.samples) * 1000 / self.sample_rate)

    def _load(self, text: str) -> None:
        """Read the samples of a cue known by its length only (from the cache, or made again)."""
        spoken = self._spoken[text]
        written = [t for t, s in self._spoken.items() if s == spoken and t not in self._audio]
        if not self._from_cache(written, spoken):  # the cache lost it since: the engine again
            self._accept_new(written, spoken, self._speak(spoken))
        if len(self._audio[text]) != self._length[text]:
            raise VoiceError(
                f"the cue cache gave {text!r} back at another length than a moment ago",
                fix="Run the build again; 'stretchcast cache clear' if it keeps happening.",
            )

    def __getitem__(self, text: str) -> Samples:
        audio = self._audio.get(text)
        if audio is None:
            if text not in self._length:
                self.prepare([text])
            if text not in self._audio:
                self._load(text)
            audio = self._audio[text]
        return audio

    @property
    def samples_read(self) -> int:
        """How many cues' samples were read or made (a build from kept frames reads none)."""
        return len(self._audio)

    def length(self, text: str) -> int:
        """The cue's length in samples (without reading them when the cache knows it)."""
        if text not in self._length:
            self.prepare([text])
        return self._length[text]

    def spoken(self, text: str) -> str:
        """What the voice says for ``text`` (the key its cache entries are under)."""
        if text not in self._spoken:
            self.prepare([text])
        return self._spoken[text]

    def fingerprint(self, text: str) -> int | None:
        """The CRC-32 of the prepared file the cue's samples are in, if it is kept in the cache."""
        return self._fingerprint.get(self.spoken(text))

    def true_peak_db(self, text: str) -> float:
        """The prepared cue's true peak in dBTP (measured once, when it was prepared)."""
        if text not in self._peaks:
            self[text]
        return self._peaks[text]

    def weighted_energy(self, text: str) -> npt.NDArray[np.float64]:
        """The prepared cue's cumulative K-weighted energy, filter tail included (``PreparedCue.energy``)."""
        if text not in self._energy:
            self[text]
        return self._energy[text]

    def length_ms(self, text: str) -> int:
        """The cue's length in whole milliseconds, rounded up so the audio always fits its event."""
        return math.ceil(self.length(text) * 1000 / self.sample_rate)


INTERRUPT_GRACE_S = 10.0
_abandoned: set[threading.Thread] = set()


def abandoned_engines() -> bool:
    """Whether an engine call given up on (hung, or interrupted) is still running in a thread."""
    return any(t.is_alive() for t in _abandoned)


def _within(seconds: float, speak: Callable[[], Speech], engine: str, text: str) -> Speech:
    """``speak()``, or a VoiceError if it has not returned after ``seconds``.

    The engine runs in a daemon thread: a hung native call cannot be stopped from Python, but it
    is abandoned (and cannot keep the process alive at exit) while the build fails with a message.
    Ctrl-C while waiting still interrupts at once.
    """
    outcome: list[Speech | BaseException] = []
    done = threading.Event()

    def run() -> None:
        try:
            outcome.append(speak())
        except BaseException as err:  # handed to the waiting thread, which re-raises it
            outcome.append(err)
        finally:
            done.set()

    worker = threading.Thread(target=run, name=f"{engine}-speak", daemon=True)
    try:
        worker.start()
        answered = done.wait(seconds)
    except KeyboardInterrupt:
        # Let the engine finish the cue it is on (a second or so): a native engine (onnxruntime)
        # still running while Python shuts down aborts the process instead of exiting cleanly.
        done.wait(INTERRUPT_GRACE_S)
        if not done.is_set():
            _abandoned.add(worker)
        raise
    if not answered:
        _abandoned.add(worker)
        raise VoiceError(
            f"the {engine} voice did not answer within {seconds:g} s (speaking {text!r})",
            fix="Try again, or choose another voice with --voice.",
        )
    result = outcome[0]
    if isinstance(result, BaseException):
        raise result
    return result


def speak_cues(
    choice: Choice,
    texts: Iterable[str],
    sample_rate: int,
    *,
    cache: CueCache | None = None,
    on_progress: ProgressCallback = no_progress,
    pronunciations: Pronunciations = NONE,
) -> tuple[CueSet, Choice]:
    """Every cue in ``texts`` made with ``choice``'s voice, and the choice that made them.

    Each text is spoken as ``pronunciations`` says (the routine's collection's table), and kept
    under its written text.

    If a voice picked by "auto" fails partway (Google stops answering), the build starts over with
    the next engine, so that one track never mixes two voices; the cues already spoken stay in the
    cache. A voice asked for by name fails the build instead. ``on_progress`` hears of every cue
    made (stage "speak"), then and later, when the track asks the cue set for one more.
    """
    wanted = list(texts)
    while True:
        cues = CueSet(
            choice.voice, sample_rate, cache=cache, on_progress=on_progress, pronunciations=pronunciations
        )
        try:
            cues.prepare(wanted)
        except VoiceError as err:
            fallback = choice.after_failure(err)
            if fallback is None:
                raise
            on_progress("speak", len(cues), len(cues))  # this pass is given up; the next voice starts one
            log.warning("voice: %s", fallback.reason)
            choice = fallback
            continue
        return cues, choice
