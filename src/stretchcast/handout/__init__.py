"""The printed handout: a sheet for the fridge, as a PDF and as HTML, for a routine or a programme.

``sheet`` gathers what is printed (title, length, what it is for, the cautions read from the
content, each exercise's figure, position, steps and dose in plain words, sessions a week, a
programme's weeks, where the track is); ``pdf`` lays it out with fpdf2 and an embedded TTF font,
``html`` as one self-contained page with print styles; ``write`` puts both files in place whole or
not at all. Above the pipeline and programmes (it plans weeks), beside serve, below the faces.

The names below are loaded when first used (PEP 562): fpdf and fontTools take ~0.3 s to import,
and the command line needs only ``papers`` to offer ``--paper`` (docs/ARCHITECTURE.md).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from stretchcast.handout.papers import PAPERS

if TYPE_CHECKING:
    from stretchcast.handout.sheet import Sheet, programme_sheet, routine_sheet
    from stretchcast.handout.write import HandoutFiles, write_handout

_SOURCES = {
    "HandoutFiles": "stretchcast.handout.write",
    "Sheet": "stretchcast.handout.sheet",
    "programme_sheet": "stretchcast.handout.sheet",
    "routine_sheet": "stretchcast.handout.sheet",
    "write_handout": "stretchcast.handout.write",
}

__all__ = ["PAPERS", "HandoutFiles", "Sheet", "programme_sheet", "routine_sheet", "write_handout"]


def __getattr__(name: str) -> Any:
    """Import the module a public name lives in, the first time the name is asked for."""
    source = _SOURCES.get(name)
    if source is None:
        raise AttributeError(f"module 'stretchcast.handout' has no attribute {name!r}")
    value = getattr(importlib.import_module(source), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
