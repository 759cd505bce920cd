"""The figures: the source's instructions hold in every frame, bad poses are refused, pictures decode."""

from __future__ import annotations

import base64
import dataclasses
import io
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from stretchcast.cli.main import main
from stretchcast.content import Collection, Exercise, load_collection
from stretchcast.content.poses import Figure, Pose
from stretchcast.errors import ContentError
from stretchcast.figures import checks
from stretchcast.figures.body import elbow_angle, forward
from stretchcast.figures.draw import DARK, LIGHT, LIMB_WIDTH, camera, png, scene, svg
from stretchcast.figures.motion import Frame, loop_frames, step_frames
from stretchcast.notebook.cards import exercise_card
from stretchcast.notebook.model import RoutineModel
from stretchcast.notebook.view import RoutineBuilder

from .conftest import CONTENT, FakeClock

SVG = "{http://www.w3.org/2000/svg}"


def frames_of(figure: Figure) -> list[Frame]:
    """Every frame of every step, the other side's included."""
    return loop_frames(figure)


def steps(figure: Figure, cue: str, direction: str | None = None) -> list[list[Frame]]:
    """The frames of each step for ``cue`` (and ``direction``)."""
    return [
        list(step_frames(figure, s))
        for s in figure.steps
        if s.cue == cue and (direction is None or s.direction == direction)
    ]


def with_pose(ex: Exercise, name: str, joint: str, **angles: float) -> Figure:
    """The exercise's figure with one pose's joint changed: a deliberate error."""
    assert ex.figure is not None
    pose = ex.figure.pose(name)
    joints = {**pose.joints, joint: {**pose.joints.get(joint, {}), **angles}}
    poses = {**ex.figure.poses, name: Pose(name, joints)}
    return dataclasses.replace(ex.figure, poses=poses)


# -- the source's facts, measured on the kinematics of every frame -------------------------------


def knee_to_chest_ok(figure: Figure) -> None:
    """Knee-to-chest: one knee comes in toward the chest while the other leg stays on the mat."""
    for step in figure.steps:
        frames = list(step_frames(figure, step))
        assert checks.highest(frames, ["left_hip", "left_knee", "left_ankle"]) < checks.ON_MAT
    (rep,) = steps(figure, "rep")
    knee, chest = rep[-1].skeleton["right_knee"], rep[-1].skeleton["neck"]
    start = np.linalg.norm(rep[0].skeleton["right_knee"] - chest)
    assert np.linalg.norm(knee - chest) < 0.6 * start  # drawn in toward the chest


def knee_sways_ok(figure: Figure) -> None:
    """Knee sways: feet together and on the mat, lower back on the mat, the knees fall to one side."""
    frames = frames_of(figure)
    assert checks.highest(frames, ["right_ankle", "left_ankle", "right_toe", "left_toe"]) < checks.ON_MAT
    assert checks.widest(frames, "right_ankle", "left_ankle") < 0.07  # together: about a foot's width
    assert max(float(checks.lumbar(f.skeleton)[1]) for f in frames) < checks.ON_MAT
    assert checks.highest(frames, ["pelvis", "right_hip", "left_hip"]) < checks.ON_MAT
    arms = [f"{s}_{p}" for s in ("right", "left") for p in ("elbow", "wrist", "hand")]
    assert checks.highest(frames, arms) < checks.ON_MAT  # the arms rest on the mat
    assert max(abs(float(f.skeleton[p][2])) for f in frames for p in arms) < 0.3  # beside the body
    (rep,) = steps(figure, "rep")
    middle = (rep[0].skeleton["right_knee"] + rep[0].skeleton["left_knee"]) / 2
    fallen = (rep[-1].skeleton["right_knee"] + rep[-1].skeleton["left_knee"]) / 2
    assert 0.04 < abs(float(fallen[2] - middle[2])) < 0.15  # "a little to one side"


