"""The exercise figures the phone page shows, drawn from the installed content's poses.

``/figures/<exercise>.json`` holds the projected frames the page moves in time with the voice;
``/figures/<exercise>.svg`` is the animated figure on its own. Both are made once and kept.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Iterable
from pathlib import Path

from stretchcast.content import load_collection
from stretchcast.errors import StretchcastError
from stretchcast.figures.draw import scene, svg
from stretchcast.figures.page import figure_data
from stretchcast.output.manifest import Manifest
from stretchcast.serve.library import ServedRoutine

log = logging.getLogger(__name__)
_NAME = re.compile(r"([a-z0-9]+(?:-[a-z0-9]+)*)\.(json|svg)")


@functools.cache
def figure_file(name: str) -> bytes | None:
    """The bytes of ``<exercise>.json`` or ``<exercise>.svg``, or None if there is no such figure."""
    match = _NAME.fullmatch(name)
    if match is None:
        return None
    try:
        collection = load_collection()
    except StretchcastError as err:  # a broken install: the page still plays, without figures
        log.warning("no figures: %s", err)
        return None
    exercise = next((e for e in collection.exercises if e.id == match.group(1)), None)
    if exercise is None or exercise.figure is None:
        return None
    if match.group(2) == "svg":
        return svg(scene(exercise)).encode("utf-8")
    return json.dumps(figure_data(exercise), separators=(",", ":")).encode("utf-8")


def figure_names(root: Path, routines: Iterable[ServedRoutine]) -> list[str]:
    """The figure files (``<exercise>.json`` and ``.svg``) of every exercise the routines' manifests name."""
    ids: set[str] = set()
    for routine in routines:
        if routine.manifest is None:
            continue
        try:
            manifest = Manifest.load(root.joinpath(*routine.manifest.split("/")))
        except StretchcastError as err:  # the card plays without its figure
            log.warning("no figures for %s: %s", routine.manifest, err.problem)
            continue
        ids.update(e.exercise for e in manifest.events if e.exercise)
    return [f"{i}.{kind}" for i in sorted(ids) for kind in ("json", "svg")]
