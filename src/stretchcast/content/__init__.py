"""The content stage: exercises, collections and routines, read from YAML and checked on the way in.

``schema`` declares every routine setting once (limits, units, meanings, flags), ``model`` holds the
frozen dataclasses, ``load`` reads a collection folder and routine files, ``files`` writes routine
files, ``strict_yaml`` is the YAML reader that names file, line and field in every error,
``reading`` reads any file bounded (regular files only), and ``text`` is the printable-text rule.
"""

from stretchcast.content.files import routine_yaml, save_routine
from stretchcast.content.load import (
    find_routine,
    load_collection,
    load_exercise,
    load_routine,
)
from stretchcast.content.model import (
    ADJUSTED,
    CUE_FIELDS,
    DIRECTION_NAMES,
    DOSE_FIELDS,
    PACE_FACTOR_RANGE,
    SIDE_NAMES,
    Collection,
    Cues,
    Dose,
    DoseRanges,
    Exercise,
    Guidance,
    Range,
    Routine,
    RoutineItem,
    default_content_dir,
    slugify,
)

__all__ = [
    "ADJUSTED",
    "CUE_FIELDS",
    "DIRECTION_NAMES",
    "DOSE_FIELDS",
    "PACE_FACTOR_RANGE",
    "SIDE_NAMES",
    "Collection",
    "Cues",
    "Dose",
    "DoseRanges",
    "Exercise",
    "Guidance",
    "Range",
    "Routine",
    "RoutineItem",
    "default_content_dir",
    "find_routine",
    "load_collection",
    "load_exercise",
    "load_routine",
    "routine_yaml",
    "save_routine",
    "slugify",
]
