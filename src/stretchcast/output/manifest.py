"""The manifest: what one build wrote and every cue's exact time, as a typed value and as JSON.

:class:`Manifest` is written by the output stage (:func:`stretchcast.output.track.write`) and read
by serve, the notebooks and the tests, all through :meth:`Manifest.load` / :meth:`Manifest.from_dict`.
Reading is strict: a file that is not JSON, is of another format version, misses a key, has a key
this version does not know or a value of the wrong type raises :class:`ManifestError`, naming the
key (``split[2].duration_ms``). The same format is described for other tools by the JSON Schema in
``docs/manifest.schema.json``; any change to the keys raises :data:`MANIFEST_FORMAT`.

The JSON is the dataclasses' fields in their declared order, so the field order below is the file's
key order: it must not change, or rebuilt manifests stop being byte-identical to earlier ones.
"""

from __future__ import annotations

import dataclasses
import json
import math
import types
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal, TypeVar, Union, get_args, get_origin, get_type_hints

from stretchcast.content.reading import read_bounded
from stretchcast.errors import InputError, Where
from stretchcast.output.files import MAX_MANIFEST_BYTES
from stretchcast.timeline import Chapter, Event, Span

#: The manifest format this version writes and the only one it reads.
MANIFEST_FORMAT = 2  # 2: audio.encoder; format 1 (before it) is still read, as "pcm"


class ManifestError(InputError):
    """A file that is not a manifest this version of stretchcast can read."""


@dataclass(frozen=True)
class VoiceInfo:
    """Which voice spoke the track, in one line, and why it was chosen."""

    engine: str
    description: str
    reason: str


@dataclass(frozen=True)
class AudioInfo:
    """The whole-track MP3: its format, size, and the loudness and true peak it decodes to."""

    file: str
    sample_rate: int
    bitrate_kbps: int
    #: What wrote the MP3: "pcm" (mastered and encoded whole) or "frames" (cues' cached MP3 frames).
    encoder: Literal["pcm", "frames"]
    samples: int
    bytes: int
    loudness_lufs: float
    true_peak_dbtp: float
    #: How loudness and peak were found: predicted exactly from the mastered PCM (see ``render``).
    measured: Literal["predicted"] = "predicted"


@dataclass(frozen=True)
class TagsInfo:
    """What the whole track's ID3 tag says."""

    title: str
    artist: str
    album: str
    track: int
    tracks: int | None  # None for a routine that is not one of the collection's presets
    year: int | None  # None when the collection names no year and none was given
    genre: str
    comment: str


@dataclass(frozen=True)
class CoverInfo:
    """The cover picture, embedded in every MP3 and written beside them."""

    embedded: bool
    file: str
    mime: str
    width: int
    height: int
    bytes: int


@dataclass(frozen=True)
class SplitInfo:
    """One exercise's own MP3 (with ``--split``), where it starts in the whole track, and its level."""

    file: str  # relative to the manifest's folder, "/"-separated
    title: str
    track: int
    exercise: str | None
    start_ms: int
    duration_ms: int
    loudness_lufs: float
    true_peak_dbtp: float


@dataclass(frozen=True)
class GuidanceInfo:
    """The routine's guidance as built: pace factor, chimes, countdowns."""

    pace: float
    chimes: bool
    countdown: bool


@dataclass(frozen=True)
class ExerciseInfo:
    """One exercise of the routine as built, with its dose."""

    id: str
    reps: int
    hold: int
    pace: float
    rest: int
    sets: int


@dataclass(frozen=True)
class RoutineInfo:
    """What was built: the routine's settings (a routine file with them builds the same track)."""

    title: str
    rounds: int
    guidance: GuidanceInfo
    exercises: tuple[ExerciseInfo, ...]


