"""Pipeline reports, registered in the platform's report registry (discovered by
apps.reports) for tenants with the pipeline module. Both run as report jobs in a worker,
as the user who asked, and cover only the zones that user may see.

- ``pipeline-water-loss``: the stored daily water balance of each zone in a period, the
  period's totals per zone with a bar chart of the loss share, and the daily loss share
  per zone with a line chart.
- ``pipeline-sensor-accuracy``: per sensor, readings expected and received (coverage,
  missing), the share outside the sensor's valid range after calibration, the mean
  calibrated value against the sensor's reference value, and the days since calibration,
  with a bar chart of coverage.

Rows stream into a write-only workbook (several sheets, so apps.reports.excel's one-sheet
writer is not enough): memory does not grow with the number of days or sensors.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from rest_framework import serializers

from apps.core.api.serializers import StrictSerializer
from apps.core.types import Actor
from apps.pipeline.selectors import reports as selectors
from apps.reports.excel import PROGRESS_EVERY, Column, queryset_rows
from apps.reports.registry import ReportOutput, report

MODULE = "pipeline"
# A year and a day: a leap year's full period, and one query's worth of readings.
MAX_PERIOD_DAYS = 366
# Lines beyond this many zones make the daily chart unreadable: it shows the zones that
# lost the largest share over the period (the sheet keeps every zone).
MAX_CHART_ZONES = 12
_UNSAFE_TEXT = re.compile(r"^=|[\000-\010\013\014\016-\037]")
_CONTROL_CHARACTERS = re.compile(r"[\000-\010\013\014\016-\037]")


class PeriodParameters(StrictSerializer):
    date_from = serializers.DateField(help_text="First day, included (the tenant's time zone).")
    date_to = serializers.DateField(help_text="Last day, included (the tenant's time zone).")
    zone = serializers.UUIDField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Only this zone and the zones under it; every zone you may see when left out.",
    )

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        if data["date_to"] < data["date_from"]:
            raise serializers.ValidationError({"date_to": ["Must not be before date_from."]})
        if (data["date_to"] - data["date_from"]).days >= MAX_PERIOD_DAYS:
            raise serializers.ValidationError(
                {"date_to": [f"The period is at most {MAX_PERIOD_DAYS} days."]}
            )
        return data


# --- a streaming workbook of several sheets ------------------------------------------------


class _Workbook:
    """An openpyxl write-only workbook whose sheets are written one after another; on an
    error their temporary files are removed (openpyxl only does that on save)."""

    def __init__(self) -> None:
        # Imported here, not at module level: openpyxl would slow every process's start-up.
        from openpyxl import Workbook

        self.book = Workbook(write_only=True)
        self.sheets: list[Any] = []

    def sheet(self, title: str, columns: Sequence[Column]) -> Any:
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Font
        from openpyxl.utils import get_column_letter

        sheet = self.book.create_sheet(title=title[:31])
        self.sheets.append(sheet)
        for index, column in enumerate(columns, 1):
            if column.width:
                sheet.column_dimensions[get_column_letter(index)].width = column.width
        sheet.freeze_panes = "A2"
        bold = Font(bold=True)
        header = []
        for column in columns:
            cell = WriteOnlyCell(sheet, value=column.title)
            cell.font = bold
            header.append(cell)
        sheet.append(header)
        return sheet

    @staticmethod
    def append(sheet: Any, row: Sequence[Any]) -> None:
        if any(value.__class__ is str and _UNSAFE_TEXT.search(value) for value in row):
            from openpyxl.cell import WriteOnlyCell

            cells: list[Any] = []
            for value in row:
                if value.__class__ is str and _UNSAFE_TEXT.search(value):
                    cell = WriteOnlyCell(sheet, value=_CONTROL_CHARACTERS.sub("", value))
                    cell.data_type = "s"  # a zone named "=..." stays text, never a formula
                    cells.append(cell)
                else:
                    cells.append(value)
            row = cells
        sheet.append(row)

    def save(self, path: Path) -> None:
        self.book.save(path)

    def discard(self) -> None:
        for sheet in self.sheets:
            writer = sheet._writer  # openpyxl has no public way to abandon a sheet
            with contextlib.suppress(Exception):
                sheet.close()
            if writer is not None:
                with contextlib.suppress(Exception):
                    writer.cleanup()


@contextlib.contextmanager
def _workbook() -> Iterator[_Workbook]:
    book = _Workbook()
    try:
        yield book
    except BaseException:
        book.discard()
        raise


class _Progress:
    """Calls ``output.progress`` every PROGRESS_EVERY rows (it may raise: a cancelled job)."""

    def __init__(self, output: ReportOutput, total: int) -> None:
        self.output, self.total, self.done = output, total, 0

    def step(self) -> None:
        self.done += 1
        if self.done % PROGRESS_EVERY == 0:
            self.output.progress(self.done, self.total)


def _about_sheet(book: _Workbook, rows: Iterable[tuple[str, Any]]) -> None:
    sheet = book.sheet("About", [Column("About", 24), Column("", 70)])
    for row in rows:
        book.append(sheet, row)


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def _percent(part: float | None, whole: float | None) -> float | None:
    if part is None or not whole:
        return None
    return part / whole * 100.0


def _zone_label(zone_ids: set[str] | None, zone: Any) -> str:
    if zone is not None:
        return f"{zone} and the zones under it (those you may see)"
    return "every zone" if zone_ids is None else "the zones you may see"


# --- water loss ----------------------------------------------------------------------------

DAILY_COLUMNS = [
    Column("Zone", 14),
    Column("Zone name", 28),
    Column("Day", 12),
    Column("Inflow (m3)", 13),
    Column("Outflow (m3)", 13),
    Column("Consumption (m3)", 16),
    Column("Loss (m3)", 12),
    Column("Loss (%)", 10),
    Column("Min night flow (m3/h)", 20),
    Column("Coverage (%)", 13),
]
TOTAL_COLUMNS = [
    Column("Zone", 14),
    Column("Zone name", 28),
    Column("Days", 7),
    Column("Inflow (m3)", 13),
    Column("Outflow (m3)", 13),
    Column("Consumption (m3)", 16),
    Column("Loss (m3)", 12),
    Column("Loss (%)", 10),
    Column("Lowest day loss (%)", 18),
    Column("Highest day loss (%)", 18),
    Column("Mean coverage (%)", 16),
    Column("Highest min night flow (m3/h)", 26),
]
LOSS_PCT_TOTAL_COLUMN = 8  # "Loss (%)" of the totals sheet, 1-based


def _daily_rows(days: Iterable[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
    for code, name, day, inflow, outflow, consumption, loss, loss_pct, night, coverage in days:
        yield (
            code,
            name,
            day,
            _round(inflow, 3),
            _round(outflow, 3),
            _round(consumption, 3),
            _round(loss, 3),
            _round(loss_pct, 2),
            _round(night, 3),
            _round(coverage * 100.0, 1),
        )


def _total_row(total: dict[str, Any]) -> tuple[Any, ...]:
    return (
        total["zone__code"],
        total["zone__name"],
        total["days"],
        _round(total["inflow"], 3),
        _round(total["outflow"], 3),
        _round(total["consumption"], 3),
        _round(total["loss"], 3),
        _round(_percent(total["loss"], total["inflow"]), 2),
        _round(total["loss_pct_min"], 2),
        _round(total["loss_pct_max"], 2),
        _round(total["coverage"] * 100.0, 1),
        _round(total["night_flow_max"], 3),
    )


def _pivot_rows(
    series: Iterable[tuple[date, str, float | None]], codes: list[str]
) -> Iterator[list[Any]]:
    """One row per day (the series comes by day): the day, then each zone's loss share."""
    column = {code: index for index, code in enumerate(codes, 1)}
    current: list[Any] | None = None
    for day, code, loss_pct in series:
        if current is None or current[0] != day:
            if current is not None:
                yield current
            current = [day] + [None] * len(codes)
        if code in column:
            current[column[code]] = _round(loss_pct, 2)
    if current is not None:
        yield current


