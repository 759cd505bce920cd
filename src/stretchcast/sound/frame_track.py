"""A timeline written as an MP3 from frames: each distinct sound mastered and encoded once.

This is the frame back end's audio half (issue 13), the default for builds (docs/ARCHITECTURE.md,
"The frame back end: what is built and what is not").

- **Mastering without a master pass.** Each distinct sound (a cue at its event gain, a chime) is
  raised by one fixed gain, :data:`FRAME_GAIN_DB`, and limited on its own to the same ceiling
  the PCM path holds the track's peaks to (the format's coding margin under -1.5 dBTP decoded).
  Cues are prepared at -20 LUFS each; the PCM path's master pass lifts them by 5.1 to 5.8 dB
  (fake voice and espeak-ng layouts, the presets and the 60-minute routine), so 5.5 dB lands
  their tracks within 0.4 LU of -16 LUFS decoded. Piper's cues stand higher peaks, the master
  limiter takes more back and its pass lifts them only 5.1 dB; the delivered voice's PESQ-WB
  score follows how much the limiter takes off, so Piper's sounds are lifted 5.0 dB
  (:func:`lift_for`: 2.86 against the PCM path's 2.85 over 40 cues, where 5.5 dB scored 2.53).
  A sound mastered once serves every routine.
- **The frame grid.** A sound can only start ``frames.LEAD`` samples after a frame boundary, and
  not before the previous sound's frames end, so each sounding event moves later by less than a
  frame (26 ms at 22.05 kHz) and the silences around it shrink or grow to match; holds and rests
  keep their lengths (their spans are unchanged), and the returned timeline gives the times the
  decoders play.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import IO, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from stretchcast.sound import frames, master, mp3, tones
from stretchcast.sound import signal as audio
from stretchcast.sound.layout import CueAudio, Layout, ms_to_samples
from stretchcast.timeline import Event, Timeline
from stretchcast.voices.base import Samples

FRAME_GAIN_DB = 5.5  # every sound's gain: cue loudness -20 LUFS to about -16 LUFS decoded (see above)
#: Engines whose cues the limiter works harder on, with the gain that keeps their voice's score
#: (PESQ-WB, benchmarks) what the PCM path gives it; see :func:`lift_for`.
ENGINE_GAIN_DB = {"piper": 5.0}


def lift_for(engine: str) -> float:
    """The gain every sound of a track spoken by ``engine`` is raised by (:data:`FRAME_GAIN_DB`, or
    the engine's own where its peaks stand higher: Piper's cues are limited at 13 dB over their
    loudness where espeak-ng's rarely reach it, so the master pass lifts Piper's track only 5.1 dB
    and the per-sound secant at 5.5 dB took more off its peaks than the PCM path does)."""
    return ENGINE_GAIN_DB.get(engine, FRAME_GAIN_DB)


MAX_EXTRA_DB = (
    12.0  # (as master.MAX_BOOST_DB) the most a sound's gain is raised to give back what its limiting took
)

#: (kind, text, samples, gain dB): what makes two sounding events the same sound
SoundKey = tuple[str, str, int, float]


def ceiling_dbtp(sample_rate: int, bitrate: int) -> float:
    """The true peak each mastered sound is held to, in the PCM, for this format."""
    return master.CEILING_DBTP - mp3.DECODED_GAIN_DB - master.coding_margin_db(sample_rate, bitrate)


def master_sound(x: Samples, sample_rate: int, bitrate: int, *, lift_db: float = FRAME_GAIN_DB) -> Samples:
    """``x`` ``lift_db`` louder (:func:`lift_for`), its true peak limited to this format's ceiling.

    Limiting takes loudness away with the peaks (4 to 5 dB of espeak-ng's at 44.1 kHz, where the
    coding margin is 4 dB: the track came out at -18 LUFS), so the gain is raised until the
    limited sound is as loud as the gain promised, as the master pass does for a whole track.

    Made once per sound and format, on the first build at that format (a cold build makes every
    sound), so it is kept cheap: the true-peak envelope is computed once for every gain tried
    (it scales with the gain; its floor is set for the largest gain, so it is exact for all),
    and loudness is measured with the recursive filter (the limiter has loaded scipy anyway).
    """
    ceiling = ceiling_dbtp(sample_rate, bitrate)
    top = audio.db_to_gain(lift_db + MAX_EXTRA_DB)
    envelope = audio.true_peak_envelope(x, floor=audio.db_to_gain(ceiling) / top)
    gain_db = lift_db

    def limited(gain_db: float) -> Samples:
        return audio.limit(x, sample_rate, ceiling, gain=audio.db_to_gain(gain_db), envelope=envelope)

    y = limited(gain_db)
    if float(envelope.max(initial=0.0)) * audio.db_to_gain(gain_db) <= audio.db_to_gain(ceiling):
        return y  # nothing was limited: the sound is exactly as loud as the gain promised
    target = audio.loudness(x, sample_rate, recursive=True) + lift_db
    if not math.isfinite(target):  # too short or quiet for the meter's gate: one gain
        return y
    level = audio.loudness(y, sample_rate, recursive=True)
    previous: tuple[float, float] | None = None
    for _ in range(10):  # the secant method on (gain, loudness), as master.master_layout
        short = target - level
        if short <= 0.05:
            break
        slope = 1.0
        if previous is not None and level != previous[1]:
            slope = min(1.0, max(0.1, (level - previous[1]) / (gain_db - previous[0])))
        previous = (gain_db, level)
        gain_db = min(lift_db + MAX_EXTRA_DB, gain_db + short / slope)
        y = limited(gain_db)
        level = audio.loudness(y, sample_rate, recursive=True)
    return y


def sound_of(key: SoundKey, cues: CueAudio, sample_rate: int) -> Samples:
    """The raw audio of a sounding event (before mastering)."""
    kind, text, n, gain_db = key
    if kind == "tone":
        return tones.chime(text, n, sample_rate)
    cue = cues[text][:n]
    return cue if gain_db == 0 else np.asarray(cue * np.float32(audio.db_to_gain(gain_db)), dtype=np.float32)


ENERGY_STRIDE = 16  # samples between the cumulative energies a sound keeps (0.7 ms at 22.05 kHz)


def _stride_positions(length: int) -> npt.NDArray[np.int64]:
    """Where a cumulative energy of ``length`` entries is kept: every ENERGY_STRIDE-th, and its last."""
    kept = np.arange(0, max(length - 1, 0), ENERGY_STRIDE, dtype=np.int64)
    return np.append(kept, np.int64(max(length - 1, 0)))


@dataclass(frozen=True, eq=False)
class CumulativeEnergy:
    """A sound's cumulative K-weighted energy (``signal.weighted_energy`` with the filter's tail),
    kept every :data:`ENERGY_STRIDE` samples and at its end, and read between by straight lines.

    The loudness meter reads a sound's energy only at its gating blocks' edges (every 100 ms);
    keeping every sample cost 8 bytes a sample (~50 MB for the hour's sounds, read on every
    build). Between two kept points the energy of 16 samples is split evenly: at most that much
    moves across a block edge, under 0.4 % of a 400 ms block, and the track's integrated loudness
    moved by 0.0003 LU (an hour with espeak-ng; tests/test_frame_track.py holds it to 0.001).
    """

    values: npt.NDArray[np.float64]
    length: int  # entries of the full cumulative energy: samples + filter tail + 1

    @classmethod
    def of(cls, full: npt.NDArray[np.float64]) -> CumulativeEnergy:
        """The kept points of a full cumulative energy."""
        return cls(np.ascontiguousarray(full[_stride_positions(len(full))], dtype=np.float64), len(full))

    def at(self, positions: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        """The cumulative energy at ``positions`` (0 to ``length - 1``)."""
        found: npt.NDArray[np.float64] = np.interp(positions, _stride_positions(self.length), self.values)
        return found


@dataclass(frozen=True, eq=False)
class Sound:
    """A distinct sound mastered and encoded: its frames, and what measuring the track needs of it."""

    block: frames.Block
    samples: int  # the mastered sound's length
    true_peak_dbtp: float
    energy: CumulativeEnergy


def make_sound(
    key: SoundKey, cues: CueAudio, sample_rate: int, bitrate: int, *, lift_db: float = FRAME_GAIN_DB
) -> Sound:
    """Master, encode and measure one distinct sound."""
    pcm = master_sound(sound_of(key, cues, sample_rate), sample_rate, bitrate, lift_db=lift_db)
    # the recursive filter: a sound is made only where its cue was just prepared, which loads scipy
    energy = audio.weighted_energy_iir(pcm, sample_rate, tail=audio.k_weighting_tail(sample_rate))
    block = frames.encode_block(master.to_int16(pcm), sample_rate, bitrate)
    return Sound(block, len(pcm), audio.true_peak_db(pcm), CumulativeEnergy.of(energy))


@runtime_checkable
class CueLengths(Protocol):
    """A CueSet: a cue's length known without reading its samples."""

    def length(self, text: str, /) -> int: ...


