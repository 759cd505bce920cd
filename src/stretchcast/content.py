"""Load and validate exercises, the collection they belong to, and routines, into frozen dataclasses.

The files under ``content/<collection>/`` are the single source of what is said and for how long.
Everything here is checked on load: unknown keys, wrong types and values outside an exercise's
allowed range are errors that name the file, the line and the field, with the fix.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
import string
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from . import _yaml
from .errors import ContentError, OutputError, UsageError, Where, did_you_mean

#: Fields a routine (or ``--set``) may override, each within the exercise's allowed range.
DOSE_FIELDS = ("reps", "hold", "rest", "sets", "pace")
SIDE_NAMES = ("left", "right")
DIRECTION_NAMES = ("clockwise", "counterclockwise")
_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

# Outer limits no exercise file may exceed, whatever its own range says: they keep a typo
# (a hold of 1000 s) from producing an absurd track, and size the notebook sliders.
_LIMITS: dict[str, tuple[float, float]] = {
    "reps": (1, 50),
    "hold": (0, 120),
    "rest": (0, 300),
    "sets": (1, 10),
    "pace": (0.5, 30),
}
_UNITS = {"reps": "", "hold": "s", "rest": "s", "sets": "", "pace": "s"}
_MEANING = {
    "reps": "repetitions per side or direction",
    "hold": "seconds each hold lasts",
    "rest": "seconds of rest after the exercise (and between sets)",
    "sets": "times the whole exercise is repeated",
    "pace": "seconds given to each movement between holds",
}

#: Placeholders that cue templates may use, and what fills them.
CUE_FIELDS = {
    "rep": {"count", "Count", "side", "Side", "direction", "side_word"},
    "release": {"side", "Side", "side_word"},
    "side_start": {"side", "Side", "side_word"},
    "side_end": {"side", "Side", "side_word"},
    "direction_start": {"direction", "Direction", "side", "Side"},
    "dose": {"reps", "hold", "sets", "side_word"},
}


def _is_whole(value: float) -> bool:
    return float(value).is_integer()


@dataclass(frozen=True)
class Range:
    """The values a dose field may take for one exercise, and the default (what the source states)."""

    default: float
    min: float
    max: float

    def contains(self, value: float) -> bool:
        """Whether ``value`` is allowed."""
        return self.min <= value <= self.max

    def describe(self, unit: str = "") -> str:
        """ "4 to 8" or "exactly 8" (with a unit if given)."""
        u = f" {unit}" if unit else ""
        if self.min == self.max:
            return f"exactly {self.min:g}{u}"
        return f"{self.min:g} to {self.max:g}{u}"


@dataclass(frozen=True)
class DoseRanges:
    """Allowed range of every dose field of an exercise."""

    reps: Range
    hold: Range
    pace: Range
    rest: Range
    sets: Range

    def of(self, name: str) -> Range:
        """The range of dose field ``name``."""
        rng: Range = getattr(self, name)
        return rng


@dataclass(frozen=True)
class Dose:
    """How much of an exercise: reps per side/direction, hold/rest/pace in seconds, sets."""

    reps: int
    hold: int
    pace: float
    rest: int
    sets: int

    @property
    def hold_ms(self) -> int:
        """Each hold in milliseconds."""
        return self.hold * 1000

    @property
    def rest_ms(self) -> int:
        """The rest after the exercise in milliseconds."""
        return self.rest * 1000

    @property
    def pace_ms(self) -> int:
        """The time given to each movement in milliseconds (before the pace factor)."""
        return round(self.pace * 1000)


@dataclass(frozen=True)
class Cues:
    """Templates for what is spoken during the reps; ``{count}``, ``{side}`` and friends are filled in."""

    rep: str
    dose: str
    release: str | None = None
    side_start: str | None = None
    side_end: str | None = None
    direction_start: str | None = None


@dataclass(frozen=True)
class Exercise:
    """One exercise: how to get into position, what to do, how much, and what to watch for."""

    id: str
    name: str
    summary: str
    position: str
    sides: tuple[str, ...]
    alternate: bool
    side_word: str
    directions: tuple[str, ...]
    setup: tuple[str, ...]
    steps: tuple[str, ...]
    cues: Cues
    ranges: DoseRanges
    cautions: tuple[str, ...]
    spoken_caution: str | None
    path: Path

    @property
    def default_dose(self) -> Dose:
        """The dose the source states."""
        r = self.ranges
        return Dose(
            reps=int(r.reps.default),
            hold=int(r.hold.default),
            pace=float(r.pace.default),
            rest=int(r.rest.default),
            sets=int(r.sets.default),
        )

    @property
    def reps_unit(self) -> str:
        """What one rep counts, for people: "per side", "each direction, each leg", or ""."""
        if self.directions and self.sides:
            return f"each direction, each {self.side_word}"
        if self.directions:
            return "each direction"
        if self.sides:
            return f"per {self.side_word}"
        return "times"


@dataclass(frozen=True)
class Collection:
    """A set of exercises with its introduction, safety guidance and preset routines."""

    id: str
    title: str
    album: str
    introduction: tuple[str, ...]
    welcome: tuple[str, ...]
    safety_spoken: tuple[str, ...]
    cautions: tuple[str, ...]
    closing: tuple[str, ...]
    exercises: tuple[Exercise, ...]
    root: Path
    year: int | None = None  # the edition's year, for the tags (a year in the file keeps builds reproducible)

    @property
    def routines_dir(self) -> Path:
        """Where the preset routine files live."""
        return self.root / "routines"

    def exercise(self, exercise_id: str, where: Where | None = None) -> Exercise:
        """The exercise called ``exercise_id``, or an error listing the ones that exist."""
        for ex in self.exercises:
            if ex.id == exercise_id:
                return ex
        ids = [ex.id for ex in self.exercises]
        hint = did_you_mean(exercise_id, ids)
        raise ContentError(
            f"there is no exercise called '{exercise_id}'",
            where=where,
            fix=f"{hint}Exercises: {', '.join(ids)}.",
        )

    def presets(self) -> list[str]:
        """Names of the preset routines, in a sensible order (gentle, standard, full first)."""
        names = sorted(p.stem for p in self.routines_dir.glob("*.yaml"))
        order = {"gentle": 0, "standard": 1, "full": 2}
        return sorted(names, key=lambda n: (order.get(n, 3), n))


@dataclass(frozen=True)
class Guidance:
    """How the track guides: the pace factor on movements, chimes, and countdowns in long holds."""

    pace: float = 1.0
    chimes: bool = True
    countdown: bool = True


PACE_FACTOR_RANGE = (0.5, 2.0)
ADJUSTED = " (adjusted)"


@dataclass(frozen=True)
class RoutineItem:
    """An exercise in a routine, with its dose."""

    exercise: Exercise
    dose: Dose


@dataclass(frozen=True)
class Routine:
    """What to do, in order, how much, and how often to go round."""

    slug: str
    title: str
    description: str | None
    items: tuple[RoutineItem, ...]
    rounds: int
    guidance: Guidance
    voice: str | None
    collection: Collection
    path: Path | None = None

    def with_overrides(self, overrides: Iterable[str]) -> Routine:
        """A copy with ``EXERCISE.FIELD=VALUE`` overrides applied (each checked against the ranges)."""
        routine = self
        for text in overrides:
            routine = routine._override(text)
        return routine.adjusted() if routine != self else routine

    def adjusted(self) -> Routine:
        """This routine marked as changed from its file: " (adjusted)" in the title, no file behind it.

        A changed preset must not pass itself off as the preset (in tags, on the phone page, in the
        feed), nor take the preset's place in the album.
        """
        if self.title.endswith(ADJUSTED):
            return dataclasses.replace(self, path=None)
        return dataclasses.replace(self, title=f"{self.title}{ADJUSTED}", path=None)

    def _override(self, text: str) -> Routine:
        where = Where(f"--set {text}")
        target, sep, raw = text.partition("=")
        ex_id, dot, field = target.strip().rpartition(".")
        if not sep or not dot or not ex_id or not field or not raw.strip():
            raise UsageError(
                f"--set '{text}' is not of the form EXERCISE.FIELD=VALUE",
                fix="For example: --set knee-sways.reps=6",
            )
        if field not in DOSE_FIELDS:
            hint = did_you_mean(field, DOSE_FIELDS)
            raise UsageError(
                f"--set: '{field}' is not a dose field",
                fix=f"{hint}Fields: {', '.join(DOSE_FIELDS)}.",
            )
        ids = [item.exercise.id for item in self.items]
        if ex_id not in ids:
            self.collection.exercise(ex_id, where)  # unknown anywhere: that error lists all ids
            raise UsageError(
                f"--set: '{ex_id}' is not in the routine '{self.slug}'",
                fix=f"Exercises in it: {', '.join(ids)}.",
            )
        try:
            value = float(raw.strip())
            if not math.isfinite(value):
                raise ValueError(raw)
        except ValueError:
            raise UsageError(
                f"--set {target}: '{raw.strip()}' is not a number",
                fix="For example: --set knee-sways.reps=6",
            ) from None
        items = tuple(
            RoutineItem(
                item.exercise,
                _checked_dose(item.exercise, item.dose, {field: value}, lambda _f: where, UsageError),
            )
            if item.exercise.id == ex_id
            else item
            for item in self.items
        )
        return dataclasses.replace(self, items=items)


def slugify(text: str) -> str:
    """A safe file name from ``text``: lower case letters, digits and dashes only."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:60].strip("-")