def _water_loss_charts(
    totals_sheet: Any, pivot_sheet: Any, codes: list[str], chart_codes: list[str], days: int
) -> None:
    zone_count = len(codes)
    from openpyxl.chart import BarChart, LineChart, Reference

    bar = BarChart()
    bar.type = "col"
    bar.title = "Loss over the period (% of inflow)"
    bar.y_axis.title = "Loss (%)"
    bar.x_axis.title = "Zone"
    bar.legend = None
    bar.add_data(
        Reference(
            totals_sheet,
            min_col=LOSS_PCT_TOTAL_COLUMN,
            max_col=LOSS_PCT_TOTAL_COLUMN,
            min_row=1,
            max_row=zone_count + 1,
        ),
        titles_from_data=True,
    )
    bar.set_categories(Reference(totals_sheet, min_col=1, min_row=2, max_row=zone_count + 1))
    bar.width, bar.height = max(15.0, min(40.0, zone_count * 1.2)), 8.0
    totals_sheet.add_chart(bar, "N2")

    line = LineChart()
    line.title = "Daily loss (% of inflow)"
    line.y_axis.title = "Loss (%)"
    line.x_axis.title = "Day"
    line.x_axis.number_format = "yyyy-mm-dd"
    for code in chart_codes:
        column = codes.index(code) + 2
        line.add_data(
            Reference(pivot_sheet, min_col=column, min_row=1, max_row=days + 1),
            titles_from_data=True,
        )
    line.set_categories(Reference(pivot_sheet, min_col=1, min_row=2, max_row=days + 1))
    line.width, line.height = 24.0, 10.0
    pivot_sheet.add_chart(line, f"{_column_letter(zone_count + 3)}2")


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index)


