"""The printed handout: a sheet for the fridge, as a PDF and as HTML, for a routine or a programme.

``sheet`` gathers what is printed (title, length, what it is for, the cautions read from the
content, each exercise's figure, position, steps and dose in plain words, sessions a week, a
programme's weeks, where the track is); ``pdf`` lays it out with fpdf2 and an embedded TTF font,
``html`` as one self-contained page with print styles; ``write`` puts both files in place whole or
not at all. Above the pipeline and programmes (it plans weeks), beside serve, below the faces.
"""

from stretchcast.handout.sheet import PAPERS, Sheet, programme_sheet, routine_sheet
from stretchcast.handout.write import HandoutFiles, write_handout

__all__ = ["PAPERS", "HandoutFiles", "Sheet", "programme_sheet", "routine_sheet", "write_handout"]
