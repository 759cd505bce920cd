"""An exercise's figure as data: key poses as joint angles, the movement as keyframes, the view.

The ``figure:`` section of an exercise file names poses (joint angles in degrees, every joint not
named at 0, the body lying on the mat with legs long and arms by the sides) and says which poses the
body passes through on each cue the voice speaks. The renderer in :mod:`stretchcast.figures` turns
them into pictures; the tests in tests/test_figures.py check the source's facts against them.

Poses are written for one side (``side``); the other side mirrors them, so "Left knee in" draws
the same movement with the left leg. Angles are anatomical and signed the way a clinician says
them: flexion positive, extension negative; abduction positive; external rotation positive.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from stretchcast.content import strict_yaml as _yaml
from stretchcast.errors import ContentError, did_you_mean

#: Views a figure can be drawn from.
VIEWS = ("side", "above", "three-quarter", "head-end", "feet-end")
#: How the body lies on the mat.
LYING = ("back", "front")

# Each joint's angles and the range a body allows (degrees; pelvis "lift" is a share of height).
# Ranges are generous active ranges of motion: they catch a typo (knee 190) without judging a pose.
_HIP = {"flex": (-30.0, 140.0), "abduct": (-35.0, 50.0), "rotate": (-50.0, 50.0)}
_SHOULDER = {"flex": (-70.0, 180.0), "abduct": (-30.0, 180.0)}
_PAIRED = {
    "shoulder": _SHOULDER,
    "elbow": {"flex": (0.0, 150.0)},
    "hip": _HIP,
    "knee": {"flex": (0.0, 155.0)},
    "ankle": {"flex": (-80.0, 30.0)},  # lying on the front the feet point fully
}
JOINTS: dict[str, dict[str, tuple[float, float]]] = {
    "pelvis": {"tilt": (-30.0, 30.0), "roll": (-30.0, 30.0), "lift": (0.0, 0.3)},
    "spine": {"flex": (-60.0, 90.0), "bend": (-40.0, 40.0), "twist": (-45.0, 45.0)},
    "head": {"flex": (-60.0, 80.0)},
    **{f"{side}_{joint}": angles for side in ("right", "left") for joint, angles in _PAIRED.items()},
}
#: Cues a movement step can follow (the keys of an exercise's ``cues``, less the spoken-only dose).
STEP_CUES = ("side_start", "direction_start", "rep", "hold", "release", "side_end")

Angles = dict[str, float]


@dataclass(frozen=True)
class Pose:
    """One key pose: the angles of the joints that are not at rest (all others are 0)."""

    name: str
    joints: dict[str, Angles]

    def angle(self, joint: str, name: str) -> float:
        """One angle in degrees (or lift as a share of height); 0 where the pose does not say."""
        return self.joints.get(joint, {}).get(name, 0.0)


@dataclass(frozen=True)
class Step:
    """What the body does on one cue: it passes through ``poses`` in order over ``seconds``."""

    cue: str
    poses: tuple[str, ...]
    seconds: float
    direction: str | None = None


@dataclass(frozen=True)
class Figure:
    """An exercise's figure: the view, the poses, the movement, and which pose is the key one."""

    view: str
    lying: str
    side: str | None  # the side the poses are written for; the other side is their mirror
    rest: str  # the pose held between reps and during rests
    key: str  # the pose one still picture shows (the PNG, the cards)
    poses: dict[str, Pose]
    steps: tuple[Step, ...]

    def pose(self, name: str) -> Pose:
        """The pose called ``name``."""
        return self.poses[name]

    def moving_joints(self) -> frozenset[str]:
        """Joints whose angles change anywhere in the movement: the renderer draws their limbs in accent."""
        names = {p for step in self.steps for p in step.poses} | {self.rest}
        moving: set[str] = set()
        for joint, angles in JOINTS.items():
            for angle in angles:
                values = {self.poses[n].angle(joint, angle) for n in names}
                if len(values) > 1:
                    moving.add(joint)
        return frozenset(moving)


