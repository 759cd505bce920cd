"""Progress in the notebook (``notebooks/05-progress.ipynb``): the plots and the suggestion as a card.

The numbers come from :mod:`stretchcast.log.progress` and the figures from :mod:`stretchcast.log.plots`.
"""

from __future__ import annotations

import html

from stretchcast.log.plots import AFTER, WARN
from stretchcast.log.progress import Report


def suggestion_html(report: Report) -> str:
    """The suggestion as a notebook card: the advice, why, and its source (all text escaped)."""
    e = html.escape
    g = report.suggestion
    colour = WARN if g.action == "stop" else AFTER
    heading = "Stop, and see a clinician" if g.action == "stop" else f"Next: {g.action.replace('-', ' ')}"
    return (
        f'<div style="border-left:5px solid {colour};padding:0.4em 0.9em;margin:0.5em 0">'
        f"<p><strong>{e(heading)}</strong> (looking at {e(report.reviewed)})</p>"
        f"<p>{e(g.advice)}</p><p><em>Why:</em> {e(g.reason)}</p>"
        f'<p style="font-size:0.9em"><em>Source:</em> {e(g.source)}</p></div>'
    )
