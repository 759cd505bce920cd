"""HTML for people reading a notebook: exercise cards, the introduction, and tables of routines,
chapters and tracks.

Every function returns a string of HTML with all content and user text escaped, styled inline so that
it looks the same in JupyterLab, in the classic notebook and in a notebook exported with nbconvert.
Colours come from JupyterLab's theme variables where they exist (so the cards follow a dark theme),
with light fallbacks everywhere else.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path

from stretchcast.content import Collection, Dose, Exercise, Range, Routine, words
from stretchcast.notebook.figures import figure_html
from stretchcast.notebook.model import default_voice
from stretchcast.sound.say import say
from stretchcast.timeline import Timeline
from stretchcast.voices import Choice, choose_voice
from stretchcast.voices.cache import CueCache

_TEXT = "var(--jp-content-font-color1, #1f1f1f)"
_MUTED = "var(--jp-content-font-color2, #5a5a5a)"
_CARD_BG = "var(--jp-layout-color1, #ffffff)"
_BORDER = "var(--jp-border-color2, #d6d6d6)"
_ACCENT = "#2a6fb0"
_CAUTION_BG = "var(--jp-warn-color3, #fff4d6)"
_CAUTION_EDGE = "#c08a00"

_CARD = (
    f"border:1px solid {_BORDER};border-left:6px solid {_ACCENT};border-radius:8px;"
    f"padding:14px 18px;margin:12px 0;max-width:760px;background:{_CARD_BG};color:{_TEXT};"
    "font-size:14px;line-height:1.45"
)
_TABLE = "border-collapse:collapse;margin:6px 0;font-size:13.5px"
_TH = f"text-align:left;padding:4px 12px 4px 0;border-bottom:1px solid {_BORDER};color:{_MUTED}"
# JupyterLab right-aligns table cells and centres them vertically: say what a table of text needs
_TD = f"text-align:left;padding:4px 12px 4px 0;border-bottom:1px solid {_BORDER};vertical-align:top"
_H = "margin:10px 0 4px 0;font-size:14px;font-weight:600"


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _list(items: Iterable[str], tag: str = "ul") -> str:
    inner = "".join(f"<li>{_e(item)}</li>" for item in items)
    return f'<{tag} style="margin:2px 0 6px 0;padding-left:22px">{inner}</{tag}>'


def table(head: Sequence[str], rows: Iterable[Sequence[str]], *, raw: bool = False) -> str:
    """A plain table; cells are escaped unless ``raw`` (for cells already made of escaped parts)."""
    th = "".join(f'<th style="{_TH}">{_e(h)}</th>' for h in head)
    body = "".join(
        "<tr>" + "".join(f'<td style="{_TD}">{c if raw else _e(c)}</td>' for c in row) + "</tr>"
        for row in rows
    )
    return f'<table style="{_TABLE}"><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>'


def _amount(value: float, unit: str) -> str:
    return f"{value:g} {unit}".strip()


@dataclass(frozen=True)
class DoseLine:
    """One row of an exercise's dose table: what it is, the value used, and what the source allows."""

    label: str
    value: str
    allowed: str
    fixed: bool


def dose_lines(exercise: Exercise, dose: Dose | None = None) -> tuple[DoseLine, ...]:
    """The dose of ``exercise`` (its default unless ``dose`` is given) and each field's allowed range."""
    d = dose or exercise.default_dose
    r = exercise.ranges

    def line(label: str, value: float, rng: Range, unit: str) -> DoseLine:
        fixed = rng.min == rng.max
        allowed = "fixed by the source" if fixed else f"{_amount(rng.min, '')} to {_amount(rng.max, unit)}"
        return DoseLine(label, _amount(value, unit), allowed, fixed)

    lines = [line("Repetitions", d.reps, r.reps, exercise.reps_unit)]
    if r.hold.max > 0:
        lines.append(line("Hold", d.hold, r.hold, "s"))
    lines += [
        line("Time for each movement", d.pace, r.pace, "s"),
        line("Rest afterwards", d.rest, r.rest, "s"),
        line("Sets", d.sets, r.sets, ""),
    ]
    return tuple(lines)


