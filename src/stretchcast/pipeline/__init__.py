"""The public entry points: plan a routine (no audio) and build it (audio files in a folder).

The command line and the notebooks both call these; nothing else strings the stages together.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stretchcast.content import PACE_FACTOR_RANGE, Guidance, Routine, slugify
from stretchcast.errors import UsageError
from stretchcast.output import track as tracks
from stretchcast.output.files import check_outputs
from stretchcast.output.manifest import VoiceInfo
from stretchcast.progress import ProgressCallback, no_progress
from stretchcast.sound import mp3
from stretchcast.sound.cues import speak_cues
from stretchcast.sound.formats import DEFAULT_BITRATE as DEFAULT_BITRATE
from stretchcast.sound.formats import DEFAULT_SAMPLE_RATE as DEFAULT_SAMPLE_RATE
from stretchcast.sound.formats import ENCODERS as ENCODERS
from stretchcast.timeline import Timeline, compile_timeline
from stretchcast.voices import Choice, Voice, VoiceSettings, choose_voice
from stretchcast.voices.cache import CueCache

log = logging.getLogger(__name__)
# DEFAULT_SAMPLE_RATE, DEFAULT_BITRATE and ENCODERS are defined in sound.formats, where --help
# reads them without loading this module; they are re-exported above for every caller here.


@dataclass(frozen=True)
class BuildOptions:
    """Where and how to write a track."""

    out_dir: Path = Path("audio")
    sample_rate: int = DEFAULT_SAMPLE_RATE
    bitrate: int = DEFAULT_BITRATE
    name: str | None = None  # output file stem; the routine's slug by default
    split: bool = False  # also one MP3 per exercise in <out_dir>/<name>/, and an .m3u8 of them
    year: int | None = None  # the year tag; the collection's year by default (never the clock's)
    # "frames": the track from each sound's MP3 frames (sound.frame_track), "pcm": mastered and
    # encoded whole; "auto": frames whenever they can write the track, else PCM (output.track)
    encoder: str = "auto"

    def __post_init__(self) -> None:
        mp3.check_format(self.sample_rate, self.bitrate)
        if self.name is not None and (not self.name or slugify(self.name) != self.name):
            example = slugify(self.name) or "my-routine"
            raise UsageError(
                f"--name {self.name!r} is not a plain file name",
                fix=f"Use lower-case letters, digits and dashes, like '{example}'.",
            )
        if self.encoder not in ENCODERS:
            raise UsageError(f"--encoder {self.encoder} is not known", fix="Use auto, frames or pcm.")
        if self.year is not None and not 1900 <= self.year <= 2999:
            raise UsageError(f"--year {self.year} is not a year", fix="Use a four-digit year, like 2026.")


def with_guidance(
    routine: Routine,
    *,
    pace: float | None = None,
    chimes: bool | None = None,
    countdown: bool | None = None,
) -> Routine:
    """``routine`` with its guidance settings changed where a value is given (then marked adjusted)."""
    g = routine.guidance
    if pace is not None:
        lo, hi = PACE_FACTOR_RANGE
        if not lo <= pace <= hi:
            raise UsageError(
                f"--pace {pace:g} is out of range",
                fix=f"Use a factor from {lo:g} to {hi:g}; 1 is normal.",
            )
    guidance = Guidance(
        pace=g.pace if pace is None else pace,
        chimes=g.chimes if chimes is None else chimes,
        countdown=g.countdown if countdown is None else countdown,
    )
    return routine if guidance == g else dataclasses.replace(routine, guidance=guidance).adjusted()


def plan(routine: Routine) -> Timeline:
    """The routine's timeline with estimated speech lengths; instant, no audio."""
    return compile_timeline(routine)