def knee_stirs_ok(figure: Figure) -> None:
    """Knee stirs: the pelvis never moves, the knee stays bent 90 +- 5, one closed loop each way."""
    frames = frames_of(figure)
    for point in ("pelvis", "right_hip", "left_hip", "neck"):
        assert checks.travel(frames, point) < 1e-9, point
    for direction, sense in (("clockwise", 1.0), ("counterclockwise", -1.0)):
        (loop,) = steps(figure, "rep", direction)
        lo, hi = checks.knee_range(loop, "right")
        assert lo >= 85.0 and hi <= 95.0, (direction, lo, hi)
        turns, gap = checks.turning(loop, "right_knee")
        assert gap < 1e-9 and turns == pytest.approx(sense, abs=0.05), (direction, turns)


def tall_cobra_ok(figure: Figure) -> None:
    """Tall cobra: hands under the shoulders at the start, legs on the mat, arms straight at the top."""
    start = forward(figure.pose(figure.rest), figure.lying)
    for side in ("right", "left"):
        assert abs(float(start[f"{side}_hand"][0] - start[f"{side}_shoulder"][0])) < 0.03
        assert float(start[f"{side}_hand"][1]) < checks.ON_MAT
    frames = frames_of(figure)
    legs = [f"{s}_{p}" for s in ("right", "left") for p in ("hip", "knee", "ankle")]
    assert checks.highest(frames, legs) < checks.ON_MAT
    (hold,) = steps(figure, "hold")
    for side in ("right", "left"):
        assert max(elbow_angle(f.skeleton, side) for f in hold) < 10.0
    assert float(hold[0].skeleton["neck"][1]) > 0.25  # pressed up: the shoulders well off the mat


FACTS = {
    "knee-to-chest": knee_to_chest_ok,
    "knee-sways": knee_sways_ok,
    "knee-stirs": knee_stirs_ok,
    "tall-cobra": tall_cobra_ok,
}


@pytest.mark.parametrize("exercise_id", list(FACTS))
def test_source_facts_hold_in_every_frame(collection: Collection, exercise_id: str) -> None:
    """Each exercise's movement does what the source says, measured on every frame's joints."""
    figure = collection.exercise(exercise_id).figure
    assert figure is not None
    FACTS[exercise_id](figure)


@pytest.mark.parametrize("exercise_id", list(FACTS))
def test_nothing_goes_through_the_mat(collection: Collection, exercise_id: str) -> None:
    """No joint sinks more than 1% of height (under 2 cm, a soft mat's give) below the mat's surface."""
    figure = collection.exercise(exercise_id).figure
    assert figure is not None
    lowest = min(float(p[1]) for f in frames_of(figure) for p in f.skeleton.points.values())
    assert lowest >= -0.01


BROKEN = [
    # (exercise, pose, joint, angles): each a mistake someone could make in the YAML
    ("knee-stirs", "circle-out", "pelvis", {"roll": 6.0}),  # the hip moves in the stirs
    ("knee-stirs", "circle-head", "pelvis", {"lift": 0.02}),  # the pelvis lifts off the mat
    ("knee-stirs", "circle-in", "right_knee", {"flex": 100.0}),  # the knee opens past 95
    ("knee-to-chest", "knee-in", "left_hip", {"flex": 30.0}),  # the other leg lifts
    ("knee-sways", "knees-to-side", "right_hip", {"abduct": 0.0}),  # a foot slides away
    ("knee-sways", "knees-bent", "left_shoulder", {"flex": 90.0}),  # an arm held up off the mat
    ("knee-sways", "knees-to-side", "right_shoulder", {"abduct": 90.0}),  # an arm out in a T
    ("tall-cobra", "pressed-up", "right_elbow", {"flex": 30.0}),  # arms bent at the top
    ("tall-cobra", "pressed-up", "right_hip", {"flex": -40.0}),  # a leg lifts off the mat
]


@pytest.mark.parametrize(("exercise_id", "pose", "joint", "angles"), BROKEN)
def test_a_wrong_pose_fails_its_check(
    collection: Collection, exercise_id: str, pose: str, joint: str, angles: dict[str, float]
) -> None:
    """A deliberate error in one pose (a hip that moves in the stirs, a leg that lifts) fails the check."""
    broken = with_pose(collection.exercise(exercise_id), pose, joint, **angles)
    with pytest.raises(AssertionError):
        FACTS[exercise_id](broken)


