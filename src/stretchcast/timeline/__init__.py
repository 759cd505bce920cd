"""Compile a routine into exactly timed events. Pure: no audio, no files, no voices.

A :class:`Timeline` is a contiguous run of events (speech, tone, silence), each with start and end
in milliseconds. Speech lengths come from a function: an estimate from the words before anything
is synthesized, the real cue lengths after. Whatever the lengths, the guarantees hold:

- events are sorted, contiguous and never overlap; the last one ends at ``duration_ms``;
- every hold lasts exactly its dose and starts the moment the cue that starts it has ended;
  a countdown ("three, two, one") sits inside holds of 5 s or more, one word per second;
- every rest lasts exactly its dose and starts when "Rest." has been said.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any, Literal

from stretchcast.content import ADJUSTED, Dose, Exercise, Routine, words

SpeechMs = Callable[[str], int]
Kind = Literal["speech", "tone", "silence"]

GAP_MS = 450  # between two sentences
OPENING_MS = 2000  # after the welcome, to lie down
READY_MS = 3000  # "Get into position." and then this long
SIDE_START_MS = 1500  # after "Right knee up", before the first circle
SWITCH_MS = 4000  # "Switch legs." and then this long to reposition
COUNTDOWN_FROM_MS = 5000  # holds this long or longer get a countdown
COUNTDOWN_WORDS = ("Three.", "Two.", "One.")
TICK_MS = 1000
COUNTDOWN_GAIN_DB = -6.0  # a soft countdown: it should not startle someone holding a pose
NEXT_LEAD_OUT_MS = 4000  # "Next: ..." ends this long before the rest does
TONE_MS = {"start": 1000, "end": 1800}


@dataclass(frozen=True, slots=True)
class Event:
    """One piece of the track: something said, a chime, or silence, from ``start_ms`` to ``end_ms``."""

    kind: Kind
    start_ms: int
    end_ms: int
    role: str
    exercise: str | None = None
    text: str | None = None
    gain_db: float = 0.0

    @property
    def duration_ms(self) -> int:
        """How long the event lasts."""
        return self.end_ms - self.start_ms


@dataclass(frozen=True, slots=True)
class Span:
    """A hold or a rest: its exact dose, which may contain countdown or "next" speech."""

    kind: Literal["hold", "rest"]
    start_ms: int
    end_ms: int
    exercise: str | None

    @property
    def duration_ms(self) -> int:
        """How long the hold or rest lasts."""
        return self.end_ms - self.start_ms


@dataclass(frozen=True, slots=True)
class Chapter:
    """A part of the track a player can jump to: the welcome, each exercise, the finish."""

    title: str
    start_ms: int
    end_ms: int
    exercise: str | None = None


@dataclass(frozen=True)
class Timeline:
    """The whole track, event by event, with holds, rests and chapters."""

    title: str
    slug: str
    events: tuple[Event, ...]
    spans: tuple[Span, ...]
    chapters: tuple[Chapter, ...]

    @property
    def duration_ms(self) -> int:
        """Length of the track."""
        return self.events[-1].end_ms if self.events else 0

    @property
    def holds(self) -> tuple[Span, ...]:
        """Every hold, in order."""
        return tuple(s for s in self.spans if s.kind == "hold")

    @property
    def rests(self) -> tuple[Span, ...]:
        """Every rest, in order."""
        return tuple(s for s in self.spans if s.kind == "rest")

    def texts(self) -> list[str]:
        """Every distinct spoken text, in order of first use: what a voice must synthesize."""
        return list(dict.fromkeys(e.text for e in self.events if e.kind == "speech" and e.text))

    def speech(self) -> Iterator[Event]:
        """The speech events, in order."""
        return (e for e in self.events if e.kind == "speech")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description (the manifest's structure)."""
        return {
            "title": self.title,
            "slug": self.slug,
            "duration_ms": self.duration_ms,
            "chapters": [asdict(c) for c in self.chapters],
            "spans": [asdict(s) for s in self.spans],
            "events": [asdict(e) for e in self.events],
        }