def cue_length(cues: CueAudio, text: str) -> int:
    """The cue's length in samples, without reading them where ``cues`` can say."""
    return cues.length(text) if isinstance(cues, CueLengths) else len(cues[text])


def key_of(event: Event, cues: CueAudio, sample_rate: int) -> SoundKey:
    """The distinct sound a sounding event plays."""
    assert event.text is not None
    n = ms_to_samples(event.end_ms, sample_rate) - ms_to_samples(event.start_ms, sample_rate)
    if event.kind == "speech":
        n = min(cue_length(cues, event.text), n)
    return (event.kind, event.text, n, event.gain_db)


@dataclass(frozen=True)
class FramePlan:
    """Where each sounding event plays on the frame grid, and the timeline as decoders play it."""

    timeline: Timeline
    placements: tuple[tuple[int, SoundKey], ...]  # (first frame, sound), in time order
    length: int  # decoded samples


def plan(
    timeline: Timeline, cues: CueAudio, sample_rate: int, block_size: Callable[[SoundKey], int]
) -> FramePlan:
    """Each sounding event moved to the first grid point at or after its time that is free."""
    spf = frames.samples_per_frame(sample_rate)
    lead = frames.onset_offset(sample_rate)
    events = list(timeline.events)
    starts: dict[int, int] = {}  # event index -> new start (ms)
    placements: list[tuple[int, SoundKey]] = []
    free = 0  # first frame not yet taken
    for i, event in enumerate(events):
        if event.kind == "silence" or event.text is None:
            continue
        key = key_of(event, cues, sample_rate)
        wanted = ms_to_samples(event.start_ms, sample_rate)
        frame = max(free, math.ceil((wanted - lead) / spf))
        placements.append((frame, key))
        free = frame + block_size(key)
        onset = frame * spf + lead
        starts[i] = round(onset * 1000 / sample_rate)
    moved: list[Event] = []
    end = 0
    for i, event in enumerate(events):
        if i in starts:
            start = starts[i]
            if moved and moved[-1].end_ms > start:  # a rounding millisecond: the one before ends here
                moved[-1] = replace(moved[-1], end_ms=start)
            new = replace(event, start_ms=start, end_ms=start + event.duration_ms)
        else:
            following = starts.get(i + 1)
            stop = following if following is not None else max(event.end_ms, end)
            new = replace(event, start_ms=end, end_ms=stop)
        if new.end_ms > new.start_ms:
            moved.append(new)
            end = new.end_ms
    duration = max(end, timeline.duration_ms)
    if moved and moved[-1].end_ms < duration:
        moved[-1] = replace(moved[-1], end_ms=duration)
    chapters = tuple(
        replace(c, end_ms=duration) if c.end_ms == timeline.duration_ms else c for c in timeline.chapters
    )
    snapped = replace(timeline, events=tuple(moved), chapters=chapters)
    return FramePlan(snapped, tuple(placements), ms_to_samples(snapped.duration_ms, sample_rate))


