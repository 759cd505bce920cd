"""The check-in on the phone page: a bottom sheet after each track (and from a button), sent to the log.

Large tap targets in thumb reach: done in full or in part, pain before and after as 0-10 tiles, how
it felt, the warning signs, a note. ``app.js`` sends it to ``POST /api/sessions`` with the key the
page link carried, and keeps it on the phone until the computer answers. The advice shown when a
warning sign or pain of 5/10 or more is reported is the content's own caution.
"""

from __future__ import annotations

import functools
import html
import logging

from stretchcast.content.model import slugify
from stretchcast.log.model import MAX_NOTE, WARNINGS
from stretchcast.log.progress import STOP_PAIN, stop_advice
from stretchcast.serve.library import ServedRoutine

log = logging.getLogger(__name__)

_FELT = (("easy", "Easy"), ("right", "About right"), ("hard", "Hard"))
_DONE = (("full", "All of it"), ("partial", "Part of it"))
_WARNING_LABELS = {
    "spreading-pain": "Pain spreading into my buttock or down a leg",
    "numbness": "Numbness",
    "weakness": "New weakness in a leg",
}
assert set(_WARNING_LABELS) == set(WARNINGS)


@functools.cache
def _cautions() -> tuple[str, ...]:
    """The shipped collection's cautions (their words are the page's stop advice)."""
    try:
        from stretchcast.content import load_collection

        return load_collection().cautions
    except Exception as err:  # the page must render even if the content cannot load
        log.warning("cannot read the cautions for the check-in: %s", err)
        return ()


def card_attributes(routine: ServedRoutine) -> str:
    """The data a check-in records about a card's routine, as HTML attributes (escaped)."""
    e = html.escape
    if routine.season is not None and routine.episode is not None:
        folder, _, file = routine.audio.partition("/")
        attrs = {
            "data-slug": slugify(file.removesuffix(".mp3")) or "week",
            "data-programme": slugify(folder),
            "data-week": str(routine.episode),
        }
    else:
        attrs = {"data-slug": slugify(routine.stem) or "routine"}
    if routine.routine_hash:
        attrs["data-hash"] = routine.routine_hash
    return "".join(f' {k}="{e(v)}"' for k, v in attrs.items())


def _tiles(name: str, legend: str, hint: str) -> str:
    tiles = "".join(
        f'<label class="tile"><input type="radio" name="{name}" value="{n}" required><span>{n}</span></label>'
        for n in range(11)
    )
    return (
        f'<fieldset class="scale"><legend>{legend} <span class="hint">{hint}</span></legend>'
        f'<div class="tiles">{tiles}</div></fieldset>'
    )


def _choices(name: str, legend: str, options: tuple[tuple[str, str], ...]) -> str:
    items = "".join(
        f'<label class="choice"><input type="radio" name="{name}" value="{value}" required>'
        f"<span>{label}</span></label>"
        for value, label in options
    )
    return f'<fieldset class="choices"><legend>{legend}</legend><div class="row">{items}</div></fieldset>'


def checkin_html(routines: tuple[ServedRoutine, ...]) -> str:
    """The check-in button and sheet (a ``<dialog>``); empty when there is nothing to check in about."""
    if not routines:
        return ""
    e = html.escape
    options = "".join(
        f'<option value="{n}">{e(f"Week {r.episode}: {r.programme}" if r.episode else r.title)}</option>'
        for n, r in enumerate(routines)
    )
    warnings = "".join(
        f'<label class="check"><input type="checkbox" name="warnings" value="{key}">'
        f"<span>{e(label)}</span></label>"
        for key, label in _WARNING_LABELS.items()
    )
    cautions = _cautions()
    stop = e(stop_advice(cautions, list(WARNINGS), STOP_PAIN))
    return f"""
<link rel="stylesheet" href="/static/checkin.css">
<button type="button" class="checkin-open" data-checkin-open>How did it go?</button>
<dialog class="checkin" id="checkin" aria-labelledby="checkin-title">
<form class="checkin-form" novalidate>
<div class="sheet-head"><h2 id="checkin-title">How did it go?</h2>
<button type="button" class="close" data-checkin-close aria-label="Close">&times;</button></div>
<label class="routine-pick"><span>Routine</span><select name="routine">{options}</select></label>
{_choices("done", "Did you do it all?", _DONE)}
{_tiles("pain_before", "Pain before", "0 none, 10 worst")}
{_tiles("pain_after", "Pain after", "0 none, 10 worst")}
{_choices("felt", "How did it feel?", _FELT)}
<fieldset class="warnings"><legend>Did any of these come up?</legend>{warnings}</fieldset>
<p class="stop-advice" hidden role="alert"><strong>Stop the exercises and see a clinician.</strong> {stop}</p>
<label class="note"><span>Note (optional)</span>
<textarea name="note" rows="2" maxlength="{MAX_NOTE}"></textarea></label>
<p class="form-error" role="alert" hidden></p>
<button type="submit" class="save">Save check-in</button>
<p class="checkin-status" aria-live="polite"></p>
</form>
</dialog>
<script src="/static/checkin.js" defer></script>
"""
