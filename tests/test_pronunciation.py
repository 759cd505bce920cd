"""The pronunciation table: read and checked like all content, applied to what voices say only."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from stretchcast.content import Collection, Routine, load_routine
from stretchcast.content.pronunciation import NONE, Pronunciations, load_pronunciations
from stretchcast.errors import ContentError
from stretchcast.pipeline import BuildOptions, build
from stretchcast.sound.cues import CueSet
from stretchcast.testing import FakeVoice
from stretchcast.voices.cache import CueCache

from .conftest import write


def _without_table(routine: Routine) -> Routine:
    collection = dataclasses.replace(routine.collection, pronunciations=NONE)
    return dataclasses.replace(routine, collection=collection)


class TestTable:
    def test_shipped_table_spells_out_si(self, collection: Collection) -> None:
        """The SI joint collection asks every voice to say SI as the letters S I."""
        assert collection.pronunciations.table["SI"] == "S I"

    def test_whole_words_case_sensitive(self) -> None:
        """Only the whole word as written changes: not inside other words, not in other cases."""
        table = Pronunciations((("SI", "S I"),))
        said = table.spoken("Your SI joint (SI), the SI's edge, SI-joint. Sit; si; SIJ; ASI.")
        assert said == "Your S I joint (S I), the S I's edge, S I-joint. Sit; si; SIJ; ASI."

    def test_one_pass_longest_first(self) -> None:
        """A longer word wins over its prefix, and a spoken form is never looked up again."""
        table = Pronunciations((("SI", "S I"), ("SIJ", "S I J"), ("I", "eye")))
        assert table.spoken("SIJ and SI and I") == "S I J and S I and eye"

    def test_no_file_no_table(self, tmp_path: Path) -> None:
        """A collection without pronunciation.yaml says everything as written."""
        assert load_pronunciations(tmp_path) is NONE
        assert NONE.spoken("SI joint") == "SI joint"

    @pytest.mark.parametrize(
        ("body", "message", "line"),
        [
            ("SI: S I\nS I: ess eye\n", r"'S I' is not a single written word", 2),
            ("SI: S I\nPT: '{x}'\n", r"spoken form '\{x\}' has characters", 2),
            ("SI: SI\n", r"spoken as written", 1),
            ("SI: S I\nSI: ess eye\n", r"'SI' is given twice \(first on line 1\)", 2),
            ("SI: [S, I]\n", r"expected text, found a list", 1),
        ],
    )
    def test_bad_entries_name_file_line_and_field(
        self, tmp_path: Path, body: str, message: str, line: int
    ) -> None:
        """A bad entry is refused with its file, line and field, and what to write instead."""
        write(tmp_path, "pronunciation.yaml", body)
        with pytest.raises(ContentError, match=message) as caught:
            load_pronunciations(tmp_path)
        where = caught.value.where
        assert where is not None and where.path == tmp_path / "pronunciation.yaml"
        assert where.line == line and where.field


class TestSpeaking:
    def test_voice_hears_spoken_form_cue_keeps_written(self, collection: Collection) -> None:
        """The voice is asked for "S I joint"; the cue is found under the written "SI joint"."""
        voice = FakeVoice()
        cues = CueSet(voice, 22050, pronunciations=collection.pronunciations)
        cues.prepare(["Your SI joint.", "Rest."])
        assert set(voice.calls) == {"Your S I joint.", "Rest."}
        assert "Your SI joint." in cues and len(cues["Your SI joint."]) > 0

    def test_same_spoken_text_spoken_once(self) -> None:
        """Two written texts that say the same thing share one engine call."""
        voice = FakeVoice()
        cues = CueSet(voice, 22050, pronunciations=Pronunciations((("SIJ", "S I J"),)))
        cues.prepare(["The SIJ.", "The S I J."])
        assert voice.calls == {"The S I J.": 1}
        assert (cues["The SIJ."] == cues["The S I J."]).all()

    def test_new_entry_respeaks_only_changed_cues_once(self, tmp_path: Path, collection: Collection) -> None:
        """Adding SI to the table re-speaks exactly the cues that say SI, once; the next build speaks none."""
        routine = load_routine(collection, "standard")
        cache = CueCache(tmp_path / "cache")
        before = FakeVoice()
        build(
            _without_table(routine), voice=before, options=BuildOptions(out_dir=tmp_path / "a"), cache=cache
        )
        assert any(" SI " in text for text in before.calls)

        after = FakeVoice()
        result = build(routine, voice=after, options=BuildOptions(out_dir=tmp_path / "b"), cache=cache)
        changed = {t for t in result.timeline.texts() if collection.pronunciations.spoken(t) != t}
        assert len(changed) == 3  # the welcome, the SI joint line and the closing
        assert set(after.calls) == {collection.pronunciations.spoken(t) for t in changed}
        assert set(after.calls.values()) == {1}
        assert result.cues_synthesized == 3 and result.cues_cached == len(result.timeline.texts()) - 3

        again = FakeVoice()
        build(routine, voice=again, options=BuildOptions(out_dir=tmp_path / "c"), cache=cache)
        assert again.calls.total() == 0

    def test_captions_and_manifest_keep_written_text(self, tmp_path: Path, collection: Collection) -> None:
        """What is shown (captions, manifest, chapters) says "SI joint"; only the voice heard "S I"."""
        voice = FakeVoice()
        result = build(
            load_routine(collection, "standard"),
            voice=voice,
            options=BuildOptions(out_dir=tmp_path),
            cache=False,
        )
        captions = result.captions.read_text(encoding="utf-8") if result.captions else ""
        manifest = json.loads(result.manifest.read_text(encoding="utf-8"))
        said = [e["text"] for e in manifest["events"] if e["kind"] == "speech"]
        assert said[0] == "Welcome. This is the standard SI joint routine."
        assert "This is the standard SI joint routine." in captions
        assert "S I" not in captions and not any("S I" in text for text in said)
        assert "S I" not in json.dumps(manifest)
        assert not any(" SI " in text or text.startswith("SI ") for text in voice.calls)
