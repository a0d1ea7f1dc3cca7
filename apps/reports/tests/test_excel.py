"""The Excel helper: rows in, the same rows out; text stays text; progress as it goes."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest
from django.db import connection
from openpyxl.worksheet import _writer as openpyxl_writer

from apps.accounts.models import User
from apps.core.tenancy import in_tenant
from apps.reports.excel import Column, queryset_rows, xlsx_write
from tests.personas import TENANT_A

COLUMNS = [Column("Name", 20), Column("Count"), Column("When"), Column("Flag")]


def _naive(*parts: int) -> dt.datetime:
    """A naive datetime (what Excel holds), read as UTC."""
    return dt.datetime(*parts, tzinfo=dt.UTC).replace(tzinfo=None)


def _read(path) -> list[tuple]:
    # Not read-only: that mode drops trailing empty cells, this one pads every row.
    workbook = openpyxl.load_workbook(path)
    return [tuple(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]


def test_rows_come_back_exactly_after_the_header(tmp_path):
    path = tmp_path / "out.xlsx"
    rows = [
        ("alice", 3, _naive(2026, 1, 2, 3, 4, 5), True),
        ("bob", None, None, False),
        ("carol", 2.5, _naive(2026, 12, 31, 23, 59, 59), None),
    ]

    written = xlsx_write(path=path, sheet_title="People", columns=COLUMNS, rows=iter(rows))

    assert written == 3
    assert _read(path) == [("Name", "Count", "When", "Flag"), *rows]
    sheet = openpyxl.load_workbook(path).worksheets[0]
    assert sheet.title == "People"
    assert sheet.freeze_panes == "A2"
    assert sheet["A1"].font.bold is True
    assert sheet.column_dimensions["A"].width == 20


def test_text_that_looks_like_a_formula_stays_text(tmp_path):
    path = tmp_path / "out.xlsx"

    xlsx_write(
        path=path,
        sheet_title="S",
        columns=[Column("A"), Column("B")],
        rows=[('=HYPERLINK("http://evil.example.test")', "=1+1"), ("plain", "=")],
    )

    sheet = openpyxl.load_workbook(path).worksheets[0]
    assert [(cell.value, cell.data_type) for cell in sheet[2]] == [
        ('=HYPERLINK("http://evil.example.test")', "s"),
        ("=1+1", "s"),
    ]
    assert [(cell.value, cell.data_type) for cell in sheet[3]] == [("plain", "s"), ("=", "s")]


def test_control_characters_are_dropped_instead_of_failing_the_file(tmp_path):
    path = tmp_path / "out.xlsx"

    xlsx_write(
        path=path,
        sheet_title="S",
        columns=[Column("A"), Column("B")],
        rows=[("bell\x07 and\x1f unit", "tab\tand\nnewline stay")],
    )

    assert _read(path)[1] == ("bell and unit", "tab\tand\nnewline stay")


def test_progress_is_reported_every_n_rows(tmp_path):
    calls = []

    written = xlsx_write(
        path=tmp_path / "out.xlsx",
        sheet_title="S",
        columns=[Column("N")],
        rows=((number,) for number in range(25)),
        total=25,
        on_progress=lambda done, total: calls.append((done, total)),
        progress_every=10,
    )

    assert written == 25
    assert calls == [(10, 25), (20, 25)]


def test_an_exception_from_progress_stops_the_file(tmp_path):
    class Stop(Exception):
        pass

    def stop(done, total):
        raise Stop

    temporary_files = list(openpyxl_writer.ALL_TEMP_FILES)

    with pytest.raises(Stop):
        xlsx_write(
            path=tmp_path / "out.xlsx",
            sheet_title="S",
            columns=[Column("N")],
            rows=((number,) for number in range(25)),
            on_progress=stop,
            progress_every=10,
        )

    assert not (tmp_path / "out.xlsx").exists()
    # openpyxl's own temporary copy of the rows is gone too, not left until the worker exits.
    assert temporary_files == openpyxl_writer.ALL_TEMP_FILES


@pytest.mark.django_db
@pytest.mark.parametrize("server_side_cursors", [True, False], ids=["cursor", "keyset"])
def test_queryset_rows_yields_every_row_in_chunks(monkeypatch, server_side_cursors):
    monkeypatch.setitem(
        connection.settings_dict, "DISABLE_SERVER_SIDE_CURSORS", not server_side_cursors
    )
    with in_tenant(TENANT_A):
        for number in range(5):
            User.objects.create(username=f"chunked-{number}")
        users = User.objects.filter(username__startswith="chunked-").order_by("pk")
        expected = list(users.values_list("username", "is_active"))

        rows = list(queryset_rows(users, "username", "is_active", chunk_size=2))

    assert rows == expected
    assert len(rows) == 5
