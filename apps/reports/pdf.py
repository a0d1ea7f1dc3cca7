"""Small PDF documents with fpdf2 (a pure-Python wheel: no system libraries).

fpdf2 keeps the whole document in memory until it is written, so PDF reports are
summaries (aggregates, a page or two), never row dumps: those are Excel reports.

The built-in PDF fonts only cover Latin-1; other characters are shown as "?". Embedding
a Unicode TrueType font (``FPDF.add_font``) would lift that, and none ships with the
project today.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

FONT = "Helvetica"


def latin1(value: Any) -> str:
    return ("" if value is None else str(value)).encode("latin-1", "replace").decode("latin-1")


class SummaryDocument:
    """A titled A4 document of short facts and tables."""

    def __init__(self, *, title: str) -> None:
        # Imported here, not at module level: fpdf would slow every process's start-up.
        from fpdf import FPDF
        from fpdf.enums import XPos, YPos

        self.pdf = FPDF(format="A4")
        self.pdf.set_title(latin1(title))
        self.pdf.set_creator("Tenantry")
        self.pdf.set_auto_page_break(auto=True, margin=15)
        self.pdf.add_page()
        self.pdf.set_font(FONT, style="B", size=16)
        self.pdf.cell(text=latin1(title), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.pdf.ln(4)

    def facts(self, facts: Sequence[tuple[str, Any]]) -> None:
        from fpdf.enums import XPos, YPos  # loaded by __init__ already; see there

        for label, value in facts:
            self.pdf.set_font(FONT, style="B", size=10)
            self.pdf.cell(w=60, text=latin1(label))
            self.pdf.set_font(FONT, size=10)
            self.pdf.cell(text=latin1(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.pdf.ln(4)

    def heading(self, text: str) -> None:
        from fpdf.enums import XPos, YPos  # loaded by __init__ already; see there

        self.pdf.set_font(FONT, style="B", size=12)
        self.pdf.cell(text=latin1(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.pdf.ln(1)

    def table(self, *, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        self.pdf.set_font(FONT, size=10)
        with self.pdf.table(first_row_as_headings=True) as table:
            for values in [columns, *rows]:
                row = table.row()
                for value in values:
                    row.cell(latin1(value))
        self.pdf.ln(4)

    def save(self, path: Path | str) -> None:
        self.pdf.output(str(path))
