"""Excel files of any length in bounded memory.

Rows come from the database in chunks (``queryset_rows``: a PostgreSQL server-side cursor)
and go straight into an openpyxl write-only workbook, which streams each row to a
temporary XML file instead of keeping cells in memory. Memory therefore depends on the
chunk size, not on the row count.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.db import connections
from django.db.models import QuerySet

if TYPE_CHECKING:
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

CHUNK_SIZE = 2000
PROGRESS_EVERY = 5000
# A string openpyxl would store as a formula ("=..."), or one holding control
# characters Excel refuses (openpyxl raises on them, which would end the whole file).
_UNSAFE_TEXT = re.compile(r"^=|[\000-\010\013\014\016-\037]")
_CONTROL_CHARACTERS = re.compile(r"[\000-\010\013\014\016-\037]")


@dataclass(frozen=True)
class Column:
    title: str
    width: float | None = None


def queryset_rows(
    queryset: QuerySet[Any], *fields: str, chunk_size: int = CHUNK_SIZE
) -> Iterator[tuple[Any, ...]]:
    """``queryset.values_list(*fields)``, fetched ``chunk_size`` rows at a time.

    On PostgreSQL ``iterator()`` reads through a server-side cursor: only one chunk is
    in this process at a time. Outside a transaction Django declares the cursor
    ``WITH HOLD``, so PostgreSQL materialises the result on its side first; the worker's
    memory stays bounded either way. Report tasks run in autocommit on purpose: their
    progress updates must commit as they go, and an open transaction would hold the job
    row's lock and block a cancel until the file was done.

    Behind PgBouncer in transaction mode server-side cursors are turned off
    (``DISABLE_SERVER_SIDE_CURSORS``) and ``iterator()`` would load every row at once,
    so the rows are read by primary key ranges (keyset pagination) instead. That order
    is the primary key's, not the queryset's.
    """
    values = queryset.values_list(*fields)
    if not connections[queryset.db].settings_dict.get("DISABLE_SERVER_SIDE_CURSORS"):
        yield from values.iterator(chunk_size=chunk_size)
        return
    keyed = queryset.order_by("pk").values_list("pk", *fields)
    last_pk = None
    while True:
        page = keyed if last_pk is None else keyed.filter(pk__gt=last_pk)
        chunk = list(page[:chunk_size])
        for row in chunk:
            yield row[1:]
        if len(chunk) < chunk_size:
            return
        last_pk = chunk[-1][0]


def _escaped(sheet: WriteOnlyWorksheet, row: Sequence[Any]) -> list[Any]:
    """The row with text made safe: never a formula, no control characters."""
    # Imported here, not at module level: openpyxl would slow every process's start-up.
    from openpyxl.cell import WriteOnlyCell

    cells: list[Any] = []
    for value in row:
        if value.__class__ is str and _UNSAFE_TEXT.search(value):
            cell = WriteOnlyCell(sheet, value=_CONTROL_CHARACTERS.sub("", value))
            # A user named "=HYPERLINK(...)" stays a name: text, not a formula.
            cell.data_type = "s"
            cells.append(cell)
        else:
            cells.append(value)
    return cells


def xlsx_write(
    *,
    path: Path | str,
    sheet_title: str,
    columns: Sequence[Column],
    rows: Iterable[Sequence[Any]],
    total: int | None = None,
    on_progress: Callable[[int, int | None], None] | None = None,
    progress_every: int = PROGRESS_EVERY,
) -> int:
    """Write a one-sheet workbook (bold header, frozen first row) to ``path``.

    Values must be Excel-native (str, numbers, bool, naive date/datetime, None); text is
    written as text even when it starts with "=". ``on_progress(rows_done, total)`` is
    called every ``progress_every`` rows; it may raise to stop the file (a cancelled job).
    Returns the number of data rows written.
    """
    # Imported here, not at module level: openpyxl would slow every process's start-up.
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=sheet_title[:31])
    for index, column in enumerate(columns, 1):
        if column.width:
            sheet.column_dimensions[get_column_letter(index)].width = column.width
    sheet.freeze_panes = "A2"
    header_font = Font(bold=True)
    header = []
    for column in columns:
        cell = WriteOnlyCell(sheet, value=column.title)
        cell.font = header_font
        header.append(cell)
    sheet.append(header)

    try:
        written = _append_rows(sheet, rows, total, on_progress, progress_every)
    except BaseException:
        _discard(sheet)
        raise
    workbook.save(path)
    return written


def _append_rows(
    sheet: WriteOnlyWorksheet,
    rows: Iterable[Sequence[Any]],
    total: int | None,
    on_progress: Callable[[int, int | None], None] | None,
    progress_every: int,
) -> int:
    append = sheet.append
    unsafe = _UNSAFE_TEXT.search
    written = 0
    next_report = progress_every if on_progress is not None else -1
    for row in rows:
        for value in row:
            if value.__class__ is str and unsafe(value):
                row = _escaped(sheet, row)
                break
        append(row)
        written += 1
        if written == next_report and on_progress is not None:
            on_progress(written, total)
            next_report += progress_every
    return written


def _discard(sheet: WriteOnlyWorksheet) -> None:
    """Close and delete the sheet's temporary XML file of an abandoned workbook.

    openpyxl only removes it on save or at interpreter exit, and a worker lives long:
    each cancelled or failed report would leave its rows behind in the temp directory.
    """
    writer = sheet._writer  # openpyxl has no public way to abandon a sheet
    with contextlib.suppress(Exception):
        sheet.close()
    if writer is not None:
        with contextlib.suppress(Exception):
            writer.cleanup()