@dataclass(frozen=True)
class Manifest:
    """Everything one build wrote for a routine, and every cue, chapter, hold and rest with its time."""

    FORMAT: ClassVar[int] = MANIFEST_FORMAT

    generator: str
    title: str
    slug: str
    collection: str
    voice: VoiceInfo
    duration_ms: int
    audio: AudioInfo
    tags: TagsInfo
    cover: CoverInfo
    captions: str
    playlist: str | None
    split: tuple[SplitInfo, ...]
    routine: RoutineInfo
    chapters: tuple[Chapter, ...]
    spans: tuple[Span, ...]
    events: tuple[Event, ...]

    def to_dict(self) -> dict[str, Any]:
        """The manifest as JSON-ready data, ``format`` first, keys in the order of the fields."""
        return {"format": self.FORMAT, **_json_ready(self)}

    def to_json(self) -> str:
        """The manifest file's text: pretty, stable JSON (the same manifest gives the same bytes)."""
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_dict(cls, data: object, *, source: Path | None = None) -> Manifest:
        """The manifest ``data`` (parsed JSON) holds; ManifestError naming the key if it is not one."""
        where = Where(source) if source is not None else None
        if not isinstance(data, Mapping):
            raise ManifestError(
                "not a stretchcast manifest: the JSON is not an object",
                where=where,
                fix="Point at the <name>.json that 'stretchcast build' wrote beside the MP3.",
            )
        found = data.get("format")
        if found == 1 and isinstance(data.get("audio"), Mapping) and not isinstance(found, bool):
            # format 1 was written before the frame back end: every such track came from PCM
            data = {**data, "format": cls.FORMAT, "audio": {**data["audio"], "encoder": "pcm"}}
            found = cls.FORMAT
        if found != cls.FORMAT or isinstance(found, bool):
            what = "has no 'format'" if found is None else f"is format {found!r}"
            raise ManifestError(
                f"not a manifest this version can read: it {what}, and stretchcast reads format {cls.FORMAT}",
                where=where,
                fix="Rebuild the track with this version of stretchcast.",
            )
        body = {key: value for key, value in data.items() if key != "format"}
        try:
            return _decode(cls, body, "")
        except _InvalidError as err:
            raise ManifestError(
                f"not a valid manifest: {err}",
                where=where,
                fix="Rebuild the track with 'stretchcast build'; do not edit the manifest by hand.",
            ) from None

    @classmethod
    def from_json(cls, text: str | bytes, *, source: Path | None = None) -> Manifest:
        """The manifest in JSON ``text``; ManifestError if it is not JSON or not a manifest."""
        try:
            data = json.loads(text)
        except ValueError as err:
            raise ManifestError(
                f"not a manifest: the file is not JSON ({err})",
                where=Where(source) if source is not None else None,
                fix="Rebuild the track with 'stretchcast build'.",
            ) from None
        return cls.from_dict(data, source=source)

    @classmethod
    def load(cls, path: Path) -> Manifest:
        """The manifest in the file at ``path``; ManifestError if it cannot be read or is not one."""
        raw = read_bounded(
            path,
            MAX_MANIFEST_BYTES,
            error=ManifestError,
            what="manifest",
            fix="Check the path; 'stretchcast build' writes <name>.json beside <name>.mp3.",
        )
        return cls.from_json(raw, source=path)

    def files(self) -> tuple[str, ...]:
        """Every file the build wrote besides the manifest, relative to its folder: the MP3, the
        captions, the cover, the playlist and the split tracks (those the build made).
        """
        names = [self.audio.file, self.captions, self.cover.file]
        if self.playlist is not None:
            names.append(self.playlist)
        names += [s.file for s in self.split]
        return tuple(names)


#: Each dataclass's field names in declared order, found once (``dataclasses.fields`` is slow).
_FIELDS: dict[type, tuple[str, ...]] = {}
_ATOMS = (str, int, float, bool, type(None))