# -- loading ----------------------------------------------------------------------------------


def default_content_dir() -> Path:
    """The collection to use by default: $STRETCHCAST_CONTENT, this checkout's, or the packaged one."""
    env = os.environ.get("STRETCHCAST_CONTENT")
    if env:
        return Path(env)
    here = Path(__file__).resolve().parent
    for candidate in (here.parents[1] / "content" / "si-joint", here / "content" / "si-joint"):
        if (candidate / "collection.yaml").is_file():
            return candidate
    return here.parents[1] / "content" / "si-joint"


def load_collection(root: Path | str | None = None) -> Collection:
    """Load a collection folder: ``collection.yaml``, ``exercises/*.yaml``; routines load on demand."""
    root = Path(root) if root is not None else default_content_dir()
    index_path = root / "collection.yaml"
    if not index_path.is_file():
        raise ContentError(
            "no collection.yaml here; this is not a content folder",
            where=Where(root),
            fix="Point --content at a folder like content/si-joint.",
        )
    doc = _yaml.Mapping(_yaml.read_document(index_path), index_path)
    cid = _identifier(doc, "id")
    title = doc.text("title", max_len=80)
    assert title is not None  # required
    album = doc.text("album", required=False, max_len=80) or title
    year = doc.integer("year", lo=1900, hi=2999, required=False)
    introduction = doc.texts("introduction", max_len=400)
    welcome = doc.texts("welcome")
    safety = doc.mapping("safety")
    assert safety is not None  # required=True
    safety_spoken = safety.texts("spoken")
    cautions = safety.texts("cautions", max_len=500)
    safety.finish()
    closing = doc.texts("closing")
    order_node = doc.texts("exercises", max_items=50, max_len=60)
    doc.finish()

    files = {p.stem: p for p in sorted((root / "exercises").glob("*.yaml"))}
    exercises: list[Exercise] = []
    for i, ex_id in enumerate(order_node):
        if ex_id not in files:
            raise ContentError(
                f"lists exercise '{ex_id}' but there is no exercises/{ex_id}.yaml",
                where=Where(index_path, field=f"exercises[{i}]"),
                fix=f"Add the file, or remove '{ex_id}' from the list.",
            )
        if ex_id in [e.id for e in exercises]:
            raise ContentError(
                f"lists exercise '{ex_id}' twice", where=Where(index_path, field=f"exercises[{i}]")
            )
        exercises.append(load_exercise(files[ex_id]))
    unlisted = sorted(set(files) - set(order_node))
    if unlisted:
        raise ContentError(
            f"exercises/{unlisted[0]}.yaml is not listed",
            where=Where(index_path, field="exercises"),
            fix=f"Add '{unlisted[0]}' to the exercises list so it has a place in the order.",
        )
    assert title is not None
    return Collection(
        id=cid,
        title=title,
        album=album,
        introduction=introduction,
        welcome=welcome,
        safety_spoken=safety_spoken,
        cautions=cautions,
        closing=closing,
        exercises=tuple(exercises),
        root=root,
        year=year,
    )


