"""The figure as data for the phone page: every step's frames, projected, for both sides.

The page (serve/web/app.js) draws the shapes with SVG elements and picks the frame from the
manifest's events: which cue is playing, how far through it, and which side the voice named.
Nothing here knows about HTTP; serve/ sends what :func:`figure_data` returns as JSON.
"""

from __future__ import annotations

from typing import Any

from stretchcast.content.model import Exercise
from stretchcast.figures.body import forward
from stretchcast.figures.draw import Shape, camera, moving_limbs, other_side, scene, shapes
from stretchcast.figures.motion import loop_frames, mirrored_step, step_frames

FPS = 12


def _coords(group: list[Shape], order: list[str]) -> list[list[float]]:
    by_name = {s.name: s for s in group}
    return [[round(v, 4) for p in by_name[n].points for v in p] for n in order]


def figure_data(exercise: Exercise) -> dict[str, Any]:
    """What the page needs to draw and move ``exercise``'s figure; plain JSON types only."""
    figure = exercise.figure
    if figure is None:
        raise ValueError(f"{exercise.id} has no figure")
    sc = scene(exercise)
    cam = camera(figure.view)
    moving = moving_limbs([f for f in loop_frames(figure) if not f.mirror])
    order = [s.name for s in sc.key]
    roles = {s.name: s.role for s in sc.key}
    mirror_roles = {
        s.name: s.role
        for s in shapes(forward(figure.pose(figure.rest), figure.lying), cam, other_side(moving))
    }
    steps = []
    for step in figure.steps:
        frames = [shapes(f.skeleton, cam, moving) for f in step_frames(figure, step, fps=FPS)]
        other = mirrored_step(figure, step)
        mirrored = [shapes(f.skeleton, cam, moving) for f in step_frames(figure, other, mirror=True, fps=FPS)]
        steps.append(
            {
                "cue": step.cue,
                "direction": step.direction,
                "poses": list(step.poses),
                "mirrorPoses": list(other.poses),
                "frames": [_coords(g, order) for g in frames],
                "mirrorFrames": [_coords(g, order) for g in mirrored],
            }
        )
    rest = shapes(forward(figure.pose(figure.rest), figure.lying), cam, moving)
    rest_mirror = shapes(forward(figure.pose(figure.rest), figure.lying, mirror=True), cam, moving)
    return {
        "id": exercise.id,
        "name": exercise.name,
        "view": figure.view,
        "side": figure.side,
        "rest": figure.rest,
        "box": [round(v, 4) for v in sc.box],
        "mat": [[round(x, 4), round(y, 4)] for x, y in sc.mat],
        "shapes": [
            {
                "name": s.name,
                "width": round(s.width, 4),
                "role": roles[s.name],
                "mirrorRole": mirror_roles.get(s.name, roles[s.name]),
            }
            for s in sc.key
        ],
        "restFrame": _coords(rest, order),
        "restMirrorFrame": _coords(rest_mirror, order),
        "steps": steps,
    }
