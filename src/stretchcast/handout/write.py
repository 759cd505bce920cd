"""Write a handout's PDF and HTML together: both whole, or neither (``output.files.OutputSet``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from stretchcast.errors import UsageError
from stretchcast.handout.html import render_html
from stretchcast.handout.papers import PAPERS
from stretchcast.handout.pdf import render_pdf
from stretchcast.handout.sheet import Sheet
from stretchcast.output.files import OutputSet, check_writable


@dataclass(frozen=True)
class HandoutFiles:
    """Where a handout was written."""

    pdf: Path
    html: Path


def check_paper(paper: str) -> str:
    """``paper`` if it is one the handout prints on, else a mistake naming them."""
    if paper.lower() not in PAPERS:
        raise UsageError(f"--paper {paper} is not a paper size", fix=f"Use {' or '.join(PAPERS)}.")
    return paper.lower()


def write_handout(sheet: Sheet, out_dir: Path, *, paper: str = "a4", name: str | None = None) -> HandoutFiles:
    """Write ``<name>.pdf`` and ``<name>.html`` (``name``: the sheet's slug) into ``out_dir``."""
    paper = check_paper(paper)
    check_writable(out_dir)
    stem = name or sheet.slug
    pdf_bytes = render_pdf(sheet, paper)  # both made before anything is staged
    html_text = render_html(sheet, paper)
    files = HandoutFiles(out_dir / f"{stem}.pdf", out_dir / f"{stem}.html")
    with OutputSet() as out:
        out.add(files.pdf, pdf_bytes)
        out.add_text(files.html, html_text)
        out.commit()
    return files
