"""The content schema is the one place routine settings are declared, and the shared input rules hold."""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
from pathlib import Path

import pytest
import yaml

from stretchcast.cli.main import main
from stretchcast.content import Collection, load_collection, load_routine, routine_yaml, save_routine
from stretchcast.content import load as content_load
from stretchcast.content.schema import DOSE, DOSE_FIELDS, GUIDANCE_FIELDS, TITLE
from stretchcast.content.text import unprintable
from stretchcast.errors import ContentError
from stretchcast.output.files import MAX_MANIFEST_BYTES
from stretchcast.serve import library

from .conftest import CONTENT


class TestDeclaredOnce:
    """Loading, listing and writing all follow content/schema.py."""

    def test_loader_takes_outer_limits_from_the_schema(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        """Lowering reps' outer limit in the schema alone makes the loader refuse knee-sways' max of 8."""
        root = tmp_path / "content"
        shutil.copytree(CONTENT, root)
        narrower = tuple(dataclasses.replace(f, hi=6) if f.name == "reps" else f for f in DOSE)
        monkeypatch.setattr(content_load, "DOSE", narrower)
        with pytest.raises(ContentError, match="out of range") as caught:
            load_collection(root)
        assert caught.value.fix == "Use a number from 1 to 6."

    def test_list_json_units_are_the_schemas(self, capsys: pytest.CaptureFixture[str]) -> None:
        """`list --json` gives each dose field in schema order, with the schema's unit."""
        assert main(["list", "--json"]) == 0
        data = json.loads(capsys.readouterr().out)
        for exercise in data["exercises"]:
            assert list(exercise["dose"]) == list(DOSE_FIELDS)
            assert {name: d["unit"] for name, d in exercise["dose"].items()} == {f.name: f.unit for f in DOSE}

    def test_routine_file_writes_schema_fields_and_reads_back(
        self, collection: Collection, tmp_path: Path
    ) -> None:
        """A written routine lists every dose field and guidance setting in schema order, and loads equal."""
        routine = load_routine(collection, "full")
        data = yaml.safe_load(routine_yaml(routine))
        assert list(data["guidance"]) == list(GUIDANCE_FIELDS)
        assert all(list(item) == ["id", *DOSE_FIELDS] for item in data["exercises"])
        saved = save_routine(routine, tmp_path / "full.yaml")
        again = load_routine(collection, saved)
        assert [i.dose for i in again.items] == [i.dose for i in routine.items]

    def test_writer_refuses_what_the_reader_would(self, collection: Collection, tmp_path: Path) -> None:
        """A title the reader would refuse is refused when written, naming the field; nothing is written."""
        routine = dataclasses.replace(load_routine(collection, "standard"), title="x" * (TITLE.max_len + 1))
        with pytest.raises(ContentError, match="81 characters long") as caught:
            save_routine(routine, tmp_path / "mine.yaml")
        assert caught.value.where is not None and caught.value.where.field == "title"
        assert list(tmp_path.iterdir()) == []

    def test_cli_names_the_flag_a_file_names_the_field(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        """The same bad title reads "--title" when typed, and "field 'title'" when in a file."""
        monkeypatch.chdir(tmp_path)
        assert main(["new", "a.yaml", "--title", "x" * 90]) == 2
        typed = capsys.readouterr().err
        (tmp_path / "b.yaml").write_text(f"title: {'x' * 90}\nexercises:\n  - id: knee-sways\n")
        assert main(["plan", "b.yaml"]) == 2
        in_file = capsys.readouterr().err
        assert "--title: text is 90 characters long" in typed and "field" not in typed
        assert "field 'title'" in in_file and "--title" not in in_file


class TestPrintable:
    """Real emoji sequences are text; control characters are not."""

    @pytest.mark.parametrize(
        "text",
        [
            "\U0001f9d8\U0001f3fd\u200d\u2640\ufe0f",  # person in lotus position, medium skin tone, woman
            "\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f",  # England
            "\U0001f1ef\U0001f1f5",  # Japan
            "\U0001f468\u200d\U0001f469\u200d\U0001f467",  # family
            "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",  # Persian, with a zero-width non-joiner
            "Stretch \u2764\ufe0f\u200d\U0001f525 now",
        ],
    )
    def test_allowed(self, text: str) -> None:
        """Each is accepted as written."""
        assert unprintable(text) is None
        assert TITLE.check(text) == text

    @pytest.mark.parametrize(
        ("text", "bad"),
        [
            ("a\x1b[2Jb", "\x1b"),
            ("abc\u202edef", "\u202e"),
            ("\u200dyoga", "\u200d"),
            ("yoga\u200d", "\u200d"),
            ("a \u200d b", "\u200d"),  # a joiner between spaces joins nothing
            ("x\U000e0067\U000e007f", "\U000e0067"),  # tags without the black flag
            ("\U0001f3f4\U000e0067\U000e0062", "\U000e0067"),  # a flag never closed
            ("tab\there", "\t"),
        ],
    )
    def test_refused(self, text: str, bad: str) -> None:
        """Each is refused, naming the character."""
        assert unprintable(text) == bad
        with pytest.raises(ContentError, match=f"U\\+{ord(bad):04X}"):
            TITLE.check(text)


def test_oversized_manifest_is_skipped_unread(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """serve's library skips a manifest larger than any real one, saying why, without reading it whole."""
    big = tmp_path / "big.json"
    with big.open("wb") as fp:
        fp.truncate(MAX_MANIFEST_BYTES + 4096)  # sparse: costs no disk
    with caplog.at_level(logging.WARNING, logger=library.__name__):
        assert library.scan(tmp_path) == ()
    assert "a manifest is at most 16 MiB" in caplog.text, caplog.text
