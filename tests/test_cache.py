"""The cue cache: content-addressed, atomic, self-checking, and never the reason a build fails."""

from __future__ import annotations

import hashlib
import logging
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from stretchcast.cli.main import main
from stretchcast.content import Collection, Routine
from stretchcast.pipeline import BuildOptions, BuildResult, build
from stretchcast.sound import signal as audio
from stretchcast.sound.cues import CueSet
from stretchcast.sound.prepared import prepared_path
from stretchcast.testing import FakeVoice
from stretchcast.voices.base import Speech
from stretchcast.voices.cache import CACHE_ENV, CueCache, cue_key, default_cache_dir

from .conftest import cobra_only

IDENTITY: dict[str, str | int | float | bool] = {
    "engine": "fake",
    "version": "1",
    "sample_rate": 22050,
    "speed": 1.0,
}


def entries(cache: CueCache) -> list[Path]:
    """Every entry file in ``cache``."""
    return sorted(cache.root.rglob("*.flac"))


class TestKey:
    """The key is a SHA-256 of canonical JSON of everything that changes the audio."""

    def test_canonical_json(self) -> None:
        """The key is the SHA-256 of sorted, compact, UTF-8 JSON of format, voice and text."""
        canonical = (
            '{"format":1,"text":"Rest \u2013 now.","voice":{"engine":"fake","sample_rate":22050,'
            '"speed":1.0,"version":"1"}}'
        )
        assert cue_key(IDENTITY, "Rest \u2013 now.") == hashlib.sha256(canonical.encode()).hexdigest()

    def test_order_does_not_matter(self) -> None:
        """The same settings in another order give the same key."""
        backwards = dict(reversed(list(IDENTITY.items())))
        assert cue_key(backwards, "Rest.") == cue_key(IDENTITY, "Rest.")

    @pytest.mark.parametrize(
        "change",
        [
            {"engine": "piper"},
            {"version": "2"},
            {"speed": 1.1},
            {"lang": "en"},
            {"tld": "co.uk"},
            {"slow": True},
        ],
    )
    def test_every_setting_counts(self, change: dict[str, str | float | bool]) -> None:
        """Changing or adding any setting gives a different key; so does changing the text."""
        assert cue_key({**IDENTITY, **change}, "Rest.") != cue_key(IDENTITY, "Rest.")
        assert cue_key(IDENTITY, "Rest.") != cue_key(IDENTITY, "Rest")


