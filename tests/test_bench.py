"""The benchmark script works (it never runs in full here: ``make bench`` does that)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]


def bench() -> ModuleType:
    """benchmarks/bench.py, imported by path (it is a script, not part of the package)."""
    spec = importlib.util.spec_from_file_location("stretchcast_bench", REPO / "benchmarks" / "bench.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


class TestBenchmarkScript:
    """A quick run on a tiny routine writes a complete report; no timing is asserted."""

    def test_quick_run_writes_the_report(self, tmp_path: Path) -> None:
        """--quick builds, encodes the floor, runs the naive baseline, the builder and serve under load, and reports each."""
        out = tmp_path / "RESULTS.md"
        assert bench().main(["--quick", "--no-piper", "--out", str(out)]) == 0
        text = out.read_text(encoding="utf-8")
        row = next(line for line in text.splitlines() if line.startswith("| tiny |"))
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert len(cells) == 10 and all(cells)
        assert float(cells[4]) > 0 and float(cells[5]) > 0  # build and floor were both timed
        assert "encode floor" in text and "builder recompute" in text
        assert "## Machine and versions" in text and "lameenc" in text
        served = [line for line in text.splitlines() if line.startswith(("| 128 |", "| 5 |"))]
        assert len(served) == 2 and all(line.rstrip("| ").split("|")[-1].strip() for line in served)

    def test_quick_cli_section_times_each_path_and_says_whether_the_command_line_can_choose(
        self, tmp_path: Path
    ) -> None:
        """--cli --quick splices the issue 13 section in: command line and in-process rows, each path, cold builds."""
        out = tmp_path / "RESULTS.md"
        out.write_text("# Benchmark results\n\n## Machine and versions\n\n- here\n", encoding="utf-8")
        assert bench().main(["--quick", "--cli", "--out", str(out)]) == 0
        text = out.read_text(encoding="utf-8")
        assert (
            text.index("<!-- issue 13: begin -->")
            < text.index("<!-- issue 13: end -->")
            < text.index("## Machine")
        )
        cli, inproc = (line for line in text.splitlines() if line.startswith("| espeak | tiny |"))
        cli_cells = [c.strip() for c in cli.strip("|").split("|")]
        assert len(cli_cells) == 10 and float(cli_cells[3]) > 0 and float(cli_cells[4]) > 0
        if "has no `--encoder` option" in text:  # older code: the per-path columns say they were not run
            assert cli_cells[6:9] == ["-", "-", "-"]
        else:
            assert all(float(c) > 0 for c in cli_cells[6:9])
        in_cells = [c.strip() for c in inproc.strip("|").split("|")]
        assert len(in_cells) == 10 and float(in_cells[2]) > 0 and float(in_cells[6]) > 0
        assert "cold espeak build, frames" in text

    def test_quick_pesq_section_scores_both_paths(self, tmp_path: Path) -> None:
        """--pesq --quick builds a tiny routine on each path, decodes it and scores its voice with PESQ-WB."""
        pytest.importorskip("pesq")  # the bench extra; the tests never need it
        out = tmp_path / "RESULTS.md"
        assert bench().main(["--quick", "--pesq", "--out", str(out)]) == 0
        text = out.read_text(encoding="utf-8")
        rows = {
            line.split("|")[1].strip(): line
            for line in text.splitlines()
            if "| 22050 Hz, 64 kbit/s |" in line
        }
        assert set(rows) == {"pcm", "frames"}
        for line in rows.values():
            cells = [c.strip() for c in line.strip("|").split("|")]
            assert int(cells[2]) == 3  # the tiny routine's first three distinct cues
            assert 1.0 < float(cells[3]) <= 4.64 and 1.0 < float(cells[5]) <= 4.64  # PESQ-WB's scale
        assert "voice no worse than the PCM path's" in text


class TestAlignment:
    """The PESQ section finds a delivered cue where it plays and keeps the report's other sections."""

    def test_align_finds_a_delayed_copy(self) -> None:
        """align() returns the stretch of a wider signal that holds a delayed, quieter copy of the reference."""
        rng = np.random.default_rng(7)
        reference = rng.standard_normal(4000)
        wide = np.concatenate(
            (0.01 * rng.standard_normal(37), 0.3 * reference, 0.01 * rng.standard_normal(60))
        )
        found = bench().align(reference, wide)
        assert len(found) == len(reference)
        np.testing.assert_array_equal(found, wide[37 : 37 + len(reference)])

    def test_splice_replaces_only_its_own_section(self) -> None:
        """Splicing the PESQ section leaves the issue 13 section alone, and splicing it again replaces it."""
        b = bench()
        text = "# R\n\n<!-- issue 13: begin -->\nCLI\n<!-- issue 13: end -->\n\n## Machine and versions\n"
        once = b.splice(text, f"{b.PESQ_BEGIN}\nfirst\n{b.PESQ_END}\n")
        twice = b.splice(once, f"{b.PESQ_BEGIN}\nsecond\n{b.PESQ_END}\n")
        assert "CLI" in twice and "second" in twice and "first" not in twice
        assert twice.count(b.PESQ_BEGIN) == 1 and twice.index(b.PESQ_END) < twice.index("## Machine")