def _identifier(doc: _yaml.Mapping, key: str) -> str:
    value = doc.text(key, max_len=60)
    assert value is not None
    if not _ID.match(value):
        raise doc.error(
            f"'{value}' is not a valid id",
            key=key,
            fix="Use lower-case letters, digits and single dashes, like 'knee-sways'.",
        )
    return value


def _template(m: _yaml.Mapping, key: str, *, required: bool) -> str | None:
    value = m.text(key, required=required, max_len=160)
    if value is None:
        return None
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(value) if name is not None}
    except ValueError as err:
        raise m.error(
            f"template is malformed ({err})", key=key, fix="Use {count}, {side} and so on."
        ) from None
    unknown = sorted(names - CUE_FIELDS[key])
    if unknown:
        raise m.error(
            f"unknown placeholder {{{unknown[0]}}}",
            key=key,
            fix=f"Allowed here: {', '.join('{' + n + '}' for n in sorted(CUE_FIELDS[key]))}.",
        )
    return value


def load_exercise(path: Path) -> Exercise:
    """Load and validate one exercise file."""
    doc = _yaml.Mapping(_yaml.read_document(path), path)
    ex_id = _identifier(doc, "id")
    if ex_id != path.stem:
        raise doc.error(
            f"id '{ex_id}' does not match the file name '{path.name}'",
            key="id",
            fix=f"Rename the file to {ex_id}.yaml or change the id to '{path.stem}'.",
        )
    name = doc.text("name", max_len=60)
    summary = doc.text("summary", max_len=300)
    position = doc.text("position", max_len=120)
    sides = doc.texts("sides", required=False, max_items=2, max_len=10)
    _check_names(doc, "sides", sides, SIDE_NAMES)
    alternate = doc.boolean("alternate", default=False)
    side_word = doc.text("side_word", required=False, max_len=10) or "side"
    directions = doc.texts("directions", required=False, max_items=2, max_len=20)
    _check_names(doc, "directions", directions, DIRECTION_NAMES)
    if alternate and not sides:
        raise doc.error("'alternate: true' needs 'sides'", key="alternate", fix="Add sides: [right, left].")
    if alternate and directions:
        raise doc.error(
            "an exercise cannot both alternate sides and change direction",
            key="alternate",
            fix="Use alternate: false; each side then does every direction in turn.",
        )
    setup = doc.texts("setup", max_len=160)
    steps = doc.texts("steps", max_len=160)

    cm = doc.mapping("cues")
    assert cm is not None
    cues = Cues(
        rep=_template(cm, "rep", required=True) or "",
        dose=_template(cm, "dose", required=True) or "",
        release=_template(cm, "release", required=False),
        side_start=_template(cm, "side_start", required=False),
        side_end=_template(cm, "side_end", required=False),
        direction_start=_template(cm, "direction_start", required=False),
    )
    cm.finish(list(CUE_FIELDS))
    if directions and not cues.direction_start:
        raise cm.error(
            "an exercise with directions needs a 'direction_start' cue",
            fix="For example: direction_start: Circle {direction}.",
        )

    dm = doc.mapping("dose")
    assert dm is not None
    ranges = DoseRanges(**{f: _range(dm, f) for f in ("reps", "hold", "pace", "rest", "sets")})
    dm.finish(list(DOSE_FIELDS))
    if ranges.hold.max > 0 and not cues.release:
        raise cm.error("an exercise with holds needs a 'release' cue", fix="For example: release: Release.")

    cautions = doc.texts("cautions", required=False, max_len=300)
    spoken_caution = doc.text("spoken_caution", required=False, max_len=200)
    doc.finish()
    assert name and summary and position
    return Exercise(
        id=ex_id,
        name=name,
        summary=summary,
        position=position,
        sides=sides,
        alternate=alternate,
        side_word=side_word,
        directions=directions,
        setup=setup,
        steps=steps,
        cues=cues,
        ranges=ranges,
        cautions=cautions,
        spoken_caution=spoken_caution,
        path=path,
    )