@dataclass(frozen=True)
class BuildResult:
    """What a build wrote and measured."""

    mp3: Path
    manifest: Path
    timeline: Timeline
    voice: str
    voice_reason: str
    cues_synthesized: int
    loudness_lufs: float
    true_peak_dbtp: float
    size_bytes: int
    seconds: float
    extra: dict[str, Any] = field(default_factory=dict)
    captions: Path | None = None
    cover: Path | None = None
    playlist: Path | None = None
    split: tuple[Path, ...] = ()
    cues_cached: int = 0  # cues the cue cache gave back instead of the engine
    cache_problems: tuple[str, ...] = ()  # why cues could not be cached (never fatal)


def build(
    routine: Routine,
    *,
    voice: Voice | Choice | str | None = None,
    offline: bool = False,
    options: BuildOptions | None = None,
    on_progress: ProgressCallback = no_progress,
    voice_settings: VoiceSettings | None = None,
    cache: CueCache | bool = True,
) -> BuildResult:
    """Speak, assemble, master, encode and write ``routine``; returns where the files are.

    ``voice`` is an engine, a choice already made, an engine name, or None for the routine's voice
    (else "auto"); ``offline`` keeps "auto" from trying voices that need the network.
    ``cache`` is a cue cache, True for the user's (``$STRETCHCAST_CACHE`` or the user cache
    folder), or False for none. ``on_progress(stage, done, total)`` hears how far the build has got
    (cues ready, then writing; see :mod:`stretchcast.progress`).
    Nothing is written unless every step succeeds; a previous track stays until the new one is whole.
    """
    began = time.perf_counter()
    options = options or BuildOptions()
    slug = options.name or routine.slug
    out_dir = options.out_dir
    check_outputs(out_dir, slug, split=options.split)  # every output path, before any cue is spoken

    if isinstance(voice, Choice):
        choice = voice  # chosen beforehand (CLI, notebook builder), with its reason kept
    elif isinstance(voice, str) or voice is None:
        choice = choose_voice(voice or routine.voice or "auto", offline=offline, settings=voice_settings)
    else:
        choice = Choice(voice, f"given {voice.name}")
    cue_cache: CueCache | None = None
    if isinstance(cache, CueCache):
        cue_cache = cache
    elif cache:
        cue_cache = CueCache.default()

    estimated = compile_timeline(routine)
    cues, choice = speak_cues(
        choice,
        estimated.texts(),
        options.sample_rate,
        cache=cue_cache,
        on_progress=on_progress,
        pronunciations=routine.collection.pronunciations,
    )
    timeline = compile_timeline(routine, cues.length_ms)

    described = choice.voice.describe()
    on_progress("write", 0, 1)
    written = tracks.write(
        routine,
        timeline,
        cues,
        out_dir=out_dir,
        slug=slug,
        sample_rate=options.sample_rate,
        bitrate=options.bitrate,
        split=options.split,
        year=options.year,
        voice=VoiceInfo(choice.voice.name, described, choice.reason),
        encoder=options.encoder,
    )
    on_progress("write", 1, 1)
    measured = written.whole.measured
    mastered = written.mastered
    # which back end wrote the track and why ("auto: sounds overlap at ..." when it fell back)
    extra: dict[str, Any] = {"encoder": written.encoder, "encoder_reason": written.encoder_reason}
    if mastered is not None:
        extra |= {
            "gain_db": mastered.gain_db,
            "limited_sounds": mastered.limited,
            "sounds": len(mastered.layout.sounds),
        }
    return BuildResult(
        mp3=written.mp3,
        manifest=written.manifest,
        timeline=written.timeline or timeline,
        voice=described,
        voice_reason=choice.reason,
        cues_synthesized=cues.synthesized,
        cues_cached=cues.cached,
        cache_problems=tuple(cue_cache.problems) if cue_cache is not None else (),
        loudness_lufs=measured.loudness_lufs,
        true_peak_dbtp=measured.true_peak_dbtp,
        size_bytes=written.size_bytes,
        seconds=time.perf_counter() - began,
        extra=extra,
        captions=written.captions,
        cover=written.cover,
        playlist=written.playlist,
        split=written.split,
    )


def routine_dict(routine: Routine) -> dict[str, Any]:
    """The routine's settings as plain data (what was built, for the manifest)."""
    return tracks.routine_dict(routine)
