"""Measurements of a movement, frame by frame: what the source's instructions say, as numbers.

Each function takes the frames of one step (or all of them) and returns the measurement the tests
compare with the source: heights above the mat, distances, angles, and the turning of a loop.
Lengths are shares of body height; 0.07 H above the mat (about 12 cm) is "on the mat" for a joint
centre, since limbs lie on the mat with their centre half a limb's width above it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from stretchcast.figures.body import Skeleton, knee_angle
from stretchcast.figures.motion import Frame

ON_MAT = 0.07


def highest(frames: Sequence[Frame], points: Sequence[str]) -> float:
    """The greatest height above the mat any of ``points`` reaches in any frame."""
    return max(float(f.skeleton[p][1]) for f in frames for p in points)


def travel(frames: Sequence[Frame], point: str) -> float:
    """How far ``point`` strays from where it is in the first frame, at most."""
    ps = np.array([f.skeleton[point] for f in frames])
    return float(np.max(np.linalg.norm(ps - ps[0], axis=1)))


def widest(frames: Sequence[Frame], a: str, b: str) -> float:
    """The greatest distance between two points in any frame."""
    return max(float(np.linalg.norm(f.skeleton[a] - f.skeleton[b])) for f in frames)


def knee_range(frames: Sequence[Frame], side: str) -> tuple[float, float]:
    """The smallest and largest knee bend (degrees) over the frames."""
    bends = [knee_angle(f.skeleton, side) for f in frames]
    return min(bends), max(bends)


def lumbar(sk: Skeleton) -> np.ndarray:
    """The lower back: a third of the way from the pelvis to the neck."""
    return np.asarray(sk["pelvis"] + (sk["neck"] - sk["pelvis"]) / 3)


def turning(frames: Sequence[Frame], point: str) -> tuple[float, float]:
    """How a point's path turns seen from above, head at the top: (turns, gap).

    ``turns`` is the winding number around the path's centre, +1 for one clockwise loop, -1 for
    anticlockwise, as the person lying on their back sees it looking down at the knee; ``gap`` is
    the distance from the path's end to its start (0 for a closed loop).
    """
    # Seen from above with the head at the top: right on the picture is the world's +Z, up is +X.
    pts = np.array([[f.skeleton[point][2], f.skeleton[point][0]] for f in frames])
    centre = pts.mean(axis=0)
    angles = np.unwrap(np.arctan2(pts[:, 1] - centre[1], pts[:, 0] - centre[0]))
    turns = -(angles[-1] - angles[0]) / (2 * math.pi)  # angles grow anticlockwise
    return float(turns), float(np.linalg.norm(pts[-1] - pts[0]))
