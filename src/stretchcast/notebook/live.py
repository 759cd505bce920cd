"""Live preview: the builder's player follows the sliders by itself, when no voice is needed. No widgets.

When every cue a build of the routine asks for is already in the cue cache
(:meth:`RoutineModel.cached_engine`), a build is only reading cached cues and writing an MP3:
with the frame back end well under a second for the standard routine. :class:`LivePreview` then
renders the routine a short while after the last change (debounced, :data:`PREVIEW_DELAY_S`)
and hands the result to the view for its player. Otherwise the player keeps what it had, and
``state``/``why`` say that it is behind and what to do.

Rules it keeps, each tested without a kernel (tests/test_live.py, with a fake clock):

- **One render per burst.** Each change cancels the pending timer and starts a new one; only a
  timer that fires renders. The clock is injected (``schedule``): the view gives
  :func:`thread_timer`, tests a fake clock they advance by hand.
- **No voice.** A preview's voice answers from the cue cache only (:class:`CachedOnlyVoice`): if
  a cue vanished from the cache since it was looked up, the preview fails with a plain message
  instead of asking an engine (or the network).
- **The newest state wins.** Every change, toggle and Render takes a new ticket; a preview whose
  ticket is no longer the newest when it finishes is thrown away, never shown. Builds take the
  model's ``building`` lock, so two never write at once.
- **Its own folder.** Previews are written as ``preview.*`` in a temporary folder of their own
  (removed when the preview is closed or collected), never into ``audio/``: a preview must not
  replace the track Render wrote under the routine's name, nor appear on ``stretchcast serve``'s
  page. Render still writes ``audio/<name>.mp3``.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from traitlets import Bool, HasTraits, Unicode, observe

from stretchcast.content import Routine
from stretchcast.errors import VoiceError
from stretchcast.notebook.model import RoutineModel
from stretchcast.pipeline import BuildOptions, BuildResult, build
from stretchcast.voices import Choice, make_voice
from stretchcast.voices.base import Speech, Voice

#: Seconds after the last change before a preview renders. Sliders here send their value when
#: released (``continuous_update=False``), so a burst is a person stepping with the arrow keys
#: or clicking along the track: deliberate steps come 150-400 ms apart, so 0.5 s waits out a
#: burst. With a warm frame-backend build of ~0.3-0.7 s, the player is then updated about a
#: second after the hand stops, the limit at which a response still feels connected to the
#: action; a longer wait would be felt, a shorter one would render steps nobody listens to.
PREVIEW_DELAY_S = 0.5
#: The file name (stem) of a preview in its folder.
PREVIEW_NAME = "preview"

#: The player holds nothing; the routine as it is now; a preview of it is on its way; an earlier
#: version of it (``why`` says what to do); or the last preview failed (and the player was emptied).
STATES = ("empty", "current", "updating", "behind", "failed")


class Timer(Protocol):
    """A scheduled call that can be called off (``threading.Timer`` is one)."""

    def cancel(self) -> None:
        """Do not make the call, if it has not been made yet."""


#: ``schedule(seconds, call)`` calls ``call()`` after ``seconds``, from any thread; returns a Timer.
Schedule = Callable[[float, Callable[[], None]], Timer]


def thread_timer(seconds: float, call: Callable[[], None]) -> Timer:
    """``call()`` in a thread of its own after ``seconds``, so that the kernel stays free meanwhile:
    the sliders, the length and the plot keep following the person while a preview renders.
    """
    timer = threading.Timer(seconds, call)
    timer.daemon = True  # a pending preview never keeps the kernel from exiting
    timer.start()
    return timer


class CachedOnlyVoice:
    """``voice`` as far as the cue cache knows it: its identity (the cache key) and description,
    but speaking nothing. A preview must never call an engine; a cue missing after all is an error.
    """

    def __init__(self, voice: Voice) -> None:
        self._voice = voice
        self.name = voice.name

    def identity(self) -> Mapping[str, str | int | float | bool]:
        """The wrapped voice's identity, so the cache finds its cues."""
        return self._voice.identity()

    def describe(self) -> str:
        """The wrapped voice's description."""
        return self._voice.describe()

    def synthesize(self, text: str) -> Speech:
        """Refuse: the cue is not in the cue cache (removed since the builder looked)."""
        raise VoiceError(
            f"the live preview found the cue {text!r} missing from the cue cache",
            fix="Press Render to speak it again; the preview follows the sliders after that.",
        )


@dataclass(frozen=True)
class Preview:
    """A live preview, ready for the player: the build's result and the MP3's bytes (read while the
    folder was still this preview's, before the next one could replace it)."""

    result: BuildResult
    audio: bytes