def _check_names(doc: _yaml.Mapping, key: str, values: Sequence[str], allowed: Sequence[str]) -> None:
    for value in values:
        if value not in allowed:
            raise doc.error(f"'{value}' is not one of {', '.join(allowed)}", key=key)
    if len(set(values)) != len(values):
        raise doc.error(f"'{key}' repeats a value", key=key)


def _range(dm: _yaml.Mapping, field: str) -> Range:
    lo, hi = _LIMITS[field]
    m = dm.mapping(field)
    assert m is not None
    whole = field != "pace"
    values: dict[str, float] = {}
    for key in ("min", "max", "default"):
        if whole:
            values[key] = float(m.integer(key, lo=int(lo), hi=int(hi)) or 0)
        else:
            values[key] = m.number(key, lo=lo, hi=hi) or 0.0
    m.finish(["min", "max", "default"])
    if not values["min"] <= values["default"] <= values["max"]:
        raise m.error(
            f"default {values['default']:g} is not between min {values['min']:g} and max {values['max']:g}",
            fix="Make min <= default <= max.",
        )
    return Range(default=values["default"], min=values["min"], max=values["max"])


def _checked_dose(
    exercise: Exercise,
    base: Dose,
    changes: Mapping[str, float],
    where_of: Callable[[str], Where],
    error_type: type[ContentError] | type[UsageError],
) -> Dose:
    """``base`` with ``changes`` applied, each checked against the exercise's allowed range."""
    values: dict[str, float] = dataclasses.asdict(base)
    for field, value in changes.items():
        rng = exercise.ranges.of(field)
        where = where_of(field)
        if field != "pace" and not _is_whole(value):
            raise error_type(
                f"{exercise.id} {field} must be a whole number, not {value:g}",
                where=where,
                fix=f"Use a whole number from {rng.min:g} to {rng.max:g}.",
            )
        if not rng.contains(value):
            unit = _UNITS[field]
            raise error_type(
                f"{exercise.id} {field} {value:g}{unit} is outside its allowed range, "
                f"{rng.describe(unit)} ({_MEANING[field]})",
                where=where,
                fix=(
                    f"Use {rng.min:g}{unit}; the source allows no other value."
                    if rng.min == rng.max
                    else f"Use a value from {rng.min:g} to {rng.max:g}."
                ),
            )
        values[field] = value
    return Dose(
        reps=int(values["reps"]),
        hold=int(values["hold"]),
        pace=float(values["pace"]),
        rest=int(values["rest"]),
        sets=int(values["sets"]),
    )


