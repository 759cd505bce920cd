"""The manifest: every one a build writes matches docs/manifest.schema.json and reads back as a Manifest."""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from stretchcast.content import Collection, Routine
from stretchcast.output import manifest as manifest_module
from stretchcast.output.manifest import Manifest, ManifestError
from stretchcast.pipeline import BuildOptions, build
from stretchcast.testing import FakeGoogle
from stretchcast.timeline import Chapter, Event, Span
from stretchcast.voices import choose_voice
from stretchcast.voices.cache import CueCache
from stretchcast.voices.gtts import URL_ENV

from .conftest import cobra_only

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "docs" / "manifest.schema.json"


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    """A validator for the published schema, itself checked against the 2020-12 meta-schema."""
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _built(
    routine: Routine, out: Path, voice: str, *, split: bool, cache: CueCache | bool = False
) -> tuple[Path, dict[str, Any]]:
    result = build(
        routine,
        voice=choose_voice(voice, offline=voice != "gtts"),
        options=BuildOptions(out_dir=out, split=split),
        cache=cache,
    )
    return result.manifest, json.loads(result.manifest.read_text(encoding="utf-8"))


@pytest.mark.parametrize("split", [False, True], ids=["single", "split"])
@pytest.mark.parametrize("voice", ["fake", "espeak", "piper", "gtts"])
def test_every_build_validates(
    voice: str,
    split: bool,
    tmp_path: Path,
    collection: Collection,
    preset: Callable[[str], Routine],
    piper_cache: CueCache,
    validator: jsonschema.Draft202012Validator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What each voice's build writes, one track or split, validates and reads back to the same bytes."""
    # Piper speaks about a cue a second, gTTS asks (a fake) Google: one exercise keeps them short
    short = voice in ("piper", "gtts")
    routine = cobra_only(tmp_path, collection) if short else preset("standard")
    with FakeGoogle() as google:
        monkeypatch.setenv(URL_ENV, google.url)
        path, data = _built(
            routine, tmp_path / "out", voice, split=split, cache=piper_cache if voice == "piper" else False
        )
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(data)]
    assert errors == []
    read = Manifest.load(path)
    assert read.to_json() == path.read_text(encoding="utf-8")
    assert read.voice.engine == voice
    assert (read.playlist is not None, len(read.split)) == (split, len(routine.items) if split else 0)
    assert all((path.parent / name).is_file() for name in read.files())


def _fields(cls: Any) -> list[str]:
    return [f.name for f in dataclasses.fields(cls)]


def test_schema_names_the_fields_of_the_types() -> None:
    """The schema's keys, and their order, are the dataclasses' fields: the two cannot drift apart."""
    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    props = schema["properties"]
    m = manifest_module
    assert list(props) == ["format", *_fields(Manifest)]
    assert schema["required"] == list(props)
    nested = {
        "voice": m.VoiceInfo,
        "audio": m.AudioInfo,
        "tags": m.TagsInfo,
        "cover": m.CoverInfo,
        "routine": m.RoutineInfo,
    }
    for key, cls in nested.items():
        assert list(props[key]["properties"]) == _fields(cls), key
        assert props[key]["required"] == _fields(cls), key
    items = {"split": m.SplitInfo, "chapters": Chapter, "spans": Span, "events": Event}
    for key, cls in items.items():
        assert list(props[key]["items"]["properties"]) == _fields(cls), key
        assert props[key]["items"]["required"] == _fields(cls), key
    routine = props["routine"]["properties"]
    assert list(routine["guidance"]["properties"]) == _fields(m.GuidanceInfo)
    assert list(routine["exercises"]["items"]["properties"]) == _fields(m.ExerciseInfo)


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory, preset: Callable[[str], Routine]) -> dict[str, Any]:
    """A split build's manifest, as parsed JSON."""
    out = tmp_path_factory.mktemp("good")
    return _built(preset("gentle"), out, "fake", split=True)[1]


