"""Progress as figures (matplotlib's object API, no pyplot): sessions per week, pain before and after.

The numbers come from :mod:`stretchcast.log.progress`; this module only draws them, for the
notebook (``notebooks/05-progress.ipynb``, through ``notebook.progress``) and
``stretchcast progress --plot``. matplotlib comes with the ``notebook`` extra.
"""

from __future__ import annotations

import io
from pathlib import Path

from matplotlib.figure import Figure
from matplotlib.ticker import MultipleLocator

from stretchcast.log.progress import STOP_PAIN, Report
from stretchcast.output.files import OutputSet

BEFORE = "#5b6470"
AFTER = "#1f6f5c"
WARN = "#b3261e"
_HEADLINE = {
    "stop": "stop, and see a clinician",
    "step-back": "step back",
    "move": "move on",
    "stay": "stay on this week",
}


def plot_progress(report: Report, *, width: float = 10.0) -> Figure:
    """Two panels: sessions per week against the target, and pain before and after each session."""
    fig = Figure(figsize=(width, 6.4), layout="constrained")
    weeks_ax, pain_ax = fig.subplots(2, 1)
    title = f"{report.title} ({report.programme})" if report.programme else "All sessions"
    fig.suptitle(f"{title}: {_HEADLINE[report.suggestion.action]}", fontsize=12)

    labels = [w.label for w in report.weeks]
    counts = [w.sessions for w in report.weeks]
    positions = list(range(len(labels)))
    weeks_ax.bar(positions, counts, color=AFTER, width=0.6, label="sessions")
    weeks_ax.axhline(
        report.target, color=BEFORE, linestyle="--", linewidth=1.2, label=f"target ({report.target})"
    )
    weeks_ax.set_xticks(positions, labels, fontsize=9)
    weeks_ax.set_ylabel("sessions")
    weeks_ax.set_ylim(0, max([report.target, *counts]) + 1)
    weeks_ax.yaxis.set_major_locator(MultipleLocator(1))
    weeks_ax.set_title("Sessions per week", loc="left", fontsize=11)
    weeks_ax.legend(loc="upper left", fontsize=9, frameon=False)
    if not labels:
        weeks_ax.text(0.5, 0.5, "No sessions yet", transform=weeks_ax.transAxes, ha="center", va="center")

    sessions = report.sessions
    x = list(range(1, len(sessions) + 1))
    pain_ax.plot(x, [s.pain_before for s in sessions], marker="o", color=BEFORE, label="before")
    pain_ax.plot(x, [s.pain_after for s in sessions], marker="s", color=AFTER, label="after")
    pain_ax.axhspan(
        STOP_PAIN, 10.5, color=WARN, alpha=0.08, label=f"after at {STOP_PAIN}+: stop, see a clinician"
    )
    flagged = [(i, s.pain_after) for i, s in zip(x, sessions, strict=True) if s.warnings]
    if flagged:
        pain_ax.scatter(
            [i for i, _ in flagged],
            [p for _, p in flagged],
            s=140,
            facecolors="none",
            edgecolors=WARN,
            linewidths=2,
            zorder=3,
            label="warning sign",
        )
    pain_ax.set_ylim(-0.5, 10.5)
    pain_ax.yaxis.set_major_locator(MultipleLocator(2))
    pain_ax.set_ylabel("pain (0-10)")
    pain_ax.set_xlabel("session")
    if sessions:
        step = max(1, len(sessions) // 8)
        pain_ax.set_xticks(x[::step], [f"{s.at:%d %b}" for s in sessions][::step], fontsize=9)
    pain_ax.set_title("Pain before and after each session", loc="left", fontsize=11)
    pain_ax.legend(loc="upper left", fontsize=9, frameon=False, ncols=2)
    return fig


def save_figure(report: Report, path: Path, *, dpi: int = 110) -> Path:
    """Draw the report into a PNG at ``path``, whole or not at all."""
    buffer = io.BytesIO()
    plot_progress(report).savefig(buffer, format="png", dpi=dpi)
    with OutputSet() as files:
        files.add(path, buffer.getvalue())
        files.commit()
    return path
