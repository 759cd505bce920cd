"""The public entry points: plan a routine (no audio) and build it (audio files in a folder).

The command line and the notebooks both call these; nothing else strings the stages together.
"""

from __future__ import annotations

import dataclasses
import io
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import __version__, mp3, render, words
from .content import PACE_FACTOR_RANGE, Guidance, Routine
from .cues import speak_cues
from .errors import UsageError
from .export import Tags, atomic_file, check_writable, id3_tag, write_json
from .timeline import Timeline, compile_timeline
from .voices import Choice, Voice, VoiceSettings, choose_voice
from .voices.cache import CueCache

log = logging.getLogger(__name__)

DEFAULT_SAMPLE_RATE = 22050
DEFAULT_BITRATE = 64
MANIFEST_FORMAT = 1


@dataclass(frozen=True)
class BuildOptions:
    """Where and how to write a track."""

    out_dir: Path = Path("audio")
    sample_rate: int = DEFAULT_SAMPLE_RATE
    bitrate: int = DEFAULT_BITRATE
    name: str | None = None  # output file stem; the routine's slug by default

    def __post_init__(self) -> None:
        mp3.check_format(self.sample_rate, self.bitrate)


def with_guidance(
    routine: Routine,
    *,
    pace: float | None = None,
    chimes: bool | None = None,
    countdown: bool | None = None,
) -> Routine:
    """``routine`` with its guidance settings changed where a value is given."""
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
    return dataclasses.replace(routine, guidance=guidance)


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
    cues_cached: int = 0  # cues the cue cache gave back instead of the engine
    cache_problems: tuple[str, ...] = ()  # why cues could not be cached (never fatal)


def build(
    routine: Routine,
    *,
    voice: Voice | Choice | str | None = None,
    offline: bool = False,
    options: BuildOptions | None = None,
    progress: bool = False,
    voice_settings: VoiceSettings | None = None,
    cache: CueCache | bool = True,
) -> BuildResult:
    """Speak, assemble, master, encode and write ``routine``; returns where the files are.

    ``voice`` is an engine, a choice already made, an engine name, or None for the routine's voice
    (else "auto"); ``offline`` keeps "auto" from trying voices that need the network.
    ``cache`` is a cue cache, True for the user's (``$STRETCHCAST_CACHE`` or the user cache
    folder), or False for none.
    Nothing is written unless every step succeeds; a previous track stays until the new one is whole.
    """
    began = time.perf_counter()
    options = options or BuildOptions()
    slug = options.name or routine.slug
    out_dir = options.out_dir
    check_writable(out_dir)

    if isinstance(voice, Choice):
        choice = voice
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
        choice, estimated.texts(), options.sample_rate, cache=cue_cache, progress=progress
    )
    timeline = compile_timeline(routine, cues.length_ms)

    raw = render.assemble(timeline, cues, options.sample_rate)
    mastered = render.master(raw, options.sample_rate)
    pcm = render.to_int16(mastered.samples)

    collection = routine.collection
    tags = Tags(title=routine.title, album=collection.album, comment=_summary(routine, timeline))
    tag_bytes = io.BytesIO()
    id3_tag(tags, timeline.chapters).save(tag_bytes, v2_version=4, padding=lambda _info: 0)

    mp3_path = out_dir / f"{slug}.mp3"
    with atomic_file(mp3_path) as fp:
        fp.write(tag_bytes.getvalue())
        writer = mp3.Mp3Writer(fp, options.sample_rate, options.bitrate)
        writer.write(pcm)
        stats = writer.close()
    size = mp3_path.stat().st_size

    described = choice.voice.describe()
    manifest: dict[str, Any] = {
        "format": MANIFEST_FORMAT,
        "generator": f"stretchcast {__version__}",
        "title": routine.title,
        "slug": slug,
        "collection": collection.id,
        "voice": {"engine": choice.voice.name, "description": described, "reason": choice.reason},
        "duration_ms": timeline.duration_ms,
        "audio": {
            "file": mp3_path.name,
            "sample_rate": options.sample_rate,
            "bitrate_kbps": options.bitrate,
            "samples": stats.samples,
            "bytes": size,
            "loudness_lufs": round(mastered.loudness_lufs, 2),
            "true_peak_dbtp": round(mastered.true_peak_dbtp, 2),
        },
        "routine": routine_dict(routine),
        "chapters": [dataclasses.asdict(c) for c in timeline.chapters],
        "spans": [dataclasses.asdict(s) for s in timeline.spans],
        "events": [dataclasses.asdict(e) for e in timeline.events],
    }
    manifest_path = out_dir / f"{slug}.json"
    write_json(manifest_path, manifest)
    return BuildResult(
        mp3=mp3_path,
        manifest=manifest_path,
        timeline=timeline,
        voice=described,
        voice_reason=choice.reason,
        cues_synthesized=cues.synthesized,
        cues_cached=cues.cached,
        cache_problems=tuple(cue_cache.problems) if cue_cache is not None else (),
        loudness_lufs=mastered.loudness_lufs,
        true_peak_dbtp=mastered.true_peak_dbtp,
        size_bytes=size,
        seconds=time.perf_counter() - began,
    )


def routine_dict(routine: Routine) -> dict[str, Any]:
    """The routine's settings as plain data (what was built, for the manifest)."""
    return {
        "title": routine.title,
        "rounds": routine.rounds,
        "guidance": dataclasses.asdict(routine.guidance),
        "exercises": [{"id": item.exercise.id, **dataclasses.asdict(item.dose)} for item in routine.items],
    }


def _summary(routine: Routine, timeline: Timeline) -> str:
    parts = [f"{item.exercise.name} x{item.dose.reps}" for item in routine.items]
    rounds = f", {routine.rounds} rounds" if routine.rounds > 1 else ""
    return f"{words.clock(timeline.duration_ms)}: {'; '.join(parts)}{rounds}."