@report(
    name="pipeline-water-loss",
    title="Water loss by zone",
    permission="pipeline.view_zonewaterbalance",
    parameters=PeriodParameters,
    format="xlsx",
    module=MODULE,
    description=(
        "Each zone's daily water balance over a period (inflow, outflow, consumption, loss, "
        "minimum night flow, coverage), the period's totals per zone, and charts of the loss."
    ),
)
def water_loss_report(*, actor: Actor, params: dict[str, Any], output: ReportOutput) -> int:
    date_from, date_to = params["date_from"], params["date_to"]
    zone_ids = selectors.report_zone_ids(actor=actor, zone_id=params.get("zone"))
    period = {"zone_ids": zone_ids, "date_from": date_from, "date_to": date_to}
    days = selectors.water_balance_days(**period)
    totals = [_total_row(total) for total in selectors.water_balance_totals(**period)]
    codes = [row[0] for row in totals]
    # Zones by period loss share, highest first; zones without inflow last.
    ranked = sorted(totals, key=lambda row: (row[7] is None, -(row[7] or 0.0)))
    chart_codes = [row[0] for row in ranked[:MAX_CHART_ZONES]]
    progress = _Progress(output, days.count() + len(totals))

    with _workbook() as book:
        _about_sheet(
            book,
            [
                ("Report", "Water loss by zone"),
                ("Period", f"{date_from.isoformat()} to {date_to.isoformat()} (days included)"),
                ("Zones", _zone_label(zone_ids, params.get("zone"))),
                ("Source", "The stored daily water balances; a day without one is not listed."),
                ("Loss (%)", "Loss as a share of the inflow; empty without inflow."),
            ],
        )
        daily = book.sheet("Daily by zone", DAILY_COLUMNS)
        written = 0
        for row in _daily_rows(
            queryset_rows(
                days,
                "zone__code",
                "zone__name",
                "day",
                "inflow_m3",
                "outflow_m3",
                "consumption_m3",
                "loss_m3",
                "loss_pct",
                "min_night_flow_m3h",
                "coverage",
            )
        ):
            book.append(daily, row)
            written += 1
            progress.step()

        totals_sheet = book.sheet("Totals by zone", TOTAL_COLUMNS)
        for row in totals:
            book.append(totals_sheet, row)
            progress.step()

        pivot = book.sheet(
            "Daily loss (%)", [Column("Day", 12), *(Column(code, 12) for code in codes)]
        )
        day_count = 0
        for row in _pivot_rows(selectors.water_balance_loss_series(**period), codes):
            book.append(pivot, row)
            day_count += 1

        if codes:
            _water_loss_charts(totals_sheet, pivot, codes, chart_codes, day_count)
        book.save(output.path)
    return written


# --- sensor accuracy -----------------------------------------------------------------------