@dataclass(frozen=True)
class Written:
    """A frame-written MP3: the timeline it plays, what was written, and what a decoder will measure."""

    timeline: Timeline
    stats: mp3.Mp3Stats
    measured: audio.Measurement
    sounds: int


@dataclass(frozen=True)
class Prepared:
    """A timeline on the frame grid with every sound it plays made: ready to write."""

    plan: FramePlan
    sounds: dict[SoundKey, Sound]
    sample_rate: int
    bitrate: int

    @property
    def timeline(self) -> Timeline:
        """The timeline as decoders will play it."""
        return self.plan.timeline

    def write(self, fp: IO[bytes]) -> Written:
        """The MP3 into ``fp`` (after whatever ``fp`` holds: tags)."""
        writer = frames.FrameWriter(fp, self.sample_rate, self.bitrate)
        for frame, key in self.plan.placements:
            writer.place(self.sounds[key].block, frame)
        stats = writer.close(self.plan.length)
        measured = measurement(self.plan, self.sounds, self.sample_rate, self.bitrate)
        return Written(self.plan.timeline, stats, measured, len(self.sounds))


def prepare(
    timeline: Timeline,
    cues: CueAudio,
    sample_rate: int,
    bitrate: int,
    *,
    sounds: dict[SoundKey, Sound] | None = None,
    make: Callable[[SoundKey], Sound] | None = None,
    lift_db: float = FRAME_GAIN_DB,
) -> Prepared:
    """Every sound of ``timeline`` made and placed on the frame grid.

    ``sounds`` are ones made before (and gets those made now); ``make`` makes a missing one
    (``make_sound`` at ``lift_db`` by default; ``frame_cache.maker`` keeps them in the cue cache).
    """
    made = {} if sounds is None else sounds

    def sound(key: SoundKey) -> Sound:
        if key not in made:
            made[key] = (
                make(key)
                if make is not None
                else make_sound(key, cues, sample_rate, bitrate, lift_db=lift_db)
            )
        return made[key]

    laid = plan(timeline, cues, sample_rate, lambda key: sound(key).block.size)
    return Prepared(laid, made, sample_rate, bitrate)


