"""The content stage: exercises, collections and routines, read from YAML and checked on the way in.

``model`` holds the frozen dataclasses, ``load`` reads a collection folder and routine files,
``files`` writes routine files, and ``strict_yaml`` is the YAML reader that names file, line and
field in every error.
"""

from stretchcast.content.files import routine_yaml, save_routine
from stretchcast.content.load import (
    ROUTINE_TITLE_MAX,
    check_routine_title,
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
    "ROUTINE_TITLE_MAX",
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
    "check_routine_title",
    "default_content_dir",
    "find_routine",
    "load_collection",
    "load_exercise",
    "load_routine",
    "routine_yaml",
    "save_routine",
    "slugify",
]