# Calibrated against Piper (en_US-joe-medium at rate 1, the default offline voice): least squares
# over the cues of the three presets as the tracks use them (467 cues, each counted as often as it
# is said: that is what a plan's length depends on; countdown words and "Next" sit inside fixed
# holds and rests, so they are left out), trimmed as the track uses them. Letters predict a cue's
# length far better than words, and each comma or sentence break inside a cue adds a pause.
# Refitted (issue 19) when rep cues put the count first, as a sentence of its own: Piper speaks
# each sentence apart and joins them with a pause, so a sentence break costs ~615 ms, not 450.
# Plans of the presets come within 0.25% of the built tracks (mean error 140 ms a cue); the old
# constants on the new cues made plans up to 0.6% short, the first estimate (150 wpm) 9% long.
_MS_BASE = 183
_MS_PER_LETTER = 71
_MS_PER_CLAUSE_PAUSE = 477  # , ; :
_MS_PER_SENTENCE_PAUSE = 615  # . ! ? followed by more text


@lru_cache(maxsize=4096)
def estimate_speech_ms(text: str) -> int:
    """How long ``text`` takes to say at a calm guiding pace, before any voice has spoken it.

    Remembered per text: a plan asks for the same few hundred texts every time the routine
    builder recomputes, and the regular expressions were half of each recompute.
    """
    letters = sum(len(w) for w in re.findall(r"[\w']+", text))
    clauses = len(re.findall(r"[,;:]", text))
    sentences = len(re.findall(r"[.!?](?=\s)", text))
    return (
        _MS_BASE
        + letters * _MS_PER_LETTER
        + clauses * _MS_PER_CLAUSE_PAUSE
        + sentences * _MS_PER_SENTENCE_PAUSE
    )


def spoken_name(title: str) -> str:
    """A routine's title as words: "SI joint routine, standard" -> "the standard SI joint routine".

    Titles are written like file names, kind first ("SI joint routine, standard"); read aloud
    that way they sound like a file name. ``{routine}`` in the welcome and closing lines is this.
    """
    adjusted = title.endswith(ADJUSTED)
    name = title.removesuffix(ADJUSTED).strip()
    kind, comma, variant = name.rpartition(", ")
    if comma and kind and variant and "," not in kind:
        name = f"{variant} {kind}"
    first = name.partition(" ")[0]
    if first[:2].istitle():  # "Morning back routine": a capital for the title, not for the word
        name = first[:1].lower() + name[1:]
    if first.lower() not in {"the", "a", "an", "my", "your", "our"}:
        name = f"the {name}"
    return f"{name}, adjusted" if adjusted else name


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


