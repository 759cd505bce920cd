"""How the notebooks run under test (nbval): offline, fast, and writing nothing into the checkout.

Before any notebook's kernel starts (kernels inherit this process's environment), the notebooks are
told to use the fake voice and to write tracks and read routine files in a temporary folder. That
folder holds one routine file of a user's and one broken one, so notebooks/03 renders a user's
routine and lists a file it cannot read, as it would for a person.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from stretchcast.notebook.model import AUDIO_DIR_ENV, ROUTINES_DIR_ENV, VOICE_ENV

_ROOT = pytest.StashKey[Path]()
_SAMPLE = """\
title: Quick sways and cobra
exercises:
  - id: knee-sways
    reps: 4
    hold: 2
  - id: tall-cobra
"""
_BROKEN = """\
title: Has a typo
exercises:
  - id: knee-sway
"""


def pytest_configure(config: pytest.Config) -> None:
    """Point the notebooks at the fake voice and at a temporary audio and routines folder."""
    root = Path(tempfile.mkdtemp(prefix="stretchcast-notebooks-"))
    routines = root / "my-routines"
    routines.mkdir()
    (routines / "quick.yaml").write_text(_SAMPLE, encoding="utf-8")
    (routines / "typo.yaml").write_text(_BROKEN, encoding="utf-8")
    config.stash[_ROOT] = root
    os.environ[VOICE_ENV] = "fake"
    os.environ[AUDIO_DIR_ENV] = str(root / "audio")
    os.environ[ROUTINES_DIR_ENV] = str(routines)
    os.environ["STRETCHCAST_CACHE"] = str(root / "cue-cache")  # never the user's own cache
    os.environ["STRETCHCAST_DATA"] = str(root / "data")  # never the user's own session log
    _seed_log(root / "data")


def _seed_log(folder: Path) -> None:
    """A fortnight of the six-week programme in the log, so notebooks/05 has something to show."""
    import datetime as dt

    from stretchcast.log import Log
    from stretchcast.log.model import Session

    start = dt.datetime(2026, 11, 2, 18, 0, tzinfo=dt.timezone.utc)
    days = [(0, 1), (1, 1), (3, 1), (5, 1), (7, 2), (9, 2), (10, 2)]
    Log(folder / "log.sqlite3").add_many(
        Session(
            id=f"notebook-seed-{n:04d}",
            at=start + dt.timedelta(days=day),
            routine=f"week-{week:02d}",
            programme="six-weeks",
            week=week,
            done="full",
            pain_before=4 - week,
            pain_after=3 - week,
            felt="right",
        )
        for n, (day, week) in enumerate(days)
    )


def pytest_unconfigure(config: pytest.Config) -> None:
    """Remove the temporary folder."""
    root = config.stash.get(_ROOT, None)
    if root is not None:
        shutil.rmtree(root, ignore_errors=True)