def _json_ready(value: Any) -> Any:
    """``value`` as JSON has it: a dataclass as a dict of its fields in order, a tuple as a list.

    What ``dataclasses.asdict`` then making tuples lists gives, without asdict's deep copy of
    every value (24 ms for a 1,407-event manifest against 2 ms; the tests hold the two to the byte).
    """
    kind = type(value)
    if kind in _ATOMS:
        return value
    names = _FIELDS.get(kind)
    if names is None and dataclasses.is_dataclass(value) and not isinstance(value, type):
        names = _FIELDS[kind] = tuple(f.name for f in dataclasses.fields(value))
    if names is not None:
        return {name: _json_ready(getattr(value, name)) for name in names}
    if isinstance(value, dict):
        return {key: _json_ready(item) for key, item in value.items()}
    if isinstance(value, tuple | list):
        return [_json_ready(item) for item in value]
    return value


# -- reading JSON into the dataclasses above, by their type hints -----------------------------------


class _InvalidError(ValueError):
    """A value of the wrong shape, with the key path it was found at."""


_T = TypeVar("_T")
_JSON_NAMES = {bool: "true or false", int: "a whole number", float: "a number", str: "a string"}


def _at(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _describe(value: object) -> str:
    text = json.dumps(value) if not isinstance(value, Mapping | list) else type(value).__name__
    return text if len(text) <= 40 else text[:37] + "..."


def _decode(tp: type[_T], value: object, path: str) -> _T:
    """``value`` as an instance of dataclass ``tp``; _InvalidError naming the first key that is wrong."""
    if not isinstance(value, Mapping):
        raise _InvalidError(f"{path or 'the file'} should be an object, not {_describe(value)}")
    hints = get_type_hints(tp)
    fields = {f.name: f for f in dataclasses.fields(tp)}  # type: ignore[arg-type]
    unknown = sorted(str(key) for key in value if key not in fields)
    if unknown:
        raise _InvalidError(f"{_at(path, unknown[0])} is not a key of this format")
    kwargs: dict[str, Any] = {}
    for name, field in fields.items():
        if name not in value:
            if field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
                raise _InvalidError(f"{_at(path, name)} is missing")
            continue
        kwargs[name] = _value(hints[name], value[name], _at(path, name))
    return tp(**kwargs)


def _value(tp: Any, value: object, path: str) -> Any:
    """``value`` checked against the type hint ``tp`` (tuples become tuples; numbers keep their type)."""
    origin = get_origin(tp)
    if dataclasses.is_dataclass(tp):
        return _decode(tp, value, path)  # type: ignore[arg-type]
    if origin in (Union, types.UnionType):
        options = get_args(tp)
        if value is None and type(None) in options:
            return None
        (inner,) = [o for o in options if o is not type(None)]
        return _value(inner, value, path)
    if origin is Literal:
        allowed = get_args(tp)
        if isinstance(value, str) and value in allowed:
            return value
        raise _InvalidError(
            f"{path} should be one of {', '.join(map(json.dumps, allowed))}, not {_describe(value)}"
        )
    if origin is tuple:
        if not isinstance(value, list):
            raise _InvalidError(f"{path} should be a list, not {_describe(value)}")
        item_type = get_args(tp)[0]
        return tuple(_value(item_type, item, _at(path, i)) for i, item in enumerate(value))
    # JSON's true and false are not numbers, and a float field takes a whole number as written
    ok = (
        isinstance(value, bool)
        if tp is bool
        else isinstance(value, int) and not isinstance(value, bool)
        if tp is int
        else isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        if tp is float
        else isinstance(value, str)
        if tp is str
        else False
    )
    if not ok:
        if tp not in _JSON_NAMES:
            raise TypeError(f"a manifest field of type {tp!r} cannot be read")  # a bug in this module
        raise _InvalidError(f"{path} should be {_JSON_NAMES[tp]}, not {_describe(value)}")
    return value


__all__ = [
    "MANIFEST_FORMAT",
    "AudioInfo",
    "CoverInfo",
    "ExerciseInfo",
    "GuidanceInfo",
    "Manifest",
    "ManifestError",
    "RoutineInfo",
    "SplitInfo",
    "TagsInfo",
    "VoiceInfo",
]