def load_figure(
    doc: _yaml.Mapping, *, cues: Sequence[str], sides: Sequence[str], directions: Sequence[str]
) -> Figure | None:
    """Read an exercise's optional ``figure:`` section, checking every joint, angle and step."""
    m = doc.mapping("figure", required=False)
    if m is None:
        return None
    view = _choice(m, "view", VIEWS)
    lying = _choice(m, "lying", LYING)
    side = m.text("side", required=bool(sides), max_len=10) if sides or m.has("side") else None
    if side is not None and side not in sides:
        raise m.error(
            f"side '{side}' is not one of the exercise's sides ({', '.join(sides) or 'none'})",
            key="side",
            fix="Name the side the poses are written for, e.g. side: right.",
        )
    pm = m.mapping("poses")
    assert pm is not None
    poses: dict[str, Pose] = {}
    for name in pm:
        poses[name] = _pose(pm, name)
    pm.finish()
    if not poses:
        raise pm.error("'poses' is empty", fix="Name at least one pose, e.g. 'legs-long: {}'.")
    rest = _pose_name(m, "rest", poses)
    key = _pose_name(m, "key", poses)
    steps = tuple(
        _step(s, poses, cues, directions)
        for s in m.mappings("movement", item_fix="Write each step as '- {cue: rep, poses: [a, b]}'.")
    )
    m.finish(["view", "lying", "side", "poses", "rest", "key", "movement"])
    return Figure(view=view, lying=lying, side=side, rest=rest, key=key, poses=poses, steps=steps)


def _choice(m: _yaml.Mapping, key: str, allowed: Sequence[str]) -> str:
    value = m.text(key, max_len=20)
    assert value is not None
    if value not in allowed:
        raise m.error(
            f"'{value}' is not a {key}",
            key=key,
            fix=f"{did_you_mean(value, allowed)}Use one of: {', '.join(allowed)}.",
        )
    return value


def _pose(pm: _yaml.Mapping, name: str) -> Pose:
    jm = pm.mapping(name)
    assert jm is not None
    joints: dict[str, Angles] = {}
    for joint in jm:
        if joint not in JOINTS:
            raise ContentError(
                f"unknown joint '{joint}'",
                where=jm.where(joint),
                fix=f"{did_you_mean(joint, list(JOINTS))}Joints: {', '.join(JOINTS)}.",
            )
        am = jm.mapping(joint)
        assert am is not None
        angles: Angles = {}
        for angle in am:
            if angle not in JOINTS[joint]:
                allowed = list(JOINTS[joint])
                raise ContentError(
                    f"'{joint}' has no angle '{angle}'",
                    where=am.where(angle),
                    fix=f"{did_you_mean(angle, allowed)}Angles of {joint}: {', '.join(allowed)}.",
                )
            lo, hi = JOINTS[joint][angle]
            value = am.number(angle, lo=lo, hi=hi)
            assert value is not None
            angles[angle] = value
        am.finish()
        joints[joint] = angles
    jm.finish()
    return Pose(name=name, joints=joints)


def _pose_name(m: _yaml.Mapping, key: str, poses: dict[str, Pose]) -> str:
    value = m.text(key, max_len=40)
    assert value is not None
    if value not in poses:
        raise m.error(
            f"there is no pose called '{value}'",
            key=key,
            fix=f"{did_you_mean(value, list(poses))}Poses: {', '.join(poses)}.",
        )
    return value


def _step(s: _yaml.Mapping, poses: dict[str, Pose], cues: Sequence[str], directions: Sequence[str]) -> Step:
    cue = s.text("cue", max_len=20)
    assert cue is not None
    if cue not in STEP_CUES or (cue != "hold" and cue not in cues):
        usable = [c for c in STEP_CUES if c == "hold" or c in cues]
        raise s.error(
            f"'{cue}' is not a cue this exercise speaks",
            key="cue",
            fix=f"{did_you_mean(cue, usable)}Use one of: {', '.join(usable)}.",
        )
    direction = s.text("direction", required=False, max_len=20)
    if direction is not None and direction not in directions:
        raise s.error(
            f"'{direction}' is not one of the exercise's directions ({', '.join(directions) or 'none'})",
            key="direction",
        )
    names = s.texts("poses", max_items=40, max_len=40)
    for i, name in enumerate(names):
        if name not in poses:
            raise ContentError(
                f"there is no pose called '{name}'",
                where=dataclasses.replace(s.where("poses"), field=f"{s.field}.poses[{i}]"),
                fix=f"{did_you_mean(name, list(poses))}Poses: {', '.join(poses)}.",
            )
    seconds = s.number("seconds", lo=0.2, hi=30.0, required=False) or 1.0
    s.finish(["cue", "direction", "poses", "seconds"])
    return Step(cue=cue, poses=names, seconds=seconds, direction=direction)
