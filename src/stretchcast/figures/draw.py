"""Draw a skeleton as a pictogram: rounded limbs of even width, a round head, the mat.

The view's camera projects the 3D joints onto the picture; limbs further from the camera are drawn
first and muted, the limbs that move in accent, the rest in the body's colour. The same scene is
written as SVG (static, or animated with SMIL so it loops in any browser or image viewer) and as
PNG (Pillow, drawn at 4x and reduced for smooth edges; no fonts needed).
"""

from __future__ import annotations

import html
import io
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from stretchcast.content.model import Exercise
from stretchcast.content.poses import Figure
from stretchcast.figures.body import HEAD_RADIUS, Skeleton, Vec, forward
from stretchcast.figures.motion import Frame, loop_frames, step_frames
from stretchcast.figures.themes import DARK as DARK  # noqa: PLC0414 - tests and callers take them from here
from stretchcast.figures.themes import LIGHT as LIGHT  # noqa: PLC0414
from stretchcast.figures.themes import THEMES as THEMES  # noqa: PLC0414
from stretchcast.figures.themes import Theme

LIMB_WIDTH = 0.05  # share of height: every limb the same width
TRUNK_WIDTH = 0.09
MAT_LENGTH = (-0.62, 0.56)  # along the mat (X), share of height
MAT_WIDTH = 0.34  # half the mat's width (Z)
MAT_THICKNESS = 0.02
MAT_BEYOND_FEET = 0.13  # the mat reaches this far past the feet (MAT_LENGTH's end for long legs)
TRACE_WIDTH = 0.018  # the dotted path of the moving joint
ARROW = 0.05
LOOP_SCALE = 2.5  # a loop's path is a symbol: drawn larger than life, around the joint
SWAY_SCALE = 1.45  # a short swing of the knees is drawn as an arc this much further from the feet
SHORT_PATH = 0.12  # a path shorter than this (share of height) would hide under the limb drawing it
# The feet-end camera (degrees above the mat, and turned towards the person's right from straight up
# the body). Straight from the feet (0) the bent knees are one column and the figure reads as a
# person standing on one leg; turned 30 degrees the bent knees show as an inverted V and the mat as
# a floor, while a sideways fall of the knees still crosses the picture at cos 30 = 0.87 of its size.
FEET_END_ELEVATION = 40.0
FEET_END_YAW = 30.0

# (from, to, the joint that moves this limb, or "" for the trunk)
SEGMENTS: tuple[tuple[str, str, str], ...] = (
    ("pelvis", "neck", "spine"),
    *(
        seg
        for side in ("right", "left")
        for seg in (
            (f"{side}_shoulder", f"{side}_elbow", f"{side}_shoulder"),
            (f"{side}_elbow", f"{side}_hand", f"{side}_elbow"),
            (f"{side}_hip", f"{side}_knee", f"{side}_hip"),
            (f"{side}_knee", f"{side}_ankle", f"{side}_knee"),
            (f"{side}_ankle", f"{side}_toe", f"{side}_ankle"),
        )
    ),
)
# The shoulder and hip girdles: short bars joining the limbs to the trunk.
GIRDLES = (("right_shoulder", "left_shoulder"), ("right_hip", "left_hip"))
# Each limb's first point, to the girdle joint it hangs from (whose depth says near or far side).
_ROOTS = {
    f"{side}_{point}": f"{side}_{root}"
    for side in ("right", "left")
    for root, points in (("shoulder", ("shoulder", "elbow")), ("hip", ("hip", "knee", "ankle")))
    for point in points
}


def _opposite(name: str) -> str:
    return "left_" + name[6:] if name.startswith("right_") else "right_" + name[5:]


@dataclass(frozen=True)
class Camera:
    """A view: the direction the camera looks and which way is up in the picture."""

    look: Vec
    up: Vec

    def project(self, p: Vec) -> tuple[float, float, float]:
        """Picture x (right), y (down) and depth (larger is further away) of a world point."""
        d = self.look / np.linalg.norm(self.look)
        right = np.cross(d, self.up)
        right /= np.linalg.norm(right)
        up = np.cross(right, d)
        return float(np.dot(p, right)), -float(np.dot(p, up)), float(np.dot(p, d))