#: Turns an instruction into MP3 bytes of it spoken (``speaker`` makes one); the cards' play buttons.
Speaker = Callable[[str], bytes]
_PLAY = "height:26px;width:170px;vertical-align:middle;margin-left:8px"


def speaker(collection: Collection, voice: str | None = None, *, offline: bool = False) -> Speaker:
    """Speak instructions as a track would (``sound.say``: the collection's pronunciations, cue levels).

    ``voice`` is an engine name, else ``$STRETCHCAST_VOICE``, else "auto"; it is chosen on the
    first line spoken, and every line goes through the user's cue cache.
    """
    chosen: list[Choice] = []
    cache = CueCache.default()

    def speak(text: str) -> bytes:
        if not chosen:
            chosen.append(choose_voice(voice or default_voice(), offline=offline))
        said = say(text, chosen[0].voice, pronunciations=collection.pronunciations, cache=cache)
        return said.encode("mp3")

    return speak


def _play(text: str, speak: Speaker | None) -> str:
    """A small player for ``text`` spoken, or nothing without a speaker."""
    if speak is None:
        return ""
    data = base64.b64encode(speak(text)).decode("ascii")
    return (
        f'<audio controls preload="none" style="{_PLAY}" title="{_e("Play: " + text)}" '
        f'src="data:audio/mpeg;base64,{data}"></audio>'
    )


def _spoken_list(items: Iterable[str], tag: str, speak: Speaker | None) -> str:
    inner = "".join(f"<li>{_e(item)}{_play(item, speak)}</li>" for item in items)
    return f'<{tag} style="margin:2px 0 6px 0;padding-left:22px">{inner}</{tag}>'


def exercise_card(
    exercise: Exercise,
    dose: Dose | None = None,
    *,
    number: int | None = None,
    speak: Speaker | None = None,
) -> str:
    """A card for one exercise: name, what it is for, position, setup and steps, dose and range, cautions.

    With ``speak`` (see :func:`speaker`), each instruction of the setup and steps gets a small
    player with it spoken.
    """
    heading = f"{number}. {exercise.name}" if number is not None else exercise.name
    rows = [
        (
            _e(line.label),
            f"<b>{_e(line.value)}</b>",
            f"<i>{_e(line.allowed)}</i>" if line.fixed else _e(line.allowed),
        )
        for line in dose_lines(exercise, dose)
    ]
    if exercise.ranges.hold.max == 0:
        rows.insert(1, (_e("Hold"), "<b>none</b>", "<i>continuous movement</i>"))
    parts = [
        f'<div class="stretchcast-card" style="{_CARD}">',
        f'<h3 style="margin:0 0 2px 0;font-size:18px">{_e(heading)}</h3>',
        f'<div style="color:{_MUTED};margin-bottom:8px">{_e(exercise.summary)}</div>',
        f"<div><b>Position:</b> {_e(exercise.position)}</div>",
        figure_html(exercise),
        f'<h4 style="{_H}">Getting ready</h4>',
        _spoken_list(exercise.setup, "ul", speak),
        f'<h4 style="{_H}">Steps</h4>',
        _spoken_list(exercise.steps, "ol", speak),
        f'<h4 style="{_H}">Dose</h4>',
        table(("", "standard" if dose is None else "this routine", "allowed"), rows, raw=True),
    ]
    if exercise.cautions:
        parts += [
            f'<div style="background:{_CAUTION_BG};border-left:4px solid {_CAUTION_EDGE};'
            f'padding:6px 12px;margin-top:10px;border-radius:4px">',
            "<b>Take care</b>",
            _list(exercise.cautions),
            "</div>",
        ]
    parts.append("</div>")
    return "".join(parts)


