"""Saving a routine: what is saved builds the same, and nothing a person wrote is ever lost."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from stretchcast.cli.main import main
from stretchcast.content import Collection, Routine, load_routine, routine_yaml, save_routine
from stretchcast.errors import UsageError
from stretchcast.pipeline import with_guidance
from stretchcast.timeline import compile_timeline


class TestRoundTrip:
    """A saved routine loads back to the same routine and the same timeline."""

    def test_same_timeline(
        self, tmp_path: Path, preset: Callable[[str], Routine], collection: Collection
    ) -> None:
        """Doses, rounds and guidance survive saving and loading; the plan is identical."""
        routine = with_guidance(
            preset("gentle").with_overrides(["tall-cobra.sets=2"]), pace=1.3, chimes=False
        )
        path = save_routine(routine, tmp_path / "mine.yaml")
        loaded = load_routine(collection, path)
        assert loaded.items == routine.items and loaded.guidance == routine.guidance
        assert compile_timeline(loaded).events[1:] == compile_timeline(routine).events[1:]

    def test_every_dose_is_pinned(self, preset: Callable[[str], Routine]) -> None:
        """Every dose is written out, so the file builds the same even if content defaults change."""
        text = routine_yaml(preset("standard"), "mine.yaml")
        assert text.count("reps:") == 4 and text.count("hold:") == 4
        assert "stretchcast build mine.yaml" in text


class TestNothingLost:
    """An existing file is never replaced by accident."""

    def test_refuses_to_overwrite(self, tmp_path: Path, preset: Callable[[str], Routine]) -> None:
        """Saving over an existing file is refused and the file keeps its content."""
        path = tmp_path / "mine.yaml"
        path.write_text("my notes\n")
        with pytest.raises(UsageError, match="already exists; nothing was written"):
            save_routine(preset("standard"), path)
        assert path.read_text() == "my notes\n"
        save_routine(preset("standard"), path, overwrite=True)
        assert path.read_text().startswith("# A stretchcast routine")

    def test_racing_savers(self, tmp_path: Path, preset: Callable[[str], Routine]) -> None:
        """Of many savers racing for one new name exactly one wins; no temporary files remain."""
        path = tmp_path / "race.yaml"
        results: list[str] = []

        def save() -> None:
            try:
                save_routine(preset("standard"), path)
                results.append("saved")
            except UsageError:
                results.append("refused")

        threads = [threading.Thread(target=save) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(results) == ["refused"] * 7 + ["saved"]
        assert [p.name for p in tmp_path.iterdir()] == ["race.yaml"]

    def test_cli_new(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], collection: Collection
    ) -> None:
        """'stretchcast new' writes a routine that builds, and refuses to replace it without --force."""
        path = tmp_path / "evening.yaml"
        assert (
            main(["new", str(path), "--from", "gentle", "--set", "knee-sways.reps=5", "--title", "Evening"])
            == 0
        )
        assert load_routine(collection, path).items[1].dose.reps == 5
        assert main(["new", str(path)]) == 2
        assert "already exists" in capsys.readouterr().err
        assert main(["new", str(path), "--force"]) == 0
