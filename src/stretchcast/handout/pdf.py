"""The handout as a PDF, laid out with fpdf2 (pure Python), its font embedded so text stays selectable.

The font is Source Sans Pro (SIL OFL 1.1) from the ``font-source-sans-pro`` wheel: a TTF that ships
with the package, subset into the PDF, so nothing is looked up or downloaded when a handout is made
and any Unicode the content uses prints. Text is written in reading order (title, what it is for,
cautions, each exercise top to bottom), so a screen reader or ``pdftotext`` reads it as printed.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.enums import Align, MethodReturnValue, XPos, YPos
from PIL import Image

from stretchcast.handout.papers import PAPERS
from stretchcast.handout.sheet import (
    RECORD_INTRO,
    STOP_LINE,
    WEEKS_ADVICE,
    ExerciseSheet,
    Sheet,
    qr_png,
)

FONT = "SourceSans"
_FONT_FILES = {"": "SourceSansPro-Regular.ttf", "B": "SourceSansPro-Bold.ttf", "I": "SourceSansPro-It.ttf"}
MARGIN = 15.0  # mm
FIGURE_W = 52.0  # mm: the key pose beside each exercise's words
FIGURE_MAX_H = 45.0  # mm
INK = (34, 34, 34)
ACCENT = (31, 94, 135)
CAUTION_FILL = (253, 243, 231)
RULE = (190, 190, 190)
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
#: A fixed date in the file, so the same handout gives the same bytes (the PDF needs some date).
_FIXED_DATE = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)


@contextmanager
def _font_paths() -> Iterator[dict[str, Path]]:
    files = resources.files("font_source_sans_pro") / "files"
    with (
        resources.as_file(files / _FONT_FILES[""]) as regular,
        resources.as_file(files / _FONT_FILES["B"]) as bold,
        resources.as_file(files / _FONT_FILES["I"]) as italic,
    ):
        yield {"": regular, "B": bold, "I": italic}


class _Doc(FPDF):
    def __init__(self, sheet: Sheet, paper: str) -> None:
        name, width, height = PAPERS[paper]
        super().__init__(orientation="P", unit="mm", format=(width, height))
        self.sheet = sheet
        self.paper = name
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(auto=True, margin=MARGIN + 4)

    def footer(self) -> None:
        self.set_y(-MARGIN)
        self.set_font(FONT, "", 8)
        self.set_text_color(110, 110, 110)
        self.cell(0, 4, f"{self.sheet.title}, page {self.page_no()}/{{nb}}", align="C")
        self.set_text_color(*INK)


def render_pdf(sheet: Sheet, paper: str = "a4") -> bytes:
    """The handout as PDF bytes, on ``paper`` ("a4" or "letter")."""
    doc = _Doc(sheet, paper)
    with _font_paths() as fonts:
        for style, path in fonts.items():
            doc.add_font(FONT, style, str(path))
        doc.set_title(sheet.title)
        doc.set_subject("Exercise handout: what to do, how much, and when to stop")
        doc.set_creator("stretchcast")
        doc.set_lang("en")
        doc.set_creation_date(_FIXED_DATE)
        doc.alias_nb_pages()
        doc.add_page()
        doc.set_text_color(*INK)
        _header(doc, sheet)
        _cautions(doc, sheet)
        if sheet.is_programme:
            _weeks(doc, sheet)
        _heading(doc, "The exercises")
        for number, ex in enumerate(sheet.exercises, 1):
            _exercise(doc, number, ex)
        _record(doc, sheet)
        _track(doc, sheet)
        return bytes(doc.output())


def _text(doc: FPDF, text: str, size: float = 10.5, style: str = "", h: float = 5.0) -> None:
    doc.set_font(FONT, style, size)
    doc.multi_cell(0, h, text, align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _heading(doc: FPDF, text: str) -> None:
    if doc.will_page_break(30):
        doc.add_page()
    doc.ln(3)
    doc.set_text_color(*ACCENT)
    _text(doc, text, 14, "B", 7)
    doc.set_text_color(*INK)
    doc.ln(1)


def _header(doc: FPDF, sheet: Sheet) -> None:
    doc.set_text_color(*ACCENT)
    _text(doc, sheet.title, 20, "B", 9)
    doc.set_text_color(*INK)
    rounds = f" Go through the exercises {sheet.rounds} times." if sheet.rounds > 1 else ""
    _text(doc, f"{sheet.length}. {sheet.sessions}{rounds}", 11, "B", 6)
    doc.ln(2)
    _heading(doc, "What it is for")
    for line in sheet.purpose:
        _text(doc, line)
        doc.ln(1)


def _bullets(doc: FPDF, items: tuple[str, ...], size: float = 10.5, style: str = "") -> None:
    for item in items:
        doc.set_font(FONT, style, size)
        doc.cell(5, 5, "\u2022")
        doc.multi_cell(0, 5, item, align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        doc.ln(0.8)


def _cautions(doc: FPDF, sheet: Sheet) -> None:
    _heading(doc, "Stay safe: when to stop")
    top = doc.get_y()
    # the box behind the text: measure the lines first (a dry run draws nothing)
    doc.set_font(FONT, "", 10.5)
    lines = 0
    for caution in sheet.cautions:
        wrapped = doc.multi_cell(doc.epw - 5, 5, caution, dry_run=True, output=MethodReturnValue.LINES)
        lines += len(wrapped) if isinstance(wrapped, list) else 1
    height = lines * 5 + 0.8 * len(sheet.cautions) + 2
    if doc.will_page_break(height):
        doc.add_page()
        top = doc.get_y()
    doc.set_fill_color(*CAUTION_FILL)
    doc.rect(MARGIN - 2, top - 1, doc.epw + 4, height, style="F")
    _bullets(doc, sheet.cautions)
    doc.ln(2)


def _weeks(doc: FPDF, sheet: Sheet) -> None:
    _heading(doc, "The weeks")
    _text(doc, WEEKS_ADVICE, 10)
    doc.ln(1)
    doc.set_font(FONT, "", 10)
    with doc.table(
        col_widths=(12, 100, 18, 50),
        text_align=("CENTER", "LEFT", "CENTER", "LEFT"),
        line_height=5.5,
        first_row_as_headings=True,
    ) as table:
        table.row(("Week", "What changes", "Length", "Track"))
        for row in sheet.weeks:
            table.row((str(row.week), row.changes, row.minutes, row.track))
    doc.ln(2)


def _exercise(doc: FPDF, number: int, ex: ExerciseSheet) -> None:
    def draw(d: Any) -> None:  # the document, or fpdf2's recorder of a trial run (same methods)
        top = d.get_y()
        fig_h = 0.0
        if ex.figure_png is not None:
            with Image.open(io.BytesIO(ex.figure_png)) as img:
                fig_w = min(FIGURE_W, FIGURE_MAX_H * img.width / img.height)  # a tall picture is narrower
                fig_h = fig_w * img.height / img.width
            d.image(io.BytesIO(ex.figure_png), x=MARGIN + (FIGURE_W - fig_w) / 2, y=top, w=fig_w)
        left = MARGIN + FIGURE_W + 5
        d.set_left_margin(left)
        d.set_x(left)
        d.set_text_color(*ACCENT)
        _text(d, f"{number}. {ex.name}", 13, "B", 6.5)
        d.set_text_color(*INK)
        _text(d, ex.summary, 10, "I")
        d.ln(1)
        d.set_font(FONT, "", 10.5)
        d.multi_cell(
            0,
            5,
            f"**Position:** {ex.position}",
            markdown=True,
            align=Align.L,
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        d.ln(1)
        for i, step in enumerate(ex.steps, 1):
            d.set_font(FONT, "", 10.5)
            d.cell(6, 5, f"{i}.")
            d.multi_cell(0, 5, step, align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        d.ln(1)
        d.set_font(FONT, "", 10.5)
        d.multi_cell(
            0,
            5,
            f"**How much:** {ex.dose}",
            markdown=True,
            align=Align.L,
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        if ex.later:
            d.multi_cell(
                0,
                5,
                f"**By the last week:** {ex.later}",
                markdown=True,
                align=Align.L,
                new_x=XPos.LMARGIN,
                new_y=YPos.NEXT,
            )
        d.ln(1)
        _bullets(d, ex.cautions, 9.5, "I")
        d.set_left_margin(MARGIN)
        bottom = max(d.get_y(), top + fig_h)
        d.set_xy(MARGIN, bottom + 3)
        d.set_draw_color(*RULE)
        d.line(MARGIN, bottom + 1.5, MARGIN + d.epw, bottom + 1.5)

    with doc.offset_rendering() as probe:  # keep each exercise on one page
        draw(probe)
    if probe.page_break_triggered:
        doc.add_page()
    draw(doc)


def _record(doc: FPDF, sheet: Sheet) -> None:
    row_h, day_w, box = 9.0, 22.0, 4.5
    need = 40 + row_h * len(DAYS)
    if doc.will_page_break(need):
        doc.add_page()
    _heading(doc, "Your week")
    _text(doc, RECORD_INTRO, 10)
    doc.ln(2)
    heads = ("Day", "Done", "Pain before (0-10)", "Pain after (0-10)", "Notes")
    widths = (day_w, 16.0, 34.0, 34.0, doc.epw - day_w - 16 - 68)
    doc.set_font(FONT, "B", 10)
    doc.set_draw_color(120, 120, 120)
    for head, w in zip(heads, widths, strict=True):
        doc.cell(w, row_h, head, border=1, align="C")
    doc.ln(row_h)
    doc.set_font(FONT, "", 10)
    for day in DAYS:
        y = doc.get_y()
        doc.cell(widths[0], row_h, day, border=1, align="C")
        x = doc.get_x()
        doc.cell(widths[1], row_h, "", border=1)
        doc.rect(x + (widths[1] - box) / 2, y + (row_h - box) / 2, box, box)  # the tick box
        for w in widths[2:]:
            doc.cell(w, row_h, "", border=1)
        doc.ln(row_h)
    doc.ln(2)
    _text(doc, STOP_LINE, 10, "B")


def _track(doc: FPDF, sheet: Sheet) -> None:
    qr = 34.0
    if doc.will_page_break(30 + (qr if sheet.url else 0)):
        doc.add_page()
    _heading(doc, "Where the track is")
    if len(sheet.tracks) == 1:
        _text(doc, f"The audio track is {sheet.tracks[0]}, beside this handout.")
    else:
        _text(doc, f"One track a week, beside this handout: {sheet.tracks[0]} to {sheet.tracks[-1]}.")
    if sheet.url:
        doc.ln(1)
        top = doc.get_y()
        doc.image(io.BytesIO(qr_png(sheet.url)), x=MARGIN, y=top, w=qr, h=qr)
        doc.set_xy(MARGIN + qr + 4, top + 4)
        doc.set_left_margin(MARGIN + qr + 4)
        _text(doc, "On your phone: scan this code with the camera to open the phone page.", 10.5)
        _text(doc, sheet.url, 10, "B")
        doc.set_left_margin(MARGIN)
        doc.set_xy(MARGIN, top + qr + 2)
