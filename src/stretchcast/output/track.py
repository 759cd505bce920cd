"""Every file a build writes for one routine, from its assembled audio, all at once or not at all.

For a routine written as ``<slug>``: the MP3 (tags, chapters in time order, cover), the WebVTT
captions, the cover as a PNG, with ``split`` one MP3 per exercise and an M3U8 playlist of them,
and last the JSON manifest that names them all. Split tracks are cut from the same mastered audio
at the chapter boundaries (silence), so they share its level and play back to back without a gap;
the welcome opens the first and the finish closes the last.

Two back ends write the audio (``encoder``): "frames" writes each distinct sound's MP3 frames,
encoded once and kept in the cue cache, with silent frames between (``sound.frame_track``; split
tracks are cut from the same frames, ``sound.frame_split``); "pcm" masters the whole track and
encodes it. "auto", the default, takes frames whenever they can write the track: always, unless
sounds overlap or a split track cannot be cut at its chapter (then PCM, and the reason is kept).

The audio is never held whole: the tags are written first, then the mastered track is streamed
through the encoders straight into the staged files (see ``sound.master`` and ``sound.encode``).
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from stretchcast.content import Routine, words
from stretchcast.errors import UsageError
from stretchcast.output import captions
from stretchcast.output.cover import Cover, Segment, cached_cover
from stretchcast.output.files import OutputSet, exclusive, interrupts_deferred, remove_stale
from stretchcast.output.manifest import (
    AudioInfo,
    CoverInfo,
    ExerciseInfo,
    GuidanceInfo,
    Manifest,
    RoutineInfo,
    SplitInfo,
    TagsInfo,
    VoiceInfo,
)
from stretchcast.output.playlist import m3u8
from stretchcast.output.tags import Tags, id3_bytes
from stretchcast.sound import encode, frame_cache, frame_split, frame_track, layout, master, mp3
from stretchcast.sound.cues import CueSet
from stretchcast.timeline import Chapter, Timeline
from stretchcast.version import __version__
from stretchcast.voices.cache import CueCache

log = logging.getLogger(__name__)

_SPLIT_NAME = re.compile(r"\d{2,3}-[a-z0-9]+(?:-[a-z0-9]+)*\.mp3")


@dataclass(frozen=True)
class Section:
    """A part of the track written as its own file: one exercise (with the welcome or finish if at an end)."""

    title: str
    start_ms: int
    end_ms: int
    exercise: str | None
    chapters: tuple[Chapter, ...]  # the track's chapters within it, in the section's own time


@dataclass(frozen=True)
class Written:
    """What a build wrote, and what its decoded audio measures (predicted exactly; see ``sound.master``)."""

    mp3: Path
    manifest: Path
    captions: Path
    cover: Path
    playlist: Path | None
    split: tuple[Path, ...]
    mastered: master.MasteredTrack | None  # None from the frame back end (no master pass)
    whole: encode.Encoded
    size_bytes: int
    timeline: Timeline | None = None  # as decoders play it (the frame back end moves events to its grid)
    encoder: str = "pcm"
    encoder_reason: str = ""  # why this back end wrote the track (for "auto": why not frames)


def sections(timeline: Timeline) -> list[Section]:
    """One section per exercise chapter; the welcome joins the first and the finish the last."""
    exercise_chapters = [c for c in timeline.chapters if c.exercise is not None]
    if not exercise_chapters:
        return []
    out = []
    for i, ch in enumerate(exercise_chapters):
        start = 0 if i == 0 else ch.start_ms
        end = timeline.duration_ms if i == len(exercise_chapters) - 1 else exercise_chapters[i + 1].start_ms
        inside = tuple(
            Chapter(c.title, c.start_ms - start, c.end_ms - start, c.exercise)
            for c in timeline.chapters
            if start <= c.start_ms < end
        )
        out.append(Section(ch.title, start, end, ch.exercise, inside))
    return out


def track_number(routine: Routine) -> tuple[int, int | None]:
    """The whole routine's place in the collection's album: presets in order (of N), others after them."""
    presets = routine.collection.presets()
    path = routine.path.resolve() if routine.path else None
    for i, name in enumerate(presets, start=1):
        if path == (routine.collection.routines_dir / f"{name}.yaml").resolve():
            return i, len(presets)
    return len(presets) + 1, None


def summary(routine: Routine, duration_ms: int) -> str:
    """The routine in one paragraph, for the comment tag: length, then each exercise and its dose."""
    parts = []
    for item in routine.items:
        ex, dose = item.exercise, item.dose
        text = f"{ex.name}: {dose.reps} {ex.reps_unit}"
        if dose.hold:
            text += f", {dose.hold} s holds"
        if dose.sets > 1:
            text += f", {dose.sets} sets"
        parts.append(text)
    rounds = f" Done {words.number(routine.rounds)} times through." if routine.rounds > 1 else ""
    return f"Guided routine, {words.clock(duration_ms)}. {'. '.join(parts)}.{rounds} Made with stretchcast."


def _cover(routine: Routine, timeline: Timeline, cues: layout.CuePeaks) -> Cover:
    # kept beside the cue cache when the build has one: drawn once per routine, length and title
    cache = getattr(cues, "cache", None)
    folder = cache.derived_folder("covers") if isinstance(cache, CueCache) else None
    index = {item.exercise.id: i for i, item in enumerate(routine.items)}
    segments = [
        Segment(c.start_ms, c.end_ms, index.get(c.exercise) if c.exercise else None)
        for c in timeline.chapters
    ]
    return cached_cover(
        folder,
        title=routine.title,
        collection=routine.collection.album,
        duration_ms=timeline.duration_ms,
        segments=segments,
        exercises=len(routine.items),
    )


def write(
    routine: Routine,
    timeline: Timeline,
    cues: layout.CuePeaks,
    *,
    out_dir: Path,
    slug: str,
    sample_rate: int,
    bitrate: int,
    split: bool = False,
    year: int | None = None,
    voice: VoiceInfo,
    encoder: str = "auto",
) -> Written:
    """Master, encode and write every file of the build into ``out_dir``; returns what was written.

    ``cues`` is the prepared cue audio (a ``CueSet``); ``voice`` is what the manifest says about
    the voice. Nothing in ``out_dir`` changes unless every file is ready; then files a previous
    build left that this one does not make (old split tracks, a playlist) are removed.
    ``encoder`` "frames" writes the track from each cue's MP3 frames (``sound.frame_track``) and
    the manifest, captions and chapters give the times its grid moved events to; "pcm" masters
    and encodes the whole track; "auto" is frames where they can write the track, else PCM.
    """
    if encoder not in {"auto", "frames", "pcm"}:
        raise ValueError(f"unknown encoder {encoder!r}")
    frame_plan: frame_track.Prepared | None = None
    frame_cuts: list[frame_split.Cut] = []
    reason = "asked for"
    if encoder != "pcm":
        frame_plan, frame_cuts, problem = _frames_for(timeline, cues, sample_rate, bitrate, split)
        if problem and encoder == "frames":
            raise UsageError(
                f"the frame back end cannot write this track: {problem}",
                fix="Leave the encoder to auto, or use pcm.",
            )
        if encoder == "auto":
            reason = f"auto: {problem}" if problem else "auto: no sounds overlap"
            if problem:
                log.info("the PCM path writes %s: %s", slug, problem)
    if frame_plan is not None:
        timeline = frame_plan.timeline
    parts = sections(timeline) if split else []
    cuts = [
        (layout.ms_to_samples(p.start_ms, sample_rate), layout.ms_to_samples(p.end_ms, sample_rate))
        for p in parts
    ]
    mastered = (
        None
        if frame_plan is not None
        else master.master_for_mp3(layout.layout(timeline, cues, sample_rate), bitrate)
    )
    cover = _cover(routine, timeline, cues)
    year = year if year is not None else routine.collection.year
    track, tracks = track_number(routine)
    comment = summary(routine, timeline.duration_ms)

    mp3_path = out_dir / f"{slug}.mp3"
    vtt_path = out_dir / f"{slug}.vtt"
    png_path = out_dir / f"{slug}.png"
    playlist_path = out_dir / f"{slug}.m3u8"
    split_dir = out_dir / slug
    manifest_path = out_dir / f"{slug}.json"

    whole_tags = Tags(
        title=routine.title,
        album=routine.collection.album,
        track=track,
        tracks=tracks,
        year=year,
        comment=comment,
        length_ms=timeline.duration_ms,
    )
    split_entries: list[SplitInfo] = []
    split_paths: list[Path] = []
    width = max(2, len(str(len(parts))))
    with OutputSet() as files:
        with contextlib.ExitStack() as open_files:
            # Tags first (everything in them is known before the audio), then one pass of the
            # mastered track through every encoder, each writing into its staged file.
            fp = open_files.enter_context(files.stream(mp3_path))
            fp.write(id3_bytes(whole_tags, timeline.chapters, cover))
            framed = frame_plan.write(fp) if frame_plan is not None else None
            writers = (
                []
                if mastered is None
                else [(0, mastered.layout.length, mp3.Mp3Writer(fp, sample_rate, bitrate))]
            )
            for n, (part, (start, end)) in enumerate(zip(parts, cuts, strict=True), start=1):
                name = f"{n:0{width}d}-{part.exercise}.mp3"
                length_ms = round((end - start) * 1000 / sample_rate)
                tags = Tags(
                    title=part.title,
                    album=routine.title,
                    track=n,
                    tracks=len(parts),
                    year=year,
                    comment=f"Part {n} of {len(parts)} of {routine.title}. {comment}",
                    length_ms=length_ms,
                )
                path = split_dir / name
                part_fp = open_files.enter_context(files.stream(path))
                part_fp.write(id3_bytes(tags, part.chapters, cover))
                split_paths.append(path)
                if frame_plan is not None:  # the whole track's own frames, cut at the chapter
                    frame_split.write(frame_plan, frame_cuts[n - 1], part_fp)
                    measured = frame_split.measurement(frame_plan, frame_cuts[n - 1])
                else:
                    assert mastered is not None
                    writers.append((start, end, mp3.Mp3Writer(part_fp, sample_rate, bitrate)))
                    measured = master.section_measurement(mastered, start, end, bitrate)
                split_entries.append(
                    SplitInfo(
                        file=f"{slug}/{name}",
                        title=part.title,
                        track=n,
                        exercise=part.exercise,
                        start_ms=part.start_ms,
                        duration_ms=length_ms,
                        loudness_lufs=round(measured.loudness_lufs, 2),
                        true_peak_dbtp=round(measured.true_peak_dbtp, 2),
                    )
                )
            if mastered is not None:
                encode.encode(mastered, writers)
            stats = [writer.close() for _, _, writer in writers]
            whole_bytes = fp.tell()
        if framed is not None:
            whole = encode.Encoded(framed.stats, framed.measured)
        else:
            assert mastered is not None
            whole = encode.Encoded(stats[0], master.decoded_measurement(mastered, bitrate))
        files.add_text(vtt_path, captions.webvtt(timeline))
        files.add(png_path, cover.data)
        if split:
            files.add_text(
                playlist_path,
                m3u8(
                    routine.title,
                    [(e.file, e.title, e.duration_ms / 1000) for e in split_entries],
                ),
            )
        manifest = Manifest(
            generator=f"stretchcast {__version__}",
            title=routine.title,
            slug=slug,
            collection=routine.collection.id,
            voice=voice,
            duration_ms=timeline.duration_ms,
            audio=AudioInfo(
                file=mp3_path.name,
                sample_rate=sample_rate,
                bitrate_kbps=bitrate,
                encoder="frames" if frame_plan is not None else "pcm",
                samples=whole.stats.samples,
                bytes=whole_bytes,
                loudness_lufs=round(whole.measured.loudness_lufs, 2),
                true_peak_dbtp=round(whole.measured.true_peak_dbtp, 2),
            ),
            tags=TagsInfo(
                title=whole_tags.title,
                artist=whole_tags.artist,
                album=whole_tags.album,
                track=track,
                tracks=whole_tags.tracks,
                year=year,
                genre=whole_tags.genre,
                comment=comment,
            ),
            cover=CoverInfo(
                embedded=True,
                file=png_path.name,
                mime=cover.mime,
                width=cover.width,
                height=cover.height,
                bytes=len(cover.data),
            ),
            captions=vtt_path.name,
            playlist=playlist_path.name if split else None,
            split=tuple(split_entries),
            routine=routine_info(routine),
            chapters=timeline.chapters,
            spans=timeline.spans,
            events=timeline.events,
        )
        files.add_text(manifest_path, manifest.to_json())
        # One build at a time puts its files in place, and never only half of them.
        with exclusive(out_dir), interrupts_deferred():
            files.commit()
            # a previous build's split tracks (and playlist) that this build did not make
            remove_stale(split_dir, {p.name for p in split_paths}, _SPLIT_NAME)
            if not split:
                playlist_path.unlink(missing_ok=True)
    return Written(
        mp3=mp3_path,
        manifest=manifest_path,
        captions=vtt_path,
        cover=png_path,
        playlist=playlist_path if split else None,
        split=tuple(split_paths),
        mastered=mastered,
        whole=whole,
        size_bytes=whole_bytes,
        timeline=timeline,
        encoder="frames" if frame_plan is not None else "pcm",
        encoder_reason=reason,
    )


def _frames_for(
    timeline: Timeline, cues: layout.CuePeaks, sample_rate: int, bitrate: int, split: bool
) -> tuple[frame_track.Prepared | None, list[frame_split.Cut], str]:
    """The track on the frame grid and its split tracks' cuts, or why frames cannot write it."""
    sounding = [e for e in timeline.events if e.kind != "silence" and e.text is not None]
    for before, after in itertools.pairwise(sounding):
        if after.start_ms < before.end_ms:  # the grid plays one sound at a time
            return None, [], f"sounds overlap at {words.clock(after.start_ms)}"
    lift = frame_track.lift_for(cues.voice.name) if isinstance(cues, CueSet) else frame_track.FRAME_GAIN_DB
    prepared = frame_track.prepare(
        timeline,
        cues,
        sample_rate,
        bitrate,
        make=_frame_maker(cues, sample_rate, bitrate, lift),
        lift_db=lift,
    )
    cuts = []
    for n, part in enumerate(sections(prepared.timeline) if split else [], start=1):
        start = layout.ms_to_samples(part.start_ms, sample_rate)
        end = layout.ms_to_samples(part.end_ms, sample_rate)
        try:
            cuts.append(frame_split.cut(prepared, start, end))
        except frame_split.CutError as err:
            return None, [], f"split track {n} cannot be cut from the frames: {err}"
    return prepared, cuts, ""


def routine_info(routine: Routine) -> RoutineInfo:
    """The routine's settings as the manifest records them (what was built)."""
    g = routine.guidance
    return RoutineInfo(
        title=routine.title,
        rounds=routine.rounds,
        guidance=GuidanceInfo(pace=g.pace, chimes=g.chimes, countdown=g.countdown),
        exercises=tuple(
            ExerciseInfo(i.exercise.id, i.dose.reps, i.dose.hold, i.dose.pace, i.dose.rest, i.dose.sets)
            for i in routine.items
        ),
    )


def _frame_maker(
    cues: layout.CuePeaks, sample_rate: int, bitrate: int, lift_db: float
) -> Callable[[frame_track.SoundKey], frame_track.Sound] | None:
    """Where the frame back end gets a sound: the cue cache when the cues come with one."""
    if not isinstance(cues, CueSet) or cues.cache is None:
        return None
    return frame_cache.maker(cues.cache, cues, sample_rate, bitrate, lift_db=lift_db)


def routine_dict(routine: Routine) -> dict[str, Any]:
    """The routine's settings as plain data (what was built, for the manifest)."""
    return asdict(routine_info(routine))