def camera(view: str) -> Camera:
    """The camera for a view. Side: from the right of a body lying on its back, head to the left.
    Above: looking down, head at the top. Three-quarter: from above, to the right, a little beyond the
    head. Head-end: from above and beyond the head, as the person sees their own knees. Feet-end:
    from beyond the feet, raised and turned towards the person's right, looking up the body."""
    if view == "side":
        return Camera(np.array([0.0, 0.0, 1.0]), np.array([0.0, 1.0, 0.0]))
    if view == "above":
        return Camera(np.array([0.0, -1.0, 0.0]), np.array([1.0, 0.0, 0.0]))
    if view == "head-end":
        return Camera(np.array([-0.5, -0.85, 0.15]), np.array([0.0, 1.0, 0.0]))
    if view == "feet-end":
        down, aside = np.radians(FEET_END_ELEVATION), np.radians(FEET_END_YAW)
        look = np.array([np.cos(down) * np.cos(aside), -np.sin(down), np.cos(down) * np.sin(aside)])
        return Camera(look, np.array([0.0, 1.0, 0.0]))
    return Camera(np.array([-0.3, -0.5, 0.7]), np.array([0.0, 1.0, 0.0]))


@dataclass(frozen=True)
class Shape:
    """One thing to draw: a limb (two points) or the head (one point and a radius), and its role."""

    points: tuple[tuple[float, float], ...]
    width: float
    role: str  # "moving", "near", "far" or "head"
    name: str
    depth: float


def moving_limbs(frames: Sequence[Frame]) -> frozenset[str]:
    """Limbs (``from-to`` names) whose ends travel more than 2% of height anywhere in the movement."""
    out: set[str] = set()
    for a, b, _ in SEGMENTS:
        for point in (a, b):
            ps = np.array([f.skeleton[point] for f in frames])
            if len(ps) and float(np.max(np.linalg.norm(ps - ps[0], axis=1))) > 0.02:
                out.add(f"{a}-{b}")
    return frozenset(out)


def shapes(sk: Skeleton, cam: Camera, moving: frozenset[str]) -> list[Shape]:
    """What to draw for one skeleton, far to near; limbs named in ``moving`` in accent."""
    proj = {name: cam.project(p) for name, p in sk.points.items()}
    out: list[Shape] = []
    for a, b, joint in SEGMENTS:
        pa, pb = proj[a], proj[b]
        depth = (pa[2] + pb[2]) / 2
        width = TRUNK_WIDTH if joint == "spine" else LIMB_WIDTH
        # A limb is muted when its girdle joint lies further from the camera than the other side's:
        # the far arm and leg in a side view, neither seen from the feet (where the trunk, too,
        # lies further than the pelvis but must not fade).
        root = _ROOTS.get(a)
        far = root is not None and proj[root][2] > proj[_opposite(root)][2] + 0.01
        role = "moving" if f"{a}-{b}" in moving else ("far" if far else "near")
        out.append(Shape(((pa[0], pa[1]), (pb[0], pb[1])), width, role, f"{a}-{b}", depth))
    for a, b in GIRDLES:
        pa, pb = proj[a], proj[b]
        out.append(
            Shape(((pa[0], pa[1]), (pb[0], pb[1])), LIMB_WIDTH, "near", f"{a}-{b}", (pa[2] + pb[2]) / 2)
        )
    h = proj["head"]
    out.append(Shape(((h[0], h[1]),), HEAD_RADIUS, "head", "head", h[2]))
    # Far limbs first, then the trunk and head, then near limbs; moving limbs last so they read.
    rank = {"far": 0, "near": 1, "head": 1, "moving": 2}
    return sorted(out, key=lambda s: (rank[s.role], -s.depth))