def find_routine(collection: Collection, ref: str) -> Path:
    """The file for ``ref``: a preset name (``standard``) or a path to a routine file."""
    path = Path(ref)
    looks_like_path = path.suffix in {".yaml", ".yml"} or os.sep in ref or "/" in ref
    if looks_like_path or path.is_file():
        if path.is_dir():
            raise UsageError(f"'{ref}' is a folder, not a routine file", fix="Give the path to a .yaml file.")
        if not path.is_file():
            raise UsageError(
                f"routine file '{ref}' not found",
                fix="Check the path, or give a preset name: " + ", ".join(collection.presets()) + ".",
            )
        return path
    presets = collection.presets()
    if ref in presets:
        return collection.routines_dir / f"{ref}.yaml"
    hint = did_you_mean(ref, presets)
    raise UsageError(
        f"there is no routine called '{ref}'",
        fix=f"{hint}Presets: {', '.join(presets)}; or give the path to a routine .yaml file.",
    )


def load_routine(collection: Collection, ref: str | Path) -> Routine:
    """Load a preset by name or a routine file by path, checked against the collection's exercises."""
    path = ref if isinstance(ref, Path) else find_routine(collection, ref)
    doc = _yaml.Mapping(
        _yaml.read_document(path),
        path,
        fix="A routine file has 'title:' and 'exercises:' lines; see content/si-joint/routines/.",
    )
    title = doc.text("title", max_len=80)
    description = doc.text("description", required=False, max_len=400)
    rounds = doc.integer("rounds", lo=1, hi=10, required=False) or 1
    voice = doc.text("voice", required=False, max_len=20)
    if voice is not None and not re.fullmatch(r"[a-z]+", voice):
        raise doc.error(f"'{voice}' is not a voice name", key="voice", fix="For example: voice: piper")
    guidance = Guidance()
    gm = doc.mapping("guidance", required=False)
    if gm is not None:
        lo, hi = PACE_FACTOR_RANGE
        guidance = Guidance(
            pace=gm.number("pace", lo=lo, hi=hi, required=False) or 1.0,
            chimes=gm.boolean("chimes", default=True),
            countdown=gm.boolean("countdown", default=True),
        )
        gm.finish(["pace", "chimes", "countdown"])
    items: list[RoutineItem] = []
    seen: dict[str, int] = {}
    items_fix = "Write each exercise as '- id: knee-sways', with any changes indented below it."
    for i, m in enumerate(doc.mappings("exercises", max_items=20, item_fix=items_fix)):
        ex_id = m.text("id", max_len=60)
        assert ex_id is not None
        exercise = collection.exercise(ex_id, m.where("id"))
        if ex_id in seen:
            raise m.error(
                f"'{ex_id}' is already exercise {seen[ex_id] + 1} of this routine",
                key="id",
                fix="List each exercise once; use 'sets: 2' to repeat it, or 'rounds' to repeat the routine.",
            )
        seen[ex_id] = i
        changes: dict[str, float] = {}
        for field in DOSE_FIELDS:
            if m.has(field):
                rng = exercise.ranges.of(field)
                value = m.numeric(
                    field,
                    fix=f"Use {rng.min:g}; the source allows no other value."
                    if rng.min == rng.max
                    else f"Use a number from {rng.min:g} to {rng.max:g}.",
                )
                assert value is not None
                changes[field] = value
        m.finish(["id", *DOSE_FIELDS])
        dose = _checked_dose(exercise, exercise.default_dose, changes, m.where, ContentError)
        items.append(RoutineItem(exercise, dose))
    doc.finish()
    slug = slugify(path.stem)
    if not slug:
        raise ContentError(
            f"cannot make an output name from the file name '{path.name}'",
            where=Where(path),
            fix="Rename the file using letters and digits, like my-routine.yaml.",
        )
    assert title is not None
    return Routine(
        slug=slug,
        title=title,
        description=description,
        items=tuple(items),
        rounds=rounds,
        guidance=guidance,
        voice=voice,
        collection=collection,
        path=path,
    )


