"""stretchcast: guided audio routines for SI joint stretches, from content files to phone-ready MP3s.

The library in four calls::

    from stretchcast import load_collection, load_routine, plan, build

    routine = load_routine(load_collection(), "standard")
    print(plan(routine).duration_ms)          # instant: no audio
    result = build(routine, voice="espeak")   # audio/standard.mp3 and its manifest

The names are loaded when first used (PEP 562), not when the package is: ``stretchcast.cli`` or
``stretchcast.content`` alone must not pay for numpy, the MP3 encoder and the voices
(docs/ARCHITECTURE.md, "What a warm build imports").
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from stretchcast.version import __version__

if TYPE_CHECKING:
    from stretchcast.content import Collection, Exercise, Routine, load_collection, load_routine
    from stretchcast.errors import StretchcastError
    from stretchcast.pipeline import BuildOptions, BuildResult, build, plan
    from stretchcast.timeline import Timeline, compile_timeline

#: Each public name and the module it comes from.
_SOURCES = {
    "BuildOptions": "stretchcast.pipeline",
    "BuildResult": "stretchcast.pipeline",
    "Collection": "stretchcast.content",
    "Exercise": "stretchcast.content",
    "Routine": "stretchcast.content",
    "StretchcastError": "stretchcast.errors",
    "Timeline": "stretchcast.timeline",
    "build": "stretchcast.pipeline",
    "compile_timeline": "stretchcast.timeline",
    "load_collection": "stretchcast.content",
    "load_routine": "stretchcast.content",
    "plan": "stretchcast.pipeline",
}

__all__ = [
    "BuildOptions",
    "BuildResult",
    "Collection",
    "Exercise",
    "Routine",
    "StretchcastError",
    "Timeline",
    "__version__",
    "build",
    "compile_timeline",
    "load_collection",
    "load_routine",
    "plan",
]


def __getattr__(name: str) -> Any:
    """Import the module a public name lives in, the first time the name is asked for."""
    source = _SOURCES.get(name)
    if source is None:
        raise AttributeError(f"module 'stretchcast' has no attribute {name!r}")
    value = getattr(importlib.import_module(source), name)
    globals()[name] = value  # once found, an ordinary attribute: no second look-up
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
