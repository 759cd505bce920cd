"""Read a collection folder, its exercises and routine files, checking every field on the way in."""

from __future__ import annotations

import os
import re
import string
from collections.abc import Sequence
from pathlib import Path

from stretchcast.content import strict_yaml as _yaml
from stretchcast.content.model import (
    _ID,
    CUE_FIELDS,
    DIRECTION_NAMES,
    SIDE_NAMES,
    Collection,
    Cues,
    DoseRanges,
    Exercise,
    Guidance,
    Range,
    Routine,
    RoutineItem,
    checked_dose,
    default_content_dir,
    slugify,
)
from stretchcast.content.poses import load_figure
from stretchcast.content.pronunciation import load_pronunciations
from stretchcast.content.schema import (
    DESCRIPTION,
    DOSE,
    DOSE_FIELDS,
    EXERCISE_ID,
    GUIDANCE_FIELDS,
    MAX_ROUTINE_EXERCISES,
    PACE_FACTOR,
    ROUNDS,
    TITLE,
    VOICE,
    DoseField,
)
from stretchcast.errors import ContentError, UsageError, Where, did_you_mean, shown


def load_collection(root: Path | str | None = None) -> Collection:
    """Load a collection folder: ``collection.yaml``, ``exercises/*.yaml``; routines load on demand."""
    root = Path(root) if root is not None else default_content_dir()
    index_path = root / "collection.yaml"
    if not os.path.lexists(index_path):  # anything else there is read, and refused with its reason
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
    welcome = _spoken_lines(doc, "welcome")
    safety = doc.mapping("safety")
    assert safety is not None  # required=True
    safety_spoken = safety.texts("spoken")
    cautions = safety.texts("cautions", max_len=500)
    safety.finish()
    closing = _spoken_lines(doc, "closing")
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
        pronunciations=load_pronunciations(root),
    )


#: What the welcome and closing lines may name: the title as written, the routine as words in a
#: sentence ("the standard SI joint routine"), and its length ("about seven minutes").
LINE_FIELDS = frozenset({"title", "routine", "minutes"})


def _spoken_lines(doc: _yaml.Mapping, key: str) -> tuple[str, ...]:
    lines = doc.texts(key)
    for i, line in enumerate(lines):
        try:
            names = {name for _, name, _, _ in string.Formatter().parse(line) if name is not None}
        except ValueError as err:
            raise doc.error(
                f"item {i + 1} is malformed ({err})", key=key, fix="Use {routine} and {minutes}."
            ) from None
        unknown = sorted(names - LINE_FIELDS)
        if unknown:
            raise doc.error(
                f"item {i + 1} has an unknown placeholder {{{unknown[0]}}}",
                key=key,
                fix=f"Allowed here: {', '.join('{' + n + '}' for n in sorted(LINE_FIELDS))}.",
            )
    return lines


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
    ranges = DoseRanges(**{f.name: _range(dm, f) for f in DOSE})
    dm.finish(list(DOSE_FIELDS))
    if ranges.hold.max > 0 and not cues.release:
        raise cm.error("an exercise with holds needs a 'release' cue", fix="For example: release: Release.")

    cautions = doc.texts("cautions", required=False, max_len=300)
    spoken_caution = doc.text("spoken_caution", required=False, max_len=200)
    cue_names = [c for c in CUE_FIELDS if getattr(cues, c, None)]
    figure = load_figure(doc, cues=cue_names, sides=sides, directions=directions)
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
        figure=figure,
    )


def _check_names(doc: _yaml.Mapping, key: str, values: Sequence[str], allowed: Sequence[str]) -> None:
    for value in values:
        if value not in allowed:
            raise doc.error(f"'{value}' is not one of {', '.join(allowed)}", key=key)
    if len(set(values)) != len(values):
        raise doc.error(f"'{key}' repeats a value", key=key)


def _range(dm: _yaml.Mapping, spec: DoseField) -> Range:
    lo, hi = spec.lo, spec.hi
    m = dm.mapping(spec.name)
    assert m is not None
    values: dict[str, float] = {}
    for key in ("min", "max", "default"):
        if spec.whole:
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