_ROUTINE_HEADER = (
    "# A stretchcast routine.\n"
    "# Build it with:  stretchcast build {name}\n"
    "# Each dose must stay within the exercise's range ('stretchcast list' shows them).\n"
)


def _plain_number(value: float) -> int | float:
    """3.0 as 3 and 2.5 as 2.5: what a person would write in a routine file."""
    return int(value) if float(value).is_integer() else value


def routine_yaml(routine: Routine, file_name: str = "FILE") -> str:
    """``routine`` as a routine file, every dose and setting written out.

    Writing the defaults too means a saved routine builds the same even if the content's
    defaults change later: what a clinician gave a patient stays what it was.
    """
    data: dict[str, object] = {"title": routine.title}
    if routine.description:
        data["description"] = routine.description
    if routine.rounds != 1:
        data["rounds"] = routine.rounds
    if routine.voice:
        data["voice"] = routine.voice
    g = routine.guidance
    data["guidance"] = {"pace": _plain_number(g.pace), "chimes": g.chimes, "countdown": g.countdown}
    data["exercises"] = [
        {"id": item.exercise.id, **{f: _plain_number(getattr(item.dose, f)) for f in DOSE_FIELDS}}
        for item in routine.items
    ]
    body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100)
    return _ROUTINE_HEADER.format(name=file_name) + body


def save_routine(routine: Routine, path: Path, *, overwrite: bool = False) -> Path:
    """Write ``routine`` to ``path`` whole, never replacing an existing file unless ``overwrite``."""
    path = Path(path)
    if path.suffix not in {".yaml", ".yml"}:
        raise UsageError(f"'{path}' does not end in .yaml", fix="Routine files are YAML: use a .yaml name.")
    if path.exists() and not overwrite:
        raise UsageError(
            f"'{path}' already exists; nothing was written",
            fix="Choose another name, or replace it on purpose ('--force', or 'Replace' in the builder).",
        )
    text = routine_yaml(routine, str(path))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fp:
                fp.write(text)
                fp.flush()
                os.fsync(fp.fileno())
            tmp.chmod(0o644)
            if overwrite:
                tmp.replace(path)
            else:
                # link() refuses to replace an existing name: no window in which another writer's
                # file could be clobbered between the check above and this point.
                os.link(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    except FileExistsError:
        raise UsageError(
            f"'{path}' already exists; nothing was written", fix="Choose another name."
        ) from None
    except OSError as err:
        raise OutputError(
            f"cannot write ({err.strerror})", where=Where(path), fix="Choose another folder."
        ) from err
    return path
