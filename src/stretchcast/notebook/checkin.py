"""The notebook's check-in: the phone's questions as widgets, saved through the same checks into the log."""

from __future__ import annotations

import datetime as dt
import html
import uuid

import ipywidgets as widgets

from stretchcast.errors import StretchcastError
from stretchcast.log.model import WARNINGS, Session, format_at, session_from_fields
from stretchcast.log.plots import WARN
from stretchcast.log.progress import STOP_PAIN, stop_advice
from stretchcast.log.store import Log


def checkin_session(
    *,
    routine: str,
    done: str,
    pain_before: int,
    pain_after: int,
    felt: str,
    warnings: tuple[str, ...] = (),
    note: str = "",
    routine_hash: str | None = None,
    programme: str | None = None,
    week: int | None = None,
    at: dt.datetime | None = None,
) -> Session:
    """A session from the notebook form's values, through the same checks as every other way in."""
    when = at or dt.datetime.now().astimezone()
    return session_from_fields(
        {
            "id": str(uuid.uuid4()),
            "at": format_at(when.replace(microsecond=0)),
            "routine": routine,
            "routine_hash": routine_hash,
            "programme": programme,
            "week": None if week is None else str(week),
            "done": done,
            "pain_before": str(pain_before),
            "pain_after": str(pain_after),
            "felt": felt,
            "warnings": " ".join(warnings),
            "note": note,
        }
    )


class CheckinForm(widgets.VBox):  # type: ignore[misc]  # ipywidgets ships no type hints
    """A small check-in for the notebook: the same questions as the phone's, saved into ``log``."""

    def __init__(self, log: Log, routines: list[str], *, cautions: tuple[str, ...] = ()) -> None:
        self.session_log = log
        self.cautions = cautions
        self.routine = widgets.Dropdown(options=routines, value=routines[0], description="Routine")
        self.done = widgets.ToggleButtons(options=[("All of it", "full"), ("Part of it", "partial")])
        self.pain_before = widgets.IntSlider(value=0, min=0, max=10, description="Pain before")
        self.pain_after = widgets.IntSlider(value=0, min=0, max=10, description="Pain after")
        self.felt = widgets.ToggleButtons(
            options=[("Easy", "easy"), ("About right", "right"), ("Hard", "hard")]
        )
        self.warnings = {
            key: widgets.Checkbox(description=label, indent=False) for key, label in WARNINGS.items()
        }
        self.note = widgets.Textarea(placeholder="A note, if you like", layout=widgets.Layout(width="30em"))
        self.save_button = widgets.Button(description="Save check-in", button_style="primary")
        self.status = widgets.HTML()
        self.save_button.on_click(lambda _b: self.save())
        super().__init__(
            [
                self.routine,
                self.done,
                self.pain_before,
                self.pain_after,
                self.felt,
                widgets.HTML("Did any of these come up?"),
                *self.warnings.values(),
                self.note,
                self.save_button,
                self.status,
            ]
        )

    def save(self) -> Session | None:
        """Record what the form says; the status line says what happened (and the stop advice if due)."""
        programme, _, week = str(self.routine.value).partition(" week ")
        try:
            session = checkin_session(
                routine=f"week-{int(week):02d}" if week else programme,
                programme=programme if week else None,
                week=int(week) if week else None,
                done=self.done.value,
                pain_before=self.pain_before.value,
                pain_after=self.pain_after.value,
                felt=self.felt.value,
                warnings=tuple(k for k, box in self.warnings.items() if box.value),
                note=self.note.value,
            )
            self.session_log.add(session)
        except StretchcastError as err:
            self.status.value = f"<b>Not saved:</b> {html.escape(err.message)}"
            return None
        text = f"Saved: {html.escape(session.what)}, pain {session.pain_before} to {session.pain_after}."
        if session.warnings or session.pain_after >= STOP_PAIN:
            advice = stop_advice(self.cautions, session.warnings, session.pain_after)
            stop = f'<b style="color:{WARN}">Stop the exercises and see a clinician.</b>'
            text += f"<br>{stop} {html.escape(advice)}"
        self.status.value = text
        return session