def write(
    timeline: Timeline,
    cues: CueAudio,
    sample_rate: int,
    bitrate: int,
    fp: IO[bytes],
    *,
    sounds: dict[SoundKey, Sound] | None = None,
    make: Callable[[SoundKey], Sound] | None = None,
    lift_db: float = FRAME_GAIN_DB,
) -> Written:
    """Write ``timeline`` as an MP3 into ``fp`` from frames (:func:`prepare`, then write)."""
    return prepare(timeline, cues, sample_rate, bitrate, sounds=sounds, make=make, lift_db=lift_db).write(fp)


def measurement(
    laid: FramePlan, sounds: dict[SoundKey, Sound], sample_rate: int, bitrate: int
) -> audio.Measurement:
    """What a decoder will measure: loudness from the mastered sounds where they play, and the
    true peak as the bound the coding margin gives (as ``master.decoded_measurement``)."""
    spf = frames.samples_per_frame(sample_rate)
    onsets = [(f * spf + frames.LEAD, key) for f, key in laid.placements]
    return measure_placed(onsets, laid.length, sounds, sample_rate, bitrate)


def measure_placed(
    onsets: list[tuple[int, SoundKey]],
    length: int,
    sounds: dict[SoundKey, Sound],
    sample_rate: int,
    bitrate: int,
) -> audio.Measurement:
    """What a decoder will measure on ``length`` samples holding each sound at its onset sample
    (a whole track, or a split track's part of it: ``frame_split.measurement``)."""
    keys = list(dict.fromkeys(key for _, key in onsets))
    index = {key: i for i, key in enumerate(keys)}
    lay = Layout(  # the loudness comes from the energies: of each sound only its length is read
        sample_rate,
        length,
        tuple(np.broadcast_to(np.float32(0), (sounds[k].samples,)) for k in keys),
        tuple(sounds[k].true_peak_dbtp for k in keys),
        np.array([at for at, _ in onsets], dtype=np.int64),
        np.array([index[k] for _, k in onsets], dtype=np.int64),
    )
    peak = max(lay.peaks, default=-math.inf)
    loudness = master.placed_loudness(lay, lambda s, positions: sounds[keys[s]].energy.at(positions))
    return audio.Measurement(
        loudness + mp3.DECODED_GAIN_DB,
        peak + mp3.DECODED_GAIN_DB + master.coding_margin_db(sample_rate, bitrate),
    )