def mat_outline(cam: Camera, frames: Sequence[Frame] = ()) -> list[tuple[float, float]]:
    """The mat's corners (top face and underside) in the picture.

    The mat ends MAT_BEYOND_FEET past the lowest point of the body in ``frames`` (at MAT_LENGTH's
    end at most): with the knees bent the feet stand 0.2 H up the mat, and a mat laid out for long
    legs would leave a bare end that shrinks the figure in a thumbnail.
    """
    feet = min((float(p[0]) for f in frames for p in f.skeleton.points.values()), default=-np.inf)
    start = max(MAT_LENGTH[0], feet - MAT_BEYOND_FEET)
    corners = [
        np.array([x, y, z])
        for x in (start, MAT_LENGTH[1])
        for z in (-MAT_WIDTH, MAT_WIDTH)
        for y in (0.0, -MAT_THICKNESS)
    ]
    pts = [cam.project(c)[:2] for c in corners]
    return _hull(pts)


def _hull(points: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """The convex hull, counter-clockwise (monotone chain)."""
    pts = sorted(set(points))
    if len(pts) < 3:
        return list(pts)

    def cross(o: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list[tuple[float, float]] = []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 1e-12:
            lower.pop()
        lower.append(p)
    upper: list[tuple[float, float]] = []
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 1e-12:
            upper.pop()
        upper.append(p)
    return lower[:-1] + upper[:-1]


@dataclass(frozen=True)
class Scene:
    """An exercise's figure ready to draw: every frame's shapes, the mat, and the picture's bounds."""

    exercise: Exercise
    figure: Figure
    frames: list[Frame]
    drawn: list[list[Shape]]
    key: list[Shape]
    mat: list[tuple[float, float]]
    box: tuple[float, float, float, float]  # x, y, width, height
    trace: list[tuple[float, float]]  # the path the moving joint draws in one rep, for the arrow

    @property
    def duration(self) -> float:
        """One loop's length in seconds."""
        return self.frames[-1].time if self.frames else 0.0


def scene(exercise: Exercise) -> Scene:
    """The scene for an exercise that has a figure."""
    figure = exercise.figure
    if figure is None:
        raise ValueError(f"{exercise.id} has no figure")
    cam = camera(figure.view)
    frames = loop_frames(figure)
    # One side's movement decides what is accented: the other side then rests, muted or plain.
    moving = moving_limbs([f for f in frames if not f.mirror])
    drawn = [shapes(f.skeleton, cam, other_side(moving) if f.mirror else moving) for f in frames]
    key = shapes(forward(figure.pose(figure.key), figure.lying), cam, moving)
    mat = mat_outline(cam, frames)
    path = motion_trace(figure, cam)
    xs: list[float] = [p[0] for p in path]
    ys: list[float] = [p[1] for p in path]
    for group in [*drawn, key]:
        for s in group:
            pad = s.width if s.role == "head" else s.width / 2
            for x, y in s.points:
                xs += [x - pad, x + pad]
                ys += [y - pad, y + pad]
    xs += [p[0] for p in mat]
    ys += [p[1] for p in mat]
    margin = 0.04
    x0, x1 = min(xs) - margin, max(xs) + margin
    y0, y1 = min(ys) - margin, max(ys) + margin
    return Scene(exercise, figure, frames, drawn, key, mat, (x0, y0, x1 - x0, y1 - y0), path)


TRACED = ("right_knee", "left_knee", "right_ankle", "left_ankle", "neck")  # whose path tells the movement


def motion_trace(figure: Figure, cam: Camera) -> list[tuple[float, float]]:
    """The picture path of the joint that travels furthest in the first rep (a knee, a foot, the chest).

    A still picture cannot move, so it shows the path as a dotted line ending in an arrow: the
    foot's circle in the stirs (the whole leg circles with the knee), the shoulders' rise in the cobra.
    """
    rep = next((s for s in figure.steps if s.cue == "rep"), figure.steps[0] if figure.steps else None)
    if rep is None:
        return []
    frames = list(step_frames(figure, rep))
    point = max(TRACED, key=lambda p: float(np.ptp([f.skeleton[p] for f in frames], axis=0).max()))
    path = [cam.project(f.skeleton[point])[:2] for f in frames]
    knee = [cam.project(f.skeleton[f"{figure.side or 'right'}_knee"])[:2] for f in frames]
    knee_moves = float(np.ptp(np.array(knee), axis=0).max()) > 1e-6 if len(knee) > 2 else False
    if knee_moves and np.hypot(knee[-1][0] - knee[0][0], knee[-1][1] - knee[0][1]) < 1e-6:
        # A loop (the stirs' circle): drawn around the knee the source speaks of, and enlarged
        # LOOP_SCALE times so that a small circle still shows beside the limb that hides it.
        cx = sum(p[0] for p in knee) / len(knee)
        cy = sum(p[1] for p in knee) / len(knee)
        return [(cx + (x - cx) * LOOP_SCALE, cy + (y - cy) * LOOP_SCALE) for x, y in knee]
    if point.endswith("_knee") and np.hypot(path[-1][0] - path[0][0], path[-1][1] - path[0][1]) < SHORT_PATH:
        # A short swing (the sways' knees, feet still): the knee would cover its own path, so the
        # arc is drawn SWAY_SCALE times as far from the feet, clear above the knees it describes.
        feet = [cam.project((frames[0].skeleton["right_ankle"] + frames[0].skeleton["left_ankle"]) / 2)[:2]]
        fx, fy = feet[0]
        return [(fx + (x - fx) * SWAY_SCALE, fy + (y - fy) * SWAY_SCALE) for x, y in path]
    return path


def arrow_head(path: Sequence[tuple[float, float]], size: float) -> list[tuple[float, float]]:
    """A triangle at the end of ``path``, pointing the way it goes."""
    (ax, ay), (bx, by) = path[-4] if len(path) > 3 else path[0], path[-1]
    length = max(1e-9, ((bx - ax) ** 2 + (by - ay) ** 2) ** 0.5)
    ux, uy = (bx - ax) / length, (by - ay) / length
    tip = (bx + ux * size * 0.6, by + uy * size * 0.6)
    return [
        tip,
        (bx - ux * size * 0.6 - uy * size * 0.5, by - uy * size * 0.6 + ux * size * 0.5),
        (bx - ux * size * 0.6 + uy * size * 0.5, by - uy * size * 0.6 - ux * size * 0.5),
    ]


def other_side(names: frozenset[str]) -> frozenset[str]:
    """The same limbs on the other side."""
    return frozenset(n.replace("right_", "@").replace("left_", "right_").replace("@", "left_") for n in names)


def describe(exercise: Exercise) -> tuple[str, str]:
    """The figure's title and its description for screen readers."""
    figure = exercise.figure
    view = {
        "side": "seen from the side",
        "above": "seen from above",
        "three-quarter": "seen from above and to one side",
        "head-end": "seen from above the head, looking down the body",
        "feet-end": "seen from beyond the feet and a little to one side, looking up the body",
    }
    title = f"{exercise.name}: how it moves"
    where = view[figure.view] if figure else ""
    desc = f"A figure {where}. {exercise.position} {' '.join(exercise.steps)}"
    return title, desc


def _colour(theme: Theme, role: str) -> str:
    return {"moving": theme.accent, "far": theme.far}.get(role, theme.body)


def _f(v: float) -> str:
    return f"{v * 1000:.1f}".rstrip("0").rstrip(".")


def svg(sc: Scene, theme: Theme = LIGHT, *, animated: bool = True, size: int = 480) -> str:
    """The figure as SVG: the key pose, or the movement looping (SMIL animation) if ``animated``."""
    x, y, w, h = sc.box
    title, desc = describe(sc.exercise)
    e = html.escape
    width = size
    height = round(size * h / w)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="{_f(x)} {_f(y)} {_f(w)} {_f(h)}" '
        f'width="{width}" height="{height}" role="img" aria-labelledby="title desc">',
        f'<title id="title">{e(title)}</title><desc id="desc">{e(desc)}</desc>',
        f'<rect x="{_f(x)}" y="{_f(y)}" width="{_f(w)}" height="{_f(h)}" rx="{_f(0.04)}" '
        f'fill="{theme.background}"/>',
        f'<polygon points="{" ".join(f"{_f(px)},{_f(py)}" for px, py in sc.mat)}" fill="{theme.mat}" '
        f'stroke="{theme.mat}" stroke-width="{_f(0.02)}" stroke-linejoin="round"/>',
    ]
    shapes_now = sc.drawn[0] if animated else sc.key
    by_name = [{s.name: s for s in group} for group in sc.drawn]
    loop = f'dur="{sc.duration:.3f}s" repeatCount="indefinite"'
    for s in shapes_now:
        colour = _colour(theme, s.role)
        if s.role == "head":
            (cx, cy) = s.points[0]
            anim = ""
            if animated:
                xs = ";".join(_f(g[s.name].points[0][0]) for g in by_name)
                ys = ";".join(_f(g[s.name].points[0][1]) for g in by_name)
                anim = (
                    f'<animate attributeName="cx" values="{xs}" {loop}/>'
                    f'<animate attributeName="cy" values="{ys}" {loop}/>'
                )
            parts.append(
                f'<circle cx="{_f(cx)}" cy="{_f(cy)}" r="{_f(s.width)}" fill="{colour}">{anim}</circle>'
            )
            continue
        (ax, ay), (bx, by) = s.points
        anim = ""
        if animated:
            for attr, k, i in (("x1", 0, 0), ("y1", 0, 1), ("x2", 1, 0), ("y2", 1, 1)):
                values = ";".join(_f(g[s.name].points[k][i]) for g in by_name)
                anim += f'<animate attributeName="{attr}" values="{values}" {loop}/>'
        parts.append(
            f'<line x1="{_f(ax)}" y1="{_f(ay)}" x2="{_f(bx)}" y2="{_f(by)}" stroke="{colour}" '
            f'stroke-width="{_f(s.width)}" stroke-linecap="round">{anim}</line>'
        )
    if len(sc.trace) > 1:
        points = " ".join(f"{_f(px)},{_f(py)}" for px, py in sc.trace)
        parts.append(
            f'<polyline points="{points}" fill="none" stroke="{theme.accent}" '
            f'stroke-width="{_f(TRACE_WIDTH)}" stroke-linecap="round" '
            f'stroke-dasharray="0 {_f(TRACE_WIDTH * 2)}" opacity="0.9"/>'
        )
        head = " ".join(f"{_f(px)},{_f(py)}" for px, py in arrow_head(sc.trace, ARROW))
        parts.append(f'<polygon points="{head}" fill="{theme.accent}"/>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def png(sc: Scene, theme: Theme = LIGHT, *, size: int = 480, shapes_: list[Shape] | None = None) -> bytes:
    """The key pose (or ``shapes_``) as a PNG ``size`` pixels wide, drawn at 4x and reduced."""
    x, y, w, h = sc.box
    scale = 4
    width = size * scale
    height = round(size * h / w) * scale
    k = width / w

    def at(px: float, py: float) -> tuple[float, float]:
        return ((px - x) * k, (py - y) * k)

    img = Image.new("RGB", (width, height), theme.background)
    draw = ImageDraw.Draw(img)
    mat = [at(px, py) for px, py in sc.mat]
    draw.polygon(mat, fill=theme.mat)
    draw.line([*mat, mat[0]], fill=theme.mat, width=max(1, round(0.02 * k)), joint="curve")
    for s in shapes_ if shapes_ is not None else sc.key:
        colour = _colour(theme, s.role)
        if s.role == "head":
            cx, cy = at(*s.points[0])
            r = s.width * k
            draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=colour)
            continue
        a, b = at(*s.points[0]), at(*s.points[1])
        r = s.width * k / 2
        draw.line([a, b], fill=colour, width=max(1, round(2 * r)))
        for cx, cy in (a, b):
            draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=colour)
    if len(sc.trace) > 1:  # the dotted path and its arrow
        r = TRACE_WIDTH * k / 2
        gap = TRACE_WIDTH * 2.0
        walked = 0.0
        last = sc.trace[0]
        for point in sc.trace:
            walked += ((point[0] - last[0]) ** 2 + (point[1] - last[1]) ** 2) ** 0.5
            last = point
            if walked >= gap or point is sc.trace[0]:
                walked = 0.0
                cx, cy = at(*point)
                draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=theme.accent)
        draw.polygon([at(*p) for p in arrow_head(sc.trace, ARROW)], fill=theme.accent)
    img = img.resize((size, height // scale), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    return buf.getvalue()
