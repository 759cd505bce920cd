"""The benchmark script works (it never runs in full here: ``make bench`` does that)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

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
