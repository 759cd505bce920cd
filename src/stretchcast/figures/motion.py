"""The movement over time: poses blended between keyframes, every frame a skeleton.

A step (one cue's movement) passes through its poses at even intervals; the angles between two
keyframes are blended linearly (a two-pose step eases in and out, as a person moves). The other
side's steps are the same poses mirrored.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from stretchcast.content.poses import Figure, Pose, Step
from stretchcast.figures.body import Skeleton, forward

FPS = 12  # frames per second for the animated SVG and for the movement checks


def blend(a: Pose, b: Pose, t: float) -> Pose:
    """The pose a share ``t`` of the way from ``a`` to ``b``, angle by angle."""
    joints: dict[str, dict[str, float]] = {}
    for joint in set(a.joints) | set(b.joints):
        names = set(a.joints.get(joint, {})) | set(b.joints.get(joint, {}))
        joints[joint] = {n: a.angle(joint, n) + (b.angle(joint, n) - a.angle(joint, n)) * t for n in names}
    return Pose(name=f"{a.name}>{b.name}", joints=joints)


def _ease(t: float) -> float:
    return t * t * (3 - 2 * t)


def step_pose(figure: Figure, step: Step, t: float) -> Pose:
    """The pose a share ``t`` (0-1) of the way through ``step``."""
    names = step.poses
    if len(names) == 1:
        return figure.pose(names[0])
    t = min(max(t, 0.0), 1.0)
    if len(names) == 2:
        t = _ease(t)
    pos = t * (len(names) - 1)
    i = min(int(pos), len(names) - 2)
    return blend(figure.pose(names[i]), figure.pose(names[i + 1]), pos - i)


@dataclass(frozen=True)
class Frame:
    """One moment of the movement: when, which step, whether mirrored, the pose and the skeleton."""

    time: float
    step: Step
    mirror: bool
    pose: Pose
    skeleton: Skeleton


def step_frames(figure: Figure, step: Step, *, mirror: bool = False, fps: int = FPS) -> Iterator[Frame]:
    """Every frame of one step, its first and last included."""
    n = max(2, round(step.seconds * fps) + 1)
    for k in range(n):
        t = k / (n - 1)
        pose = step_pose(figure, step, t)
        yield Frame(t * step.seconds, step, mirror, pose, forward(pose, figure.lying, mirror=mirror))


def loop_steps(figure: Figure) -> list[tuple[Step, bool]]:
    """The steps one loop of the animation plays: the movement once, then mirrored if it alternates."""
    steps = [(s, False) for s in figure.steps]
    sided = figure.side is not None and not any(s.cue == "side_start" for s in figure.steps)
    if sided:
        steps += [(s, True) for s in figure.steps]
    return steps


def loop_frames(figure: Figure, fps: int = FPS) -> list[Frame]:
    """Every frame of one loop of the animation, times running on from step to step."""
    out: list[Frame] = []
    offset = 0.0
    for step, mirror in loop_steps(figure):
        frames = list(step_frames(figure, step, mirror=mirror, fps=fps))
        if out:
            frames = frames[1:]  # the step starts where the last one ended
        out += [Frame(offset + f.time, f.step, f.mirror, f.pose, f.skeleton) for f in frames]
        offset += step.seconds
    return out


def mirrored_step(figure: Figure, step: Step) -> Step:
    """The step the other side plays for ``step``: circles keep their sense as the person sees it.

    Mirroring a clockwise loop draws it anticlockwise, so on the other side a step with a direction
    plays the poses of the other direction.
    """
    if step.direction is None:
        return step
    other = [s for s in figure.steps if s.cue == step.cue and s.direction not in {None, step.direction}]
    return other[0] if other else step
