"""The handout as one self-contained HTML page (figures inlined), with print styles for A4 or Letter."""

from __future__ import annotations

import base64
from html import escape

from stretchcast.handout.papers import PAPERS
from stretchcast.handout.pdf import DAYS
from stretchcast.handout.sheet import (
    RECORD_INTRO,
    STOP_LINE,
    WEEKS_ADVICE,
    ExerciseSheet,
    Sheet,
    qr_png,
)

_CSS = """
@page { size: %(page)s; margin: 15mm; }
:root { color: #222; font: 11pt/1.45 "Source Sans Pro", "Source Sans 3", system-ui, sans-serif; }
body { max-width: 48rem; margin: 1.5rem auto; padding: 0 1rem; }
h1 { color: #1f5e87; font-size: 1.9rem; margin: 0 0 .3rem; }
h2 { color: #1f5e87; font-size: 1.3rem; margin: 1.4rem 0 .4rem; break-after: avoid; }
h3 { color: #1f5e87; margin: 0 0 .2rem; }
.length { font-weight: 600; }
.cautions { background: #fdf3e7; padding: .4rem 1rem .4rem 1.8rem; border-radius: 4px;
  print-color-adjust: exact; -webkit-print-color-adjust: exact; }
.exercise { display: grid; grid-template-columns: 13rem 1fr; gap: 1rem; padding: .8rem 0;
  border-bottom: 1px solid #bbb; break-inside: avoid; }
.exercise img { width: 100%%; height: auto; }
.summary, .exercise-cautions { font-style: italic; }
table { border-collapse: collapse; width: 100%%; break-inside: avoid; }
th, td { border: 1px solid #777; padding: .3rem .5rem; text-align: left; }
.record td { height: 1.9rem; }
.box { display: inline-block; width: 1rem; height: 1rem; border: 1.5px solid #222; }
.qr { display: flex; gap: 1rem; align-items: center; }
.qr img { width: 9rem; height: 9rem; }
.stop { font-weight: 700; }
@media print { body { margin: 0; max-width: none; padding: 0; } a { color: inherit; } }
"""


def _png(data: bytes, alt: str, cls: str = "") -> str:
    src = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
    attr = f' class="{cls}"' if cls else ""
    return f'<img{attr} src="{src}" alt="{escape(alt)}">'


def _list(items: tuple[str, ...], tag: str = "ul", cls: str = "") -> str:
    attr = f' class="{cls}"' if cls else ""
    return f"<{tag}{attr}>" + "".join(f"<li>{escape(i)}</li>" for i in items) + f"</{tag}>"


def _exercise(number: int, ex: ExerciseSheet) -> str:
    figure = _png(ex.figure_png, f"{ex.name}: the key position") if ex.figure_png else "<div></div>"
    later = f"<p><strong>By the last week:</strong> {escape(ex.later)}</p>" if ex.later else ""
    return (
        f'<section class="exercise" id="{escape(ex.id)}">{figure}<div>'
        f"<h3>{number}. {escape(ex.name)}</h3>"
        f'<p class="summary">{escape(ex.summary)}</p>'
        f"<p><strong>Position:</strong> {escape(ex.position)}</p>"
        f"{_list(ex.steps, 'ol')}"
        f"<p><strong>How much:</strong> {escape(ex.dose)}</p>{later}"
        f"{_list(ex.cautions, 'ul', 'exercise-cautions')}</div></section>"
    )


def render_html(sheet: Sheet, paper: str = "a4") -> str:
    """The handout as a page that prints like the PDF: ``@page`` sized for ``paper``."""
    page = PAPERS[paper][0]
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(sheet.title)}</title>",
        f"<style>{_CSS % {'page': page}}</style></head><body>",
        f"<h1>{escape(sheet.title)}</h1>",
        f'<p class="length">{escape(sheet.length)}. {escape(sheet.sessions)}'
        + (f" Go through the exercises {sheet.rounds} times." if sheet.rounds > 1 else "")
        + "</p>",
        "<h2>What it is for</h2>",
        "".join(f"<p>{escape(line)}</p>" for line in sheet.purpose),
        "<h2>Stay safe: when to stop</h2>",
        _list(sheet.cautions, "ul", "cautions"),
    ]
    if sheet.is_programme:
        rows = "".join(
            f"<tr><td>{w.week}</td><td>{escape(w.changes)}</td><td>{escape(w.minutes)}</td>"
            f"<td>{escape(w.track)}</td></tr>"
            for w in sheet.weeks
        )
        parts += [
            "<h2>The weeks</h2>",
            f"<p>{escape(WEEKS_ADVICE)}</p>",
            "<table><thead><tr><th>Week</th><th>What changes</th><th>Length</th><th>Track</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>",
        ]
    parts.append("<h2>The exercises</h2>")
    parts += [_exercise(n, ex) for n, ex in enumerate(sheet.exercises, 1)]
    record = "".join(
        f'<tr><td>{day}</td><td><span class="box" role="img" aria-label="tick box"></span></td>'
        "<td></td><td></td><td></td></tr>"
        for day in DAYS
    )
    parts += [
        '<section class="record"><h2>Your week</h2>',
        f"<p>{escape(RECORD_INTRO)}</p>",
        "<table><thead><tr><th>Day</th><th>Done</th><th>Pain before (0-10)</th><th>Pain after (0-10)</th>"
        f"<th>Notes</th></tr></thead><tbody>{record}</tbody></table>",
        f'<p class="stop">{escape(STOP_LINE)}</p></section>',
        "<h2>Where the track is</h2>",
    ]
    if len(sheet.tracks) == 1:
        parts.append(
            f"<p>The audio track is <code>{escape(sheet.tracks[0])}</code>, beside this handout.</p>"
        )
    else:
        parts.append(
            f"<p>One track a week, beside this handout: <code>{escape(sheet.tracks[0])}</code> to "
            f"<code>{escape(sheet.tracks[-1])}</code>.</p>"
        )
    if sheet.url:
        parts.append(
            f'<div class="qr">{_png(qr_png(sheet.url), "QR code of the phone page")}<p>On your phone: scan '
            f'this code with the camera to open the phone page.<br><a href="{escape(sheet.url)}">'
            f"{escape(sheet.url)}</a></p></div>"
        )
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