class TestEntries:
    """Entries come back exactly, and a damaged one is found, removed and made again."""

    def test_round_trip_is_exact(self, tmp_path: Path) -> None:
        """What is put is what is got, sample for sample, at its own rate."""
        cache = CueCache(tmp_path)
        speech = FakeVoice(sample_rate=24000).synthesize("Get into position.").quantized()
        assert cache.put(IDENTITY, "Get into position.", speech)
        got = cache.get(IDENTITY, "Get into position.")
        assert got is not None and got.sample_rate == 24000
        assert np.array_equal(got.samples, speech.samples)
        assert cache.get(IDENTITY, "Something else.") is None
        assert [p.name for p in tmp_path.rglob("*") if p.is_file() and p.suffix != ".flac"] == []

    @pytest.mark.parametrize(
        "damage",
        [
            pytest.param(lambda b: b[: len(b) // 2], id="truncated"),
            pytest.param(lambda b: b[:40], id="header-only"),
            pytest.param(lambda b: b"", id="empty"),
            pytest.param(lambda b: b"\x00garbage" * 50, id="garbage"),
            pytest.param(lambda b: b[:-200] + bytes(200), id="zeroed-tail"),
        ],
    )
    def test_damaged_entry_is_remade(self, tmp_path: Path, damage: Callable[[bytes], bytes]) -> None:
        """A truncated or undecodable entry is detected, removed, spoken again once, and saved whole."""
        cache = CueCache(tmp_path)
        voice = FakeVoice()
        CueSet(voice, 22050, cache=cache).prepare(["Rest.", "Halfway."])
        path = cache.path_for(voice.identity(), "Rest.")
        good = path.read_bytes()
        path.write_bytes(damage(good))

        again = FakeVoice()
        cues = CueSet(again, 22050, cache=cache)
        cues.prepare(["Rest.", "Halfway."])
        assert again.calls == {"Rest.": 1}
        assert cues.cached == 1 and cues.synthesized == 1 and cache.repaired == 1
        assert path.read_bytes() == good

    @pytest.mark.parametrize(
        "damage",
        [
            pytest.param(lambda b: b[: len(b) // 2], id="truncated"),
            pytest.param(lambda b: b[:200] + bytes([b[200] ^ 1]) + b[201:], id="energy-bit"),
            pytest.param(lambda b: b[:-9] + bytes([b[-9] ^ 1]) + b[-8:], id="sample-bit"),
            pytest.param(lambda b: b[:10] + bytes(8) + b[18:], id="peak-zeroed"),
        ],
    )
    def test_damaged_prepared_cue_is_remade(self, tmp_path: Path, damage: Callable[[bytes], bytes]) -> None:
        """A damaged prepared cue (samples, energy or peak) is ignored and prepared again from the entry."""
        cache = CueCache(tmp_path)
        first = CueSet(FakeVoice(), 22050, cache=cache)
        first.prepare(["Rest."])
        path = prepared_path(cache, FakeVoice().identity(), "Rest.", 22050)
        good = path.read_bytes()
        path.write_bytes(damage(good))

        voice = FakeVoice()
        again = CueSet(voice, 22050, cache=cache)
        again.prepare(["Rest."])
        assert voice.calls == {} and again.cached == 1  # the entry was sound: nothing spoken
        assert np.array_equal(again["Rest."], first["Rest."])
        assert np.array_equal(again.weighted_energy("Rest."), first.weighted_energy("Rest."))
        assert again.true_peak_db("Rest.") == first.true_peak_db("Rest.")
        assert path.read_bytes() == good  # and kept again, whole

    def test_lengths_come_from_headers_alone(self, tmp_path: Path) -> None:
        """A rebuild knows every cached cue's length from its prepared header and reads no samples until asked."""
        cache = CueCache(tmp_path)
        texts = ["Rest.", "Get into position.", "Breathe out slowly."]
        made = CueSet(FakeVoice(), 22050, cache=cache)
        made.prepare(texts)
        again = CueSet(FakeVoice(), 22050, cache=cache)
        again.prepare(texts)
        assert again.cached == 3 and again.samples_read == 0
        assert [again.length(t) for t in texts] == [len(made[t]) for t in texts]
        assert [again.length_ms(t) for t in texts] == [made.length_ms(t) for t in texts]
        assert np.array_equal(again["Rest."], made["Rest."]) and again.samples_read == 1

    def test_prepared_cue_round_trip(self, tmp_path: Path) -> None:
        """A prepared cue read back is the one prepared: samples, true peak and the energy of those samples."""
        cache = CueCache(tmp_path)
        made = CueSet(FakeVoice(), 22050, cache=cache)
        made.prepare(["Get into position."])
        read = CueSet(FakeVoice(), 22050, cache=cache)
        read.prepare(["Get into position."])
        samples = read["Get into position."]
        assert np.array_equal(samples, made["Get into position."])
        # measured as preparing measures it: with the recursive filter (see PreparedCue.measure)
        expected = audio.weighted_energy_iir(samples, 22050, tail=audio.k_weighting_tail(22050))
        assert np.array_equal(read.weighted_energy("Get into position."), expected)
        assert read.true_peak_db("Get into position.") == pytest.approx(
            audio.true_peak_db(samples), abs=1e-12
        )

    def test_misplaced_entry_is_refused(self, tmp_path: Path) -> None:
        """A whole entry under another cue's name is refused: the key inside must match the file's."""
        cache = CueCache(tmp_path)
        voice = FakeVoice()
        CueSet(voice, 22050, cache=cache).prepare(["Rest.", "Halfway."])
        rest = cache.path_for(voice.identity(), "Rest.")
        rest.write_bytes(cache.path_for(voice.identity(), "Halfway.").read_bytes())
        assert cache.get(voice.identity(), "Rest.") is None
        assert not rest.exists()


@dataclass(frozen=True)
class Built:
    """The tests' short routine built once with the fake voice into a cache kept for copying."""

    cache_dir: Path
    calls: frozenset[str]
    result: BuildResult


@pytest.fixture(scope="module")
def short_once(tmp_path_factory: pytest.TempPathFactory, drill: Callable[[str], Routine]) -> Built:
    """One cold build of the tests' short routine: what it spoke, and the cache it filled."""
    root = tmp_path_factory.mktemp("short-once")
    voice = FakeVoice()
    result = build(
        drill("short"),
        voice=voice,
        options=BuildOptions(out_dir=root / "out"),
        cache=CueCache(root / "c"),
    )
    return Built(root / "c", frozenset(voice.calls), result)


def copied(built: Built, tmp_path: Path) -> CueCache:
    """A private copy of the built cache, so that tests do not see each other's entries."""
    shutil.copytree(built.cache_dir, tmp_path / "cache")
    return CueCache(tmp_path / "cache")


class TestRebuilds:
    """A cue is spoken once, ever: rebuilds use the cache, and only new cues reach the engine."""

    def test_second_build_speaks_nothing(
        self, tmp_path: Path, drill: Callable[[str], Routine], short_once: Built
    ) -> None:
        """Building the same routine again makes no engine call and writes the same bytes."""
        first = short_once.result
        assert first.cues_synthesized == len(short_once.calls) > 20 and first.cues_cached == 0
        voice = FakeVoice()
        cache = copied(short_once, tmp_path)
        second = build(drill("short"), voice=voice, options=BuildOptions(out_dir=tmp_path), cache=cache)
        assert voice.calls.total() == 0
        assert second.cues_synthesized == 0 and second.cues_cached == first.cues_synthesized
        assert first.mp3.read_bytes() == second.mp3.read_bytes()

    def test_changed_reps_speak_only_new_cues(
        self, tmp_path: Path, drill: Callable[[str], Routine], short_once: Built
    ) -> None:
        """After sway.reps goes from 3 to 4, the engine speaks only cues never spoken, once each."""
        short = drill("short")
        assert [i.dose.reps for i in short.items if i.exercise.id == "sway"] == [3]
        cache = copied(short_once, tmp_path)
        voice = FakeVoice()
        more = short.with_overrides(["sway.reps=4"])
        result = build(more, voice=voice, options=BuildOptions(out_dir=tmp_path / "b"), cache=cache)
        assert set(voice.calls).isdisjoint(short_once.calls)
        assert set(voice.calls.values()) == {1}
        spoken = {short.collection.pronunciations.spoken(t) for t in result.timeline.texts()}
        assert spoken - short_once.calls <= set(voice.calls)
        assert {"To the left, four.", "To the right, four."} <= set(voice.calls)
        assert result.cues_synthesized == len(voice.calls) < 10
        assert len(entries(cache)) == len(short_once.calls) + len(voice.calls)

    def test_cli_reports_new_and_cached(
        self, tmp_path: Path, collection: Collection, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """The build summary says how many cues were new and how many came from the cache."""
        cobra_only(tmp_path, collection)
        routine = str(tmp_path / "cobra.yaml")
        args = ["build", routine, "--voice", "fake", "-o", str(tmp_path), "--cache-dir", str(tmp_path / "c")]
        assert main(args) == 0
        first = capsys.readouterr().out
        assert main(args) == 0
        second = capsys.readouterr().out
        found = re.search(r"(\d+) cues \((\d+) new, 0 from the cache\)", first)
        assert found and found[1] == found[2] and int(found[1]) > 10
        assert f"{found[1]} cues (0 new, {found[1]} from the cache)" in second


class TestUnwritable:
    """A cache that cannot be written never breaks a build: it builds uncached and says so once."""

    def test_cache_under_a_file(
        self, tmp_path: Path, collection: Collection, caplog: pytest.LogCaptureFixture
    ) -> None:
        """With the cache folder impossible to create, the build succeeds and reports the problem once."""
        blocker = tmp_path / "file"
        blocker.write_text("not a folder")
        cache = CueCache(blocker / "cues")
        with caplog.at_level(logging.WARNING):
            result = build(
                cobra_only(tmp_path, collection),
                voice=FakeVoice(),
                options=BuildOptions(out_dir=tmp_path / "out"),
                cache=cache,
            )
        assert result.mp3.is_file() and result.cues_synthesized > 0
        assert len(result.cache_problems) == 1 and "cannot write to the cue cache" in result.cache_problems[0]
        assert sum("cue cache" in r.getMessage() for r in caplog.records) == 1

    def test_unreadable_entry_is_a_miss(self, tmp_path: Path) -> None:
        """An entry that cannot be read (a folder where the file should be) is treated as missing."""
        cache = CueCache(tmp_path)
        path = cache.path_for(IDENTITY, "Rest.")
        path.mkdir(parents=True)
        assert cache.get(IDENTITY, "Rest.") is None
        assert cache.problems and "cannot read the cue cache" in cache.problems[0]
        assert not cache.put(IDENTITY, "Rest.", Speech(np.full(100, 0.25, dtype=np.float32), 22050))


class TestCommands:
    """``cache info`` and ``cache clear``, and where the cache lives."""

    def test_info_and_clear(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """info counts entries by engine; clear removes them all, leftover temporary files too."""
        cache = CueCache(tmp_path)
        CueSet(FakeVoice(), 22050, cache=cache).prepare(["Rest.", "Halfway.", "Last one."])
        (entries(cache)[0].parent / ".abc.part").write_bytes(b"half")
        assert main(["cache", "info", "--cache-dir", str(tmp_path)]) == 0
        out = capsys.readouterr().out
        assert f"Cue cache: {tmp_path}" in out and "3 cues" in out and "(fake 3)" in out
        assert "1 unfinished temporary files" in out
        assert main(["cache", "clear", "--cache-dir", str(tmp_path)]) == 0
        assert "Removed 3 cues" in capsys.readouterr().out
        assert [p for p in tmp_path.rglob("*") if p.is_file()] == []

    def test_env_names_the_cache(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """$STRETCHCAST_CACHE names the folder; without it the user's cache folder is used."""
        monkeypatch.setenv(CACHE_ENV, str(tmp_path / "mine"))
        assert default_cache_dir() == tmp_path / "mine"
        monkeypatch.delenv(CACHE_ENV)
        assert default_cache_dir().parts[-2:] == ("stretchcast", "cues")

    def test_build_uses_env_cache(
        self,
        tmp_path: Path,
        collection: Collection,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """A CLI build with no --cache-dir fills the cache $STRETCHCAST_CACHE names; --no-cache skips it."""
        monkeypatch.setenv(CACHE_ENV, str(tmp_path / "env-cache"))
        cobra_only(tmp_path, collection)
        routine, out = str(tmp_path / "cobra.yaml"), str(tmp_path / "a")
        assert main(["build", routine, "--voice", "fake", "-o", out, "--no-cache"]) == 0
        assert not (tmp_path / "env-cache").exists()
        assert main(["build", routine, "--voice", "fake", "-o", out]) == 0
        assert CueCache(tmp_path / "env-cache").info().entries > 10
        capsys.readouterr()


def test_path_keys_are_the_cue_keys(tmp_path: Path) -> None:
    """The paths a cache hands out carry cue_key's address, for any voice and any text."""
    from stretchcast.voices.cache import Identity, cue_key

    cache = CueCache(tmp_path)
    voices: list[Identity] = [
        {"engine": "piper", "model": "joe", "rate": 1.0},
        {"engine": "fake", "v": 2, "ok": True},
    ]
    for identity in voices:
        for text in ("Rest.", "Breathe out — slowly.", 'Say "S I" \\ ok', "Knie an die Brust 🙂", ""):
            assert cache.path_for(identity, text).stem == cue_key(identity, text)
