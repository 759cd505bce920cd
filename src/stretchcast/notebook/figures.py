"""An exercise's figure for a notebook: the animated SVG inline, so it moves without a kernel."""

from __future__ import annotations

import base64
from html import escape

from stretchcast.content import Exercise
from stretchcast.figures.draw import describe, scene, svg

_DRAWN: dict[tuple[str, str], str] = {}  # (file, id): drawing one takes ~0.2 s, the builder redraws often


def _svg_base64(exercise: Exercise) -> str:
    key = (str(exercise.path), exercise.id)
    if key not in _DRAWN:
        _DRAWN[key] = base64.b64encode(svg(scene(exercise)).encode("utf-8")).decode("ascii")
    return _DRAWN[key]


def figure_html(exercise: Exercise, *, width: int = 320) -> str:
    """An ``<img>`` of the exercise's moving figure (a data URL), described for screen readers; "" if none.

    As an image the SVG's own animation runs, and nothing in it can script the notebook.
    """
    if exercise.figure is None:
        return ""
    _title, desc = describe(exercise)
    return (
        f'<img src="data:image/svg+xml;base64,{_svg_base64(exercise)}" width="{width}" '
        f'alt="{escape(desc, quote=True)}" data-exercise="{escape(exercise.id, quote=True)}" '
        'style="display:block;max-width:100%;height:auto;margin:6px 0 8px 0;border-radius:8px">'
    )
