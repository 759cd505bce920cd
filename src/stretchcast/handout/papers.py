"""The paper sizes a handout prints on, alone: the command line lists them without loading fpdf."""

from __future__ import annotations

#: Paper sizes the handout prints on: the PDF's page and the HTML's ``@page`` size, in millimetres.
PAPERS: dict[str, tuple[str, float, float]] = {
    "a4": ("A4", 210.0, 297.0),
    "letter": ("Letter", 215.9, 279.4),
}