def introduction(collection: Collection) -> str:
    """The collection's introduction (what the SI joint is, why these movements help) and its cautions."""
    paragraphs = "".join(f'<p style="margin:0 0 8px 0">{_e(p)}</p>' for p in collection.introduction)
    return (
        f'<div style="{_CARD};border-left-color:{_ACCENT}">'
        f'<h3 style="margin:0 0 8px 0;font-size:18px">{_e(collection.title)}</h3>{paragraphs}'
        f'<div style="background:{_CAUTION_BG};border-left:4px solid {_CAUTION_EDGE};'
        f'padding:6px 12px;margin-top:10px;border-radius:4px"><b>Before you start</b>'
        f"{_list(collection.cautions)}</div></div>"
    )


@dataclass(frozen=True)
class RoutineSummary:
    """A routine at a glance: for tables of presets and of saved routines."""

    name: str
    title: str
    description: str
    exercises: tuple[str, ...]
    rounds: int
    duration_ms: int


def summarize(name: str, routine: Routine, timeline: Timeline) -> RoutineSummary:
    """``routine`` at a glance, its length taken from ``timeline``."""
    exercises = tuple(
        f"{item.exercise.name} \u00d7{item.dose.reps}"
        + (f", {item.dose.hold} s holds" if item.dose.hold else "")
        + (f", {item.dose.sets} sets" if item.dose.sets > 1 else "")
        for item in routine.items
    )
    return RoutineSummary(
        name=name,
        title=routine.title,
        description=routine.description or "",
        exercises=exercises,
        rounds=routine.rounds,
        duration_ms=timeline.duration_ms,
    )


def routines_table(summaries: Iterable[RoutineSummary]) -> str:
    """A table of routines: name, title and description, what is in each, and how long it takes."""
    rows = []
    for s in summaries:
        about = f"<b>{_e(s.title)}</b>"
        if s.description:
            about += f'<br><span style="color:{_MUTED}">{_e(s.description)}</span>'
        what = "<br>".join(_e(x) for x in s.exercises)
        if s.rounds > 1:
            what += f"<br><i>{s.rounds} rounds</i>"
        rows.append((f"<code>{_e(s.name)}</code>", about, what, _e(words.clock(s.duration_ms))))
    return table(("routine", "about", "exercises", "length"), rows, raw=True)


def chapters_table(timeline: Timeline) -> str:
    """The track's chapters: where each starts and how long it lasts."""
    rows = [
        (words.clock(ch.start_ms), ch.title, words.clock(ch.end_ms - ch.start_ms)) for ch in timeline.chapters
    ]
    return table(("starts at", "chapter", "length"), rows)


def file_link(path: Path, label: str | None = None, *, base: Path | None = None) -> str:
    """A download link to ``path``, relative to ``base`` (the notebook's folder, by default the
    current one) so that Jupyter serves it, with the full path beside it so it can always be found.
    """
    base = base or Path.cwd()
    try:
        href = Path(os.path.relpath(path, base)).as_posix()
    except ValueError:  # another drive on Windows: no relative link is possible
        href = path.resolve().as_uri()
    name = label or path.name
    return (
        f'<a href="{_e(href)}" download="{_e(path.name)}" target="_blank">{_e(name)}</a> '
        f'<span style="color:{_MUTED};font-size:12px">{_e(path.resolve())}</span>'
    )


def size_text(n_bytes: int) -> str:
    """A file size for people: "812 kB", "3.4 MB"."""
    if n_bytes < 1_000_000:
        return f"{max(1, round(n_bytes / 1000))} kB"
    return f"{n_bytes / 1e6:.1f} MB"


__all__ = [
    "DoseLine",
    "RoutineSummary",
    "chapters_table",
    "dose_lines",
    "exercise_card",
    "file_link",
    "introduction",
    "routines_table",
    "size_text",
    "summarize",
    "table",
]