def test_stirs_the_wrong_way_round_fails(collection: Collection) -> None:
    """Swapping the clockwise and counterclockwise loops fails the stirs check."""
    figure = collection.exercise("knee-stirs").figure
    assert figure is not None
    swapped = tuple(
        dataclasses.replace(
            s, direction={"clockwise": "counterclockwise", "counterclockwise": "clockwise"}[s.direction]
        )
        if s.direction
        else s
        for s in figure.steps
    )
    with pytest.raises(AssertionError):
        knee_stirs_ok(dataclasses.replace(figure, steps=swapped))


# -- the schema: bad poses are refused with file, line and field ---------------------------------


def copy_content(tmp_path: Path) -> Path:
    """A writable copy of the shipped content."""
    root = tmp_path / "si-joint"
    shutil.copytree(CONTENT, root)
    return root


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "right_knee: {flex: 125}",
            "right_kne: {flex: 125}",
            r"line \d+.*unknown joint 'right_kne'.*Did you mean 'right_knee'",
        ),
        (
            "right_knee: {flex: 125}",
            "right_knee: {flex: 190}",
            r"line \d+.*poses\.knee-in\.right_knee\.flex.*190 is out of range",
        ),
        (
            "right_knee: {flex: 125}",
            "right_knee: {bend: 125}",
            r"'right_knee' has no angle 'bend'.*Angles of right_knee: flex",
        ),
        ("view: side", "view: sideways", r"'sideways' is not a view"),
        ("poses: [legs-long, knee-in]", "poses: [legs-long, knee-up]", r"there is no pose called 'knee-up'"),
        ("{cue: hold,", "{cue: hodl,", r"'hodl' is not a cue this exercise speaks.*Did you mean 'hold'"),
    ],
)
def test_bad_figure_is_refused_with_where_and_fix(tmp_path: Path, old: str, new: str, expected: str) -> None:
    """A mistake in a figure names the file, line and field, and says what to write instead."""
    root = copy_content(tmp_path)
    path = root / "exercises" / "knee-to-chest.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(ContentError) as err:
        load_collection(root)
    assert "knee-to-chest.yaml" in str(err.value)
    assert re.search(expected, str(err.value), re.S), str(err.value)


# -- the pictures ---------------------------------------------------------------------------------


def test_knee_sways_fall_crosses_the_picture_both_ways(collection: Collection) -> None:
    """Seen from the feet end the knees' fall moves across the picture, one way for each side."""
    ex = collection.exercise("knee-sways")
    figure = ex.figure
    assert figure is not None and figure.view == "feet-end"
    cam = camera(figure.view)
    width = scene(ex).box[2]

    def knees_x(pose: str, mirror: bool) -> float:
        sk = forward(figure.pose(pose), figure.lying, mirror=mirror)
        return (cam.project(sk["right_knee"])[0] + cam.project(sk["left_knee"])[0]) / 2

    shifts = [knees_x("knees-to-side", m) - knees_x("knees-bent", m) for m in (False, True)]
    assert shifts[0] * shifts[1] < 0  # opposite ways for the two sides
    # Seen, not lost in depth: from the side it would be 0.2% of the width, the knee stirs' view 2.5%.
    assert min(abs(v) for v in shifts) > 0.04 * width, (shifts, width)


def test_cobra_trace_is_the_rise_not_a_dot(collection: Collection) -> None:
    """The cobra's still picture traces the shoulders' rise, not a dot where a loop would be."""
    sc = scene(collection.exercise("tall-cobra"))
    spread = np.ptp(np.array(sc.trace), axis=0)
    assert float(spread[1]) > 0.15, spread  # the neck rises 0.2 H in the picture


def test_knee_sways_arrow_clears_the_knees(collection: Collection) -> None:
    """The key picture's arrow for the short sway runs beside the knees, not hidden under them."""
    ex = collection.exercise("knee-sways")
    assert ex.figure is not None
    sc = scene(ex)
    knees = [s for s in sc.key if s.name in {"right_hip-right_knee", "left_hip-left_knee"}]
    ends = [np.array(s.points[1]) for s in knees]
    nearest = min(float(np.linalg.norm(np.array(p) - k)) for p in sc.trace for k in ends)
    assert nearest > LIMB_WIDTH, nearest  # further than a limb's width from either knee


