"""docs/RELIABILITY.md stays current: every bad-input case tested is listed there."""

from __future__ import annotations

from .conftest import REPO
from .test_bad_input import ARGUMENTS, CONTENT_EDITS, NEW_ARGS, OUTPUT_PATHS, ROUTINE_FILES, ROUTINE_PATHS


def test_every_case_is_documented() -> None:
    """Each case id of the bad-input tables appears in the reliability table."""
    doc = (REPO / "docs" / "RELIABILITY.md").read_text()
    ids = [c.id for c in ROUTINE_FILES + ARGUMENTS] + [c[0] for c in CONTENT_EDITS]
    ids += [c[0] for c in ROUTINE_PATHS] + [c[0] for c in OUTPUT_PATHS] + [c[0] for c in NEW_ARGS]
    ids += ["stdout-dev-full", "unknown-argument-escape-codes"]
    assert [i for i in ids if f"`{i}`" not in doc] == []
