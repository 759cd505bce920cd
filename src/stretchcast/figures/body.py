"""A simple 3D body: segment lengths from an anthropometric table, joint angles to joint positions.

Segment lengths are fractions of body height H from Winter, *Biomechanics and Motor Control of
Human Movement* (4th ed., 2009), Figure 4.1, after Drillis and Contini (1966): thigh 0.245 H
(hip 0.530 H to knee 0.285 H), shank 0.246 H (knee to ankle 0.039 H), upper arm 0.186 H, forearm
0.146 H, hand 0.108 H, foot 0.152 H long, shoulder height 0.818 H (so hip to shoulder 0.288 H), chin 0.870 H,
shoulder width 0.259 H, hip width 0.191 H. The pictogram's joint centres sit inside those widths
(see docs/ARCHITECTURE.md, "Figures"); depths (how high a joint lies above the mat) are the
pictogram's own, chosen so the limbs of even width rest on the mat rather than in it.

Frames: the body's own axes are x forward (anterior), y up (superior), z to the person's right.
The world has X along the mat towards the head, Y up from the mat, Z across it. Lying on the back
the body's front faces up; lying on the front it faces the mat.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from stretchcast.content.poses import Pose

Vec = npt.NDArray[np.float64]

# Winter (2009), Figure 4.1, as fractions of height.
THIGH = 0.245
SHANK = 0.246
UPPER_ARM = 0.186
FOREARM = 0.146
FOOT = 0.152
HAND = 0.108
ANKLE_HEIGHT = 0.039
TRUNK = 0.818 - 0.530  # hip (greater trochanter) to shoulder height
NECK_TO_HEAD = 0.936 - 0.818  # shoulder height to eye level: the head circle's centre
HEAD_RADIUS = (1.0 - 0.870) / 2  # chin to crown is the head's height
SHOULDER_SPACING = 0.259 * 0.75  # joint centres lie inside the shoulder width (acromia)
HIP_SPACING = 0.191 * 0.5  # hip joint centres lie about half the hip width apart
# The pictogram's depths: the pelvis and shoulder joints' height above the mat when lying.
LYING_DEPTH = 0.05

#: Points the figure is drawn between, by name.
POINTS = (
    "pelvis", "neck", "head",
    "right_shoulder", "right_elbow", "right_wrist", "right_hand",
    "left_shoulder", "left_elbow", "left_wrist", "left_hand",
    "right_hip", "right_knee", "right_ankle", "right_toe",
    "left_hip", "left_knee", "left_ankle", "left_toe",
)  # fmt: skip


def _rx(deg: float) -> Vec:
    a = math.radians(deg)
    c, s = math.cos(a), math.sin(a)
    return np.array([[1, 0, 0], [0, c, -s], [0, s, c]], dtype=np.float64)


def _ry(deg: float) -> Vec:
    a = math.radians(deg)
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]], dtype=np.float64)


def _rz(deg: float) -> Vec:
    a = math.radians(deg)
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]], dtype=np.float64)


_DOWN = np.array([0.0, -1.0, 0.0])
_UP = np.array([0.0, 1.0, 0.0])
_FORWARD = np.array([1.0, 0.0, 0.0])
# Body axes in world axes, as columns: the body's x (front), y (head-wards), z (right).
_WORLD = {
    "back": np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, -1.0]]).T,
    "front": np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]).T,
}


@dataclass(frozen=True)
class Skeleton:
    """Joint positions in world coordinates, as fractions of height."""

    points: dict[str, Vec]

    def __getitem__(self, name: str) -> Vec:
        return self.points[name]


def forward(pose: Pose, lying: str, *, mirror: bool = False) -> Skeleton:
    """Joint positions for ``pose`` with the body lying on its ``lying`` side; ``mirror`` swaps sides."""

    def angle(joint: str, name: str) -> float:
        if mirror:
            if joint.startswith("right_"):
                joint = "left_" + joint[6:]
            elif joint.startswith("left_"):
                joint = "right_" + joint[5:]
            elif (joint, name) in {("pelvis", "roll"), ("spine", "bend"), ("spine", "twist")}:
                return -pose.angle(joint, name)
        return pose.angle(joint, name)

    world = _WORLD[lying]
    # The pelvis: tilted (about the body's right axis) and rolled (about its long axis) in place.
    root = _rz(-angle("pelvis", "tilt")) @ _ry(angle("pelvis", "roll"))
    origin = np.array([0.0, 0.0, 0.0])
    pts: dict[str, Vec] = {"pelvis": origin}
    spine = root @ _ry(angle("spine", "twist")) @ _rx(-angle("spine", "bend")) @ _rz(-angle("spine", "flex"))
    neck = origin + spine @ (_UP * TRUNK)
    pts["neck"] = neck
    pts["head"] = neck + spine @ _rz(-angle("head", "flex")) @ (_UP * NECK_TO_HEAD)
    for side, s in (("right", 1.0), ("left", -1.0)):
        shoulder = neck + spine @ np.array([0.0, 0.0, s * SHOULDER_SPACING / 2])
        arm = spine @ _rz(angle(f"{side}_shoulder", "flex")) @ _rx(-s * angle(f"{side}_shoulder", "abduct"))
        elbow = shoulder + arm @ (_DOWN * UPPER_ARM)
        fore = arm @ _rz(angle(f"{side}_elbow", "flex"))
        pts[f"{side}_shoulder"] = shoulder
        pts[f"{side}_elbow"] = elbow
        pts[f"{side}_wrist"] = elbow + fore @ (_DOWN * FOREARM)
        pts[f"{side}_hand"] = elbow + fore @ (_DOWN * (FOREARM + HAND / 2))  # the middle of the palm
        hip = origin + root @ np.array([0.0, 0.0, s * HIP_SPACING / 2])
        thigh = (
            root
            @ _rz(angle(f"{side}_hip", "flex"))
            @ _rx(-s * angle(f"{side}_hip", "abduct"))
            @ _ry(-s * angle(f"{side}_hip", "rotate"))
        )
        knee = hip + thigh @ (_DOWN * THIGH)
        shank = thigh @ _rz(-angle(f"{side}_knee", "flex"))
        ankle = knee + shank @ (_DOWN * SHANK)
        foot = shank @ _rz(90.0 + angle(f"{side}_ankle", "flex"))
        pts[f"{side}_hip"] = hip
        pts[f"{side}_knee"] = knee
        pts[f"{side}_ankle"] = ankle
        # The foot points forward from the ankle at 0 (standing); dorsiflexion lifts the toes.
        pts[f"{side}_toe"] = ankle + foot @ (_DOWN * (FOOT - ANKLE_HEIGHT))
    lift = angle("pelvis", "lift")
    out = {k: world @ v + np.array([0.0, LYING_DEPTH + lift, 0.0]) for k, v in pts.items()}
    return Skeleton(out)


def knee_angle(sk: Skeleton, side: str) -> float:
    """The knee's bend in degrees (0 straight), from the joint positions."""
    a = sk[f"{side}_hip"] - sk[f"{side}_knee"]
    b = sk[f"{side}_ankle"] - sk[f"{side}_knee"]
    cos = float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))
    return 180.0 - math.degrees(math.acos(max(-1.0, min(1.0, cos))))


def elbow_angle(sk: Skeleton, side: str) -> float:
    """The elbow's bend in degrees (0 straight), from the joint positions."""
    a = sk[f"{side}_shoulder"] - sk[f"{side}_elbow"]
    b = sk[f"{side}_wrist"] - sk[f"{side}_elbow"]
    cos = float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))
    return 180.0 - math.degrees(math.acos(max(-1.0, min(1.0, cos))))