@pytest.mark.parametrize("exercise_id", list(FACTS))
def test_png_and_svg_decode(collection: Collection, exercise_id: str) -> None:
    """Each figure's PNG decodes, light and dark differ, and the SVG loops with a title and description."""
    sc = scene(collection.exercise(exercise_id))
    light = Image.open(io.BytesIO(png(sc, LIGHT, size=320))).convert("RGB")
    dark = Image.open(io.BytesIO(png(sc, DARK, size=320))).convert("RGB")
    assert light.width == 320 and light.size == dark.size
    colours = {c for _, c in light.getcolors(maxcolors=1 << 20) or []}
    assert (0xD9, 0x58, 0x1F) in colours  # the moving limb in accent
    assert np.asarray(light).mean() > np.asarray(dark).mean() + 60
    root = ET.fromstring(svg(sc))
    assert root.find(f"{SVG}title") is not None and "Knee" in root.findtext(f"{SVG}title", "") + "Knee"
    assert collection.exercise(exercise_id).position in root.findtext(f"{SVG}desc", "")
    animations = root.findall(f".//{SVG}animate")
    assert animations and all(a.get("repeatCount") == "indefinite" for a in animations)
    counts = {len(a.get("values", "").split(";")) for a in animations}
    assert counts == {len(sc.frames)}
    assert not ET.fromstring(svg(sc, animated=False)).findall(f".//{SVG}animate")


# -- where people see them ------------------------------------------------------------------------


def _decoded_svg(html_text: str) -> ET.Element:
    """The SVG inside an ``<img src="data:image/svg+xml;base64,...">``."""
    match = re.search(r'src="data:image/svg\+xml;base64,([^"]+)"', html_text)
    assert match is not None
    return ET.fromstring(base64.b64decode(match.group(1)))


@pytest.mark.parametrize("exercise_id", list(FACTS))
def test_card_shows_the_moving_figure(collection: Collection, exercise_id: str) -> None:
    """Each exercise card carries its animated figure, with the description as the image's alt text."""
    ex = collection.exercise(exercise_id)
    card = exercise_card(ex)
    root = _decoded_svg(card)
    assert root.findall(f".//{SVG}animate")
    alt = re.search(r'<img [^>]*alt="([^"]*)"', card)
    assert alt is not None and ex.position in alt.group(1)


def test_builder_shows_the_exercise_being_adjusted(collection: Collection, tmp_path: Path) -> None:
    """Moving an exercise's slider in the builder shows that exercise's figure."""
    builder = RoutineBuilder(
        RoutineModel(collection),
        out_dir=tmp_path / "audio",
        routines_dir=tmp_path / "r",
        schedule=FakeClock().schedule,  # no live preview rendering behind the test's back
    )
    assert builder.figure_shown == builder.model.order[0]
    slider = builder.controls.exercises["knee-stirs"].sliders["rest"]
    slider.value = slider.value + 5
    assert builder.figure_shown == "knee-stirs"
    assert "Knee stirs" in builder.figure.value
    assert _decoded_svg(builder.figure.value).findtext(f"{SVG}title", "").startswith("Knee stirs")


def test_cli_writes_svg_and_png(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """'stretchcast figures knee-stirs -o DIR' writes an animated SVG and a PNG that decodes."""
    out = tmp_path / "figs"
    assert main(["figures", "knee-stirs", "-o", str(out), "--theme", "dark", "--size", "300"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["knee-stirs.png", "knee-stirs.svg"]
    with Image.open(out / "knee-stirs.png") as image:
        assert image.size[0] == 300
    assert ET.parse(out / "knee-stirs.svg").getroot().findall(f".//{SVG}animate")
    assert "knee-stirs.svg" in capsys.readouterr().out


def test_cli_unknown_exercise_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown exercise exits 2 with a suggestion, and no folder appears."""
    out = tmp_path / "figs"
    assert main(["figures", "knee-to-chest", "knee-stir", "-o", str(out)]) == 2
    assert "Did you mean 'knee-stirs'" in capsys.readouterr().err
    assert not out.exists()