class LivePreview(HasTraits):
    """Renders ``model`` by itself shortly after each change, when every cue is cached; see the module."""

    #: The builder's "Live preview" tick box: on by default.
    enabled = Bool(True)
    #: What the player holds, relative to the routine as it is now: one of :data:`STATES`.
    state = Unicode("empty")
    #: When ``state`` is "behind": why no preview is coming, and what to do, in the builder's words.
    why = Unicode("")

    def __init__(
        self,
        model: RoutineModel,
        *,
        schedule: Schedule = thread_timer,
        folder: Path | None = None,
        delay_s: float = PREVIEW_DELAY_S,
        on_preview: Callable[[Preview], None] | None = None,
        on_failure: Callable[[Exception], None] | None = None,
    ) -> None:
        super().__init__()
        self.model = model
        self.delay_s = delay_s
        self._schedule = schedule
        self._remove: Callable[[], object] | None = None
        if folder is None:
            folder = Path(tempfile.mkdtemp(prefix="stretchcast-preview-"))
            self._remove = weakref.finalize(self, shutil.rmtree, folder, ignore_errors=True)
        self.folder = folder
        #: Called with each preview that is the newest when it is done (from the timer's thread).
        self.on_preview = on_preview or (lambda _preview: None)
        #: Called with the error of a failed preview that is the newest (from the timer's thread).
        self.on_failure = on_failure or (lambda _error: None)
        # One lock for the ticket, the player's content and the state, held while a finished
        # preview is handed over: a change either comes before (and the preview is thrown away)
        # or after (and marks it behind), never in between. Re-entrant: the view's handlers may
        # change traits that come back here.
        self._lock = threading.RLock()
        self._ticket = 0
        self._timer: Timer | None = None
        self._shown: Routine | None = None  # what the player holds
        self.renders = 0  # previews built (for tests and the curious)
        model.observe(self._changed, names="routine")

    # -- what the view tells it --------------------------------------------------------------------

    def supersede(self) -> int:
        """A Render starts: pending and running previews are dropped. Returns Render's ticket."""
        with self._lock:
            self._ticket += 1
            self._cancel()
            return self._ticket

    def rendered(self, ticket: int) -> None:
        """Render put the routine in the player (as it was when it took ``ticket``)."""
        with self._lock:
            if ticket == self._ticket:
                self._shown = self.model.routine
                self._set("current")

    def cleared(self) -> None:
        """The player was emptied (a failed Render)."""
        with self._lock:
            self._shown = None
            self._set("empty")

    def close(self) -> None:
        """Stop: no more previews; the temporary folder is removed."""
        with self._lock:
            self._ticket += 1
            self._cancel()
            self.model.unobserve(self._changed, names="routine")
        if self._remove is not None:
            self._remove()

    # -- changes -----------------------------------------------------------------------------------

    @observe("enabled")
    def _toggled(self, _change: Mapping[str, Any]) -> None:
        self._changed()

    def _changed(self, _change: Mapping[str, Any] | None = None) -> None:
        """The routine (or the tick box) changed: plan a preview, or say why none is coming."""
        with self._lock:
            self._ticket += 1
            self._cancel()
            routine = self.model.routine
            if self._shown is not None and self._shown == routine:
                self._set("current")  # changed back, or the box ticked: the player has it already
                return
            if not self.enabled:
                self._behind("Live preview is off: press Render to hear your change.")
                return
            if self.model.problem:
                self._behind("Your change cannot be rendered as it stands: see the message above.")
                return
            engine = self.model.cached_engine()
            if engine is None or routine is None:
                self._behind("Your change needs cues not spoken yet: press Render to hear it.")
                return
            ticket, voice = self._ticket, self.model.voice
            self._set("updating")
            self._timer = self._schedule(self.delay_s, lambda: self._render(ticket, routine, voice, engine))

    def _render(self, ticket: int, routine: Routine, voice: str, engine: str) -> None:
        """The timer fired: build the routine as it was at ``ticket``, and show it if still the newest."""
        try:
            with self.model.building:
                with self._lock:
                    if ticket != self._ticket:
                        return  # a newer change came while this waited: its own timer renders it
                    self._timer = None
                reason = f"asked for {voice}" if voice != "auto" else f"auto uses {engine} here"
                choice = Choice(CachedOnlyVoice(make_voice(engine)), f"{reason}; from the cue cache")
                result = build(
                    routine, voice=choice, options=BuildOptions(out_dir=self.folder, name=PREVIEW_NAME)
                )
                preview = Preview(result, result.mp3.read_bytes())
                with self._lock:
                    self.renders += 1
                    if ticket != self._ticket:
                        return  # the routine changed meanwhile: never show an older state
                    self.on_preview(preview)  # first, so the view's line for "current" is this one's
                    self._shown = routine
                    self._set("current")
        except Exception as err:  # shown to the person by on_failure, not lost in a thread
            with self._lock:
                if ticket != self._ticket:
                    return
                self._shown = None
                self._set("failed")
                self.on_failure(err)

    # -- helpers -----------------------------------------------------------------------------------

    def _cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _behind(self, why: str) -> None:
        self.why = why
        self._set("behind" if self._shown is not None else "empty")

    def _set(self, state: str) -> None:
        if state != "behind":
            self.why = ""
        self.state = state


__all__ = [
    "PREVIEW_DELAY_S",
    "PREVIEW_NAME",
    "STATES",
    "CachedOnlyVoice",
    "LivePreview",
    "Preview",
    "Schedule",
    "Timer",
    "thread_timer",
]