def _changed(data: dict[str, Any], change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    changed = copy.deepcopy(data)
    change(changed)
    return changed


BAD = [
    ("extra key", lambda d: d.update(rating=5), "rating is not a key of this format"),
    ("missing key", lambda d: d.pop("chapters"), "chapters is missing"),
    (
        "wrong type deep inside",
        lambda d: d["split"][1].update(duration_ms="12"),
        'split[1].duration_ms should be a whole number, not "12"',
    ),
    ("true is not a number", lambda d: d.update(duration_ms=True), "duration_ms should be a whole number"),
    ("extra nested key", lambda d: d["audio"].update(codec="mp3"), "audio.codec is not a key of this format"),
    (
        "unknown event kind",
        lambda d: d["events"][0].update(kind="music"),
        'events[0].kind should be one of "speech", "tone", "silence", not "music"',
    ),
    ("null where a name must be", lambda d: d.update(captions=None), "captions should be a string, not null"),
]


@pytest.mark.parametrize(("change", "expected"), [(c, e) for _, c, e in BAD], ids=[n for n, _, _ in BAD])
def test_bad_manifest_named(
    good: dict[str, Any],
    change: Callable[[dict[str, Any]], None],
    expected: str,
    validator: jsonschema.Draft202012Validator,
) -> None:
    """A manifest that is wrong anywhere is refused by the reader, naming the key, and by the schema."""
    bad = _changed(good, change)
    assert not validator.is_valid(bad)
    with pytest.raises(ManifestError) as caught:
        Manifest.from_dict(bad, source=Path("audio/x.json"))
    assert caught.value.message.startswith(f"audio/x.json: not a valid manifest: {expected}")
    assert "Rebuild the track" in caught.value.message


def test_good_manifest_reads(good: dict[str, Any], validator: jsonschema.Draft202012Validator) -> None:
    """The unchanged manifest passes both the schema and the reader, and comes back as the same data."""
    assert validator.is_valid(good)
    assert Manifest.from_dict(good).to_dict() == good


def test_format_1_reads_as_pcm(good: dict[str, Any]) -> None:
    """A manifest from before the frame back end (format 1, no audio.encoder) still reads, as a PCM track."""

    def to_format_1(d: dict[str, Any]) -> None:
        d.update(format=1)
        del d["audio"]["encoder"]

    old = _changed(good, to_format_1)
    assert Manifest.from_dict(old).audio.encoder == "pcm"
    assert Manifest.from_dict(old).to_dict() == _changed(good, lambda d: d["audio"].update(encoder="pcm"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{not json", "not a manifest: the file is not JSON"),
        ('{"secret": "x"}', "not a manifest this version can read: it has no 'format'"),
        (
            '{"format": 3}',
            "not a manifest this version can read: it is format 3, and stretchcast reads format 2",
        ),
        ('{"format": true}', "it is format True"),
        ("[1, 2]", "not a stretchcast manifest: the JSON is not an object"),
    ],
)
def test_foreign_file_refused(tmp_path: Path, text: str, expected: str) -> None:
    """A file that is not JSON, not a manifest, or of another format gets a plain error saying which."""
    path = tmp_path / "other.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ManifestError) as caught:
        Manifest.load(path)
    assert caught.value.message.startswith(f"{path}: ")
    assert expected in caught.value.message


def test_missing_file(tmp_path: Path) -> None:
    """A manifest that is not there is a ManifestError naming the path, not an OSError."""
    with pytest.raises(ManifestError, match=r"gone\.json: file not found"):
        Manifest.load(tmp_path / "gone.json")


def _asdict_json(manifest: Manifest) -> str:
    """The manifest's JSON as ``dataclasses.asdict`` gives it: the reference the direct conversion keeps to."""

    def plain(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: plain(item) for key, item in value.items()}
        return [plain(item) for item in value] if isinstance(value, tuple | list) else value

    data = {"format": Manifest.FORMAT, **plain(dataclasses.asdict(manifest))}
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def test_json_is_asdicts_to_the_byte(good: dict[str, Any]) -> None:
    """The manifest's JSON, made without asdict, is byte for byte what asdict makes, at 1,000 events too."""
    manifest = Manifest.from_dict(good)
    assert manifest.split and manifest.playlist is not None  # every kind of field holds something
    assert manifest.to_json() == _asdict_json(manifest)
    long = dataclasses.replace(
        manifest,
        title="Étirements — 60 min",
        playlist=None,
        events=manifest.events * (1000 // len(manifest.events) + 1),
    )
    assert len(long.events) > 1000
    assert long.to_json() == _asdict_json(long)
    assert Manifest.from_json(long.to_json()) == long
