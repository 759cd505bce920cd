"""Write routine files: the YAML a person would write, saved without ever replacing a file."""

from __future__ import annotations

from pathlib import Path

import yaml

from stretchcast.atomic import write_atomic
from stretchcast.content.model import Routine
from stretchcast.content.schema import DESCRIPTION, DOSE_FIELDS, GUIDANCE_FIELDS, PACE_FACTOR, TITLE, VOICE
from stretchcast.errors import OutputError, UsageError, Where, shown

_ROUTINE_HEADER = (
    "# A stretchcast routine.\n"
    "# Build it with:  stretchcast build {name}\n"
    "# Each dose must stay within the exercise's range ('stretchcast list' shows them).\n"
)


def _plain_number(value: float) -> int | float:
    """3.0 as 3 and 2.5 as 2.5: what a person would write in a routine file."""
    return int(value) if float(value).is_integer() else value


def _plain(value: object) -> object:
    """A setting as a person would write it: true/false as such, numbers without a needless '.0'."""
    return value if isinstance(value, bool) or not isinstance(value, int | float) else _plain_number(value)


def check_routine(routine: Routine, path: Path | None = None) -> None:
    """Refuse to write a routine that would not load back: every text field and setting checked.

    The same rules as reading (``content.schema``), applied where the file is written, so a mistake
    (a title with control characters, 500 characters long, empty) shows here and not at build time.
    Errors name the field; the command line shows them as the flag that set it.
    """
    for spec, value in ((TITLE, routine.title), (DESCRIPTION, routine.description), (VOICE, routine.voice)):
        if value is not None or spec is TITLE:
            spec.check(value or "", Where(path, field=spec.name))
    PACE_FACTOR.check(routine.guidance.pace, Where(path, field=f"guidance.{PACE_FACTOR.name}"))


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
    data["guidance"] = {f: _plain(getattr(routine.guidance, f)) for f in GUIDANCE_FIELDS}
    data["exercises"] = [
        {"id": item.exercise.id, **{f: _plain_number(getattr(item.dose, f)) for f in DOSE_FIELDS}}
        for item in routine.items
    ]
    body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100)
    return _ROUTINE_HEADER.format(name=file_name) + body


def save_routine(routine: Routine, path: Path, *, overwrite: bool = False) -> Path:
    """Write ``routine`` to ``path`` whole, never replacing an existing file unless ``overwrite``."""
    path = Path(path)
    if not path.name:
        raise UsageError("the routine file's name is empty", fix="Give a name, like my-routine.yaml.")
    if path.suffix not in {".yaml", ".yml"}:
        raise UsageError(
            f"'{shown(str(path))}' does not end in .yaml", fix="Routine files are YAML: use a .yaml name."
        )
    check_routine(routine, path)
    if path.exists() and not overwrite:
        raise UsageError(
            f"'{shown(str(path))}' already exists; nothing was written",
            fix="Choose another name, or replace it on purpose ('--force', or 'Replace' in the builder).",
        )
    text = routine_yaml(routine, str(path))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Without overwrite the file is linked into place, which refuses an existing name: no
        # window in which another writer's file could be clobbered between the check above and now.
        write_atomic(path, text.encode("utf-8"), replace=overwrite, sync=True, mode=0o644)
    except FileExistsError:
        raise UsageError(
            f"'{shown(str(path))}' already exists; nothing was written", fix="Choose another name."
        ) from None
    except OSError as err:
        raise OutputError(
            f"cannot write ({err.strerror})", where=Where(path), fix="Choose another folder."
        ) from err
    return path