class _Writer:
    """Appends events at a cursor; the only place that decides start and end times."""

    def __init__(self, speech_ms: SpeechMs) -> None:
        self.speech_ms = speech_ms
        self.t = 0
        self.events: list[Event] = []
        self.spans: list[Span] = []

    def _add(
        self,
        kind: Kind,
        ms: int,
        role: str,
        exercise: str | None,
        *,
        text: str | None = None,
        gain_db: float = 0.0,
    ) -> None:
        if ms <= 0:
            return
        self.events.append(Event(kind, self.t, self.t + ms, role, exercise, text, gain_db))
        self.t += ms

    def say(self, text: str, role: str, exercise: str | None, *, gain_db: float = 0.0) -> None:
        """Speak ``text``; a short gap first if the previous event was speech too."""
        if self.events and self.events[-1].kind == "speech":
            self.pause(GAP_MS, "transition", exercise)
        ms = self.speech_ms(text)
        if ms <= 0:
            raise ValueError(f"speech length for {text!r} must be positive, got {ms}")
        self._add("speech", ms, role, exercise, text=text, gain_db=gain_db)

    def pause(self, ms: int, role: str, exercise: str | None) -> None:
        """Silence of exactly ``ms``."""
        self._add("silence", ms, role, exercise)

    def tone(self, name: str, exercise: str | None) -> None:
        """A synthesized chime."""
        self._add("tone", TONE_MS[name], "chime", exercise, text=name)

    def hold(self, ms: int, exercise: str | None, *, countdown: bool) -> None:
        """A hold of exactly ``ms``, with "three, two, one" on the last seconds if long enough."""
        start = self.t
        lengths = [self.speech_ms(w) for w in COUNTDOWN_WORDS]
        if countdown and ms >= COUNTDOWN_FROM_MS and all(0 < n <= TICK_MS for n in lengths):
            self.pause(ms - TICK_MS * len(COUNTDOWN_WORDS), "hold", exercise)
            for word, n in zip(COUNTDOWN_WORDS, lengths, strict=True):
                self._add("speech", n, "countdown", exercise, text=word, gain_db=COUNTDOWN_GAIN_DB)
                self.pause(TICK_MS - n, "hold", exercise)
        else:
            self.pause(ms, "hold", exercise)
        assert self.t - start == ms
        self.spans.append(Span("hold", start, self.t, exercise))

    def rest(self, ms: int, exercise: str | None, next_text: str | None) -> None:
        """A rest of exactly ``ms`` (longer only if the "next" announcement cannot fit in it)."""
        start = self.t
        if next_text:
            n = self.speech_ms(next_text)
            lead = ms - NEXT_LEAD_OUT_MS - n
            if lead < 0:
                lead = max(0, (ms - n) // 2)
            self.pause(lead, "rest", exercise)
            self._add("speech", n, "next", exercise, text=next_text)
            self.pause(ms - lead - n, "rest", exercise)
        else:
            self.pause(ms, "rest", exercise)
        self.spans.append(Span("rest", start, self.t, exercise))


@dataclass(frozen=True)
class _Context:
    routine: Routine
    minutes: str


def compile_timeline(routine: Routine, speech_ms: SpeechMs = estimate_speech_ms) -> Timeline:
    """The routine as timed events. ``speech_ms`` gives each text's length in milliseconds."""
    # The welcome says how long the routine takes, which depends on the welcome: settle it. The
    # first pass only measures, so its guess at the sentence is estimated rather than asked of
    # ``speech_ms`` (which, during a build, would synthesize a sentence that is never used).
    minutes = words.minutes(0)
    guesses = {
        line.format(title=routine.title, minutes=minutes, routine=spoken_name(routine.title))
        for line in routine.collection.welcome
        if "{minutes}" in line
    }

    def first_pass_ms(text: str) -> int:
        return estimate_speech_ms(text) if text in guesses else speech_ms(text)

    timeline = _compile(_Context(routine, minutes), first_pass_ms)  # measures only
    for _ in range(5):
        minutes = words.minutes(timeline.duration_ms)
        timeline = _compile(_Context(routine, minutes), speech_ms)
        if words.minutes(timeline.duration_ms) == minutes:
            break
    return timeline


def _compile(ctx: _Context, speech_ms: SpeechMs) -> Timeline:
    routine = ctx.routine
    collection = routine.collection
    w = _Writer(speech_ms)
    guidance = routine.guidance
    fill = {"title": routine.title, "minutes": ctx.minutes, "routine": spoken_name(routine.title)}

    for line in collection.welcome:
        w.say(line.format(**fill), "welcome", None)
    for line in routine.notes:
        w.say(line, "welcome", None)
    for line in collection.safety_spoken:
        w.say(line, "safety", None)
    w.say("Get comfortable on your mat, and let's begin.", "welcome", None)
    w.pause(OPENING_MS, "transition", None)

    chapters: list[tuple[str, int, str | None]] = [("Welcome", 0, None)]
    items = routine.items
    for round_no in range(1, routine.rounds + 1):
        for index, item in enumerate(items, start=1):
            ex = item.exercise
            title = ex.name if routine.rounds == 1 else f"{ex.name} (round {round_no})"
            chapters.append((title, w.t, ex.id))
            round_text = None
            if index == 1 and routine.rounds > 1:
                round_text = f"Round {words.number(round_no)} of {words.number(routine.rounds)}."
            _exercise(
                w,
                ex,
                item.dose,
                index,
                len(items),
                first_time=round_no == 1,
                round_text=round_text,
                chimes=guidance.chimes,
                countdown=guidance.countdown,
                pace=guidance.pace,
            )
            last = round_no == routine.rounds and index == len(items)
            if not last:
                following = items[index % len(items)].exercise
                w.say("Rest.", "rest", ex.id)
                w.rest(item.dose.rest_ms, ex.id, f"Next: {following.name}.")

    chapters.append(("Finish", w.t, None))
    if guidance.chimes:
        w.tone("end", None)
    for line in collection.closing:
        w.say(line.format(**fill), "closing", None)
    w.pause(1000, "transition", None)  # players cut the very end; leave a breath of silence

    ends = [start for _, start, _ in chapters[1:]] + [w.t]
    return Timeline(
        title=routine.title,
        slug=routine.slug,
        events=tuple(w.events),
        spans=tuple(w.spans),
        chapters=tuple(
            Chapter(title, start, end, ex_id)
            for (title, start, ex_id), end in zip(chapters, ends, strict=True)
        ),
    )


def _exercise(
    w: _Writer,
    ex: Exercise,
    dose: Dose,
    index: int,
    count: int,
    *,
    first_time: bool,
    round_text: str | None,
    chimes: bool,
    countdown: bool,
    pace: float,
) -> None:
    eid = ex.id
    if chimes:
        w.tone("start", eid)  # the chime comes first: it is what tells someone lying still to listen
    if round_text:
        w.say(round_text, "round", eid)
    w.say(f"Exercise {words.number(index)} of {words.number(count)}: {ex.name}.", "announce", eid)
    if first_time:
        for line in ex.setup:
            w.say(line, "instruction", eid)
        for line in ex.steps:
            w.say(line, "instruction", eid)
        if ex.spoken_caution:
            w.say(ex.spoken_caution, "caution", eid)
    dose_text = ex.cues.dose.format(
        reps=words.number(dose.reps),
        hold=words.seconds(dose.hold),
        sets=words.number(dose.sets),
        side_word=ex.side_word,
    )
    w.say(_cap(dose_text), "dose", eid)
    w.say("Get into position.", "ready", eid)
    w.pause(READY_MS, "transition", eid)

    move_ms = round(dose.pace_ms * pace)
    for set_no in range(1, dose.sets + 1):
        if dose.sets > 1:
            w.say(f"Set {words.number(set_no)} of {words.number(dose.sets)}.", "set", eid)
        _one_set(w, ex, dose, move_ms, countdown)
        if set_no < dose.sets:
            w.say("Rest.", "rest", eid)
            w.rest(dose.rest_ms, eid, f"Next: set {words.number(set_no + 1)}.")


def _one_set(w: _Writer, ex: Exercise, dose: Dose, move_ms: int, countdown: bool) -> None:
    eid = ex.id
    cues = ex.cues

    def fields(side: str | None, direction: str | None, n: int = 0) -> dict[str, str]:
        return {
            "count": words.number(n),
            "Count": _cap(words.number(n)),
            "side": side or "",
            "Side": _cap(side or ""),
            "direction": direction or "",
            "Direction": _cap(direction or ""),
            "side_word": ex.side_word,
        }

    def rep(n: int, side: str | None, direction: str | None, *, single_run: bool, per_side: bool) -> None:
        if dose.reps >= 2 and n == dose.reps and (not per_side or side == ex.sides[0]):
            w.say("Last one on each side." if per_side else "Last one.", "progress", eid)
        elif (
            single_run
            and dose.reps >= 6
            and n == dose.reps // 2 + 1
            and (not per_side or side == ex.sides[0])
        ):
            w.say("Halfway.", "progress", eid)
        w.say(_cap(cues.rep.format(**fields(side, direction, n))), "rep", eid)
        if dose.hold > 0:
            w.hold(dose.hold_ms, eid, countdown=countdown)
        if cues.release:
            w.say(_cap(cues.release.format(**fields(side, direction, n))), "release", eid)
        w.pause(move_ms, "move", eid)

    if ex.alternate:
        for n in range(1, dose.reps + 1):
            for each in ex.sides:
                rep(n, each, None, single_run=True, per_side=True)
        return

    sides: tuple[str | None, ...] = ex.sides or (None,)
    directions: tuple[str | None, ...] = ex.directions or (None,)
    single_run = len(sides) == 1 and len(directions) == 1
    for si, side in enumerate(sides):
        if si > 0:
            w.say(f"Switch {ex.side_word}s.", "switch", eid)
            w.pause(SWITCH_MS, "transition", eid)
        if cues.side_start and side:
            w.say(_cap(cues.side_start.format(**fields(side, None))), "side", eid)
            w.pause(SIDE_START_MS, "transition", eid)
        for direction in directions:
            if cues.direction_start and direction:
                w.say(_cap(cues.direction_start.format(**fields(side, direction))), "direction", eid)
            for n in range(1, dose.reps + 1):
                rep(n, side, direction, single_run=single_run, per_side=False)
        if cues.side_end and side:
            w.say(_cap(cues.side_end.format(**fields(side, None))), "side", eid)


__all__ = [
    "Chapter",
    "Event",
    "Span",
    "Timeline",
    "compile_timeline",
    "estimate_speech_ms",
    "spoken_name",
]