def _missing(path: Path) -> bool:
    """Whether nothing at all is at ``path`` (not even a broken link)."""
    try:
        path.lstat()
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return False


def find_content_file(
    ref: str, *, kind: str, folder: Path, names: Sequence[str], names_label: str, name_word: str
) -> Path:
    """The file for ``ref``: a name from ``names`` (a file in ``folder``) or a path to a ``kind`` file.

    Shared by routines and programmes, so both refuse the same way: a folder as such, a missing path
    as "not found" (a FIFO, a device or a link loop is read, and refused with its own reason), an
    unknown name with a suggestion; what was typed is always shown escaped.
    """
    path = Path(ref)
    looks_like_path = path.suffix in {".yaml", ".yml"} or os.sep in ref or "/" in ref
    if looks_like_path or (os.path.lexists(path) and not path.is_dir()):
        if path.is_dir():
            raise UsageError(
                f"'{shown(ref)}' is a folder, not a {kind} file", fix="Give the path to a .yaml file."
            )
        if _missing(path):
            raise UsageError(
                f"{kind} file '{shown(ref)}' not found",
                fix=f"Check the path, or give {name_word}: {', '.join(names) or 'none yet'}.",
            )
        return path
    if ref in names:
        return folder / f"{ref}.yaml"
    hint = did_you_mean(ref, names)
    listed = ", ".join(names) or "none yet"
    raise UsageError(
        f"there is no {kind} called '{shown(ref)}'",
        fix=f"{hint}{names_label}: {listed}; or give the path to a {kind} .yaml file.",
    )


def find_routine(collection: Collection, ref: str) -> Path:
    """The file for ``ref``: a preset name (``standard``) or a path to a routine file."""
    return find_content_file(
        ref,
        kind="routine",
        folder=collection.routines_dir,
        names=collection.presets(),
        names_label="Presets",
        name_word="a preset name",
    )


def load_routine(collection: Collection, ref: str | Path) -> Routine:
    """Load a preset by name or a routine file by path, checked against the collection's exercises."""
    path = ref if isinstance(ref, Path) else find_routine(collection, ref)
    doc = _yaml.Mapping(
        _yaml.read_document(path),
        path,
        fix="A routine file has 'title:' and 'exercises:' lines; see content/si-joint/routines/.",
    )
    return routine_from_mapping(collection, doc, path)


def routine_from_mapping(collection: Collection, doc: _yaml.Mapping, path: Path) -> Routine:
    """A routine from a mapping in the routine-file form (a routine file, or a programme's week).

    Keys the caller read beforehand (a week's ``week:``) count as known; any other key is an error.
    """
    title = doc.text(TITLE.name, max_len=TITLE.max_len)
    description = doc.text(DESCRIPTION.name, required=False, max_len=DESCRIPTION.max_len)
    rounds = doc.integer(ROUNDS.name, lo=int(ROUNDS.lo), hi=int(ROUNDS.hi), required=False) or 1
    voice = doc.text(VOICE.name, required=False, max_len=VOICE.max_len)
    if voice is not None and not re.fullmatch(r"[a-z]+", voice):
        raise doc.error(f"'{voice}' is not a voice name", key="voice", fix="For example: voice: piper")
    guidance = Guidance()
    gm = doc.mapping("guidance", required=False)
    if gm is not None:
        guidance = Guidance(
            pace=gm.number(PACE_FACTOR.name, lo=PACE_FACTOR.lo, hi=PACE_FACTOR.hi, required=False) or 1.0,
            chimes=gm.boolean("chimes", default=True),
            countdown=gm.boolean("countdown", default=True),
        )
        gm.finish(list(GUIDANCE_FIELDS))
    items: list[RoutineItem] = []
    seen: dict[str, int] = {}
    items_fix = "Write each exercise as '- id: knee-sways', with any changes indented below it."
    exercises = doc.mappings("exercises", max_items=MAX_ROUTINE_EXERCISES, item_fix=items_fix)
    for i, m in enumerate(exercises):
        ex_id = m.text("id", max_len=EXERCISE_ID.max_len)
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
        dose = checked_dose(exercise, exercise.default_dose, changes, m.where, ContentError)
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