ACCURACY_COLUMNS = [
    Column("Sensor", 20),
    Column("Zone", 14),
    Column("Kind", 11),
    Column("Unit", 7),
    Column("Interval (s)", 11),
    Column("Expected", 10),
    Column("Received", 10),
    Column("Coverage (%)", 12),
    Column("Missing", 10),
    Column("Out of range", 12),
    Column("Out of range (%)", 15),
    Column("Mean (calibrated)", 16),
    Column("Reference value", 15),
    Column("Deviation from reference (%)", 25),
    Column("Valid min", 10),
    Column("Valid max", 10),
    Column("Calibrated on", 13),
    Column("Days since calibration", 20),
]
COVERAGE_COLUMN = 8  # "Coverage (%)", 1-based


def _accuracy_row(raw: Sequence[Any], *, as_of: date) -> tuple[Any, ...]:
    (
        code,
        zone_code,
        kind,
        unit,
        interval,
        expected,
        received,
        out_of_range,
        mean,
        reference,
        calibrated_on,
        valid_min,
        valid_max,
    ) = raw
    coverage = min(100.0, received / expected * 100.0) if expected else None
    deviation = None
    if reference and mean is not None:
        deviation = (mean - reference) / abs(reference) * 100.0
    return (
        code,
        zone_code,
        kind,
        unit,
        interval,
        expected,
        received,
        _round(coverage, 2),
        max(expected - received, 0),
        out_of_range,
        _round(_percent(out_of_range, received), 2),
        _round(mean, 4),
        reference,
        _round(deviation, 2),
        valid_min,
        valid_max,
        calibrated_on,
        (as_of - calibrated_on).days if calibrated_on is not None else None,
    )


def _coverage_chart(sheet: Any, sensor_count: int) -> None:
    from openpyxl.chart import BarChart, Reference

    chart = BarChart()
    chart.type = "bar"  # horizontal: sensor codes stay readable however many there are
    chart.title = "Coverage per sensor (% of expected readings)"
    chart.x_axis.title = "Sensor"
    chart.y_axis.title = "Coverage (%)"
    chart.y_axis.scaling.min = 0
    chart.y_axis.scaling.max = 100
    chart.legend = None
    chart.add_data(
        Reference(
            sheet,
            min_col=COVERAGE_COLUMN,
            max_col=COVERAGE_COLUMN,
            min_row=1,
            max_row=sensor_count + 1,
        ),
        titles_from_data=True,
    )
    chart.set_categories(Reference(sheet, min_col=1, min_row=2, max_row=sensor_count + 1))
    chart.width, chart.height = 18.0, max(8.0, min(200.0, sensor_count * 0.5))
    sheet.add_chart(chart, f"{_column_letter(len(ACCURACY_COLUMNS) + 2)}2")


@report(
    name="pipeline-sensor-accuracy",
    title="Sensor accuracy",
    permission="pipeline.view_sensor",
    parameters=PeriodParameters,
    format="xlsx",
    module=MODULE,
    description=(
        "Per sensor over a period: coverage and missing readings, the share outside the "
        "valid range after calibration, the mean against the reference value, and the days "
        "since calibration."
    ),
)
def sensor_accuracy_report(*, actor: Actor, params: dict[str, Any], output: ReportOutput) -> int:
    date_from, date_to = params["date_from"], params["date_to"]
    zone_ids = selectors.report_zone_ids(actor=actor, zone_id=params.get("zone"))
    tz = selectors.report_time_zone()
    start, end = selectors.period_bounds(date_from=date_from, date_to=date_to, tz=tz)
    progress = _Progress(output, selectors.sensor_count(zone_ids=zone_ids))

    with _workbook() as book:
        _about_sheet(
            book,
            [
                ("Report", "Sensor accuracy"),
                ("Period", f"{date_from.isoformat()} to {date_to.isoformat()} (days included)"),
                ("Time zone", str(tz)),
                ("Zones", _zone_label(zone_ids, params.get("zone"))),
                ("Expected", "The period divided by the sensor's expected reading interval."),
                ("Out of range", "Calibrated value outside the sensor's valid minimum..maximum."),
                ("Deviation", "Mean calibrated value against the reference value, in %."),
                ("Days since calibration", f"Counted to {date_to.isoformat()}."),
            ],
        )
        sheet = book.sheet("Sensor accuracy", ACCURACY_COLUMNS)
        written = 0
        for raw in selectors.sensor_accuracy_raw(zone_ids=zone_ids, start=start, end=end):
            book.append(sheet, _accuracy_row(raw, as_of=date_to))
            written += 1
            progress.step()
        if written:
            _coverage_chart(sheet, written)
        book.save(output.path)
    return written
