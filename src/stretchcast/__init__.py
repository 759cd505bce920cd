"""stretchcast: guided audio routines for SI joint stretches, from content files to phone-ready MP3s.

The library in four calls::

    from stretchcast import load_collection, load_routine, plan, build

    routine = load_routine(load_collection(), "standard")
    print(plan(routine).duration_ms)          # instant: no audio
    result = build(routine, voice="espeak")   # audio/standard.mp3 and its manifest
"""

from __future__ import annotations

from stretchcast.content import Collection, Exercise, Routine, load_collection, load_routine
from stretchcast.errors import StretchcastError
from stretchcast.pipeline import BuildOptions, BuildResult, build, plan
from stretchcast.timeline import Timeline, compile_timeline
from stretchcast.version import __version__

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
