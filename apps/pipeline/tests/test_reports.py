"""The pipeline reports: water loss by zone and sensor accuracy, on crafted balances and
readings. The workbooks are opened with openpyxl; charts are files under xl/charts/."""

from __future__ import annotations

import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest

from apps.core.errors import NotFoundError
from apps.pipeline.tests.conftest import pipeline_actor
from apps.pipeline.tests.helpers_board import reading_partition_ensure, readings_add
from apps.reports.registry import ReportOutput, report_lookup
from tests.personas import HOSTS, TENANT_A, TENANT_B

pytestmark = pytest.mark.django_db

WATER_LOSS = "pipeline-water-loss"
SENSOR_ACCURACY = "pipeline-sensor-accuracy"


def _run(name: str, actor, params: dict, tmp_path: Path) -> tuple[int, Path]:
    registered = report_lookup(name)
    parameters = registered.parameters(data=params)
    parameters.is_valid(raise_exception=True)
    path = tmp_path / f"{name}.xlsx"
    rows = registered.generate(
        actor=actor, params=parameters.validated_data, output=ReportOutput(path=path)
    )
    return rows, path


def _sheet(path: Path, title: str) -> list[tuple]:
    workbook = openpyxl.load_workbook(path)
    return [tuple(row) for row in workbook[title].iter_rows(values_only=True)]


def _charts(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as archive:
        return sorted(name for name in archive.namelist() if name.startswith("xl/charts/chart"))


@pytest.fixture
def balances(pipeline_network):
    from apps.pipeline.models import ZoneWaterBalance

    net = pipeline_network

    def add(zone, day, inflow, outflow, consumption, coverage, night=None):
        loss = inflow - outflow - consumption
        ZoneWaterBalance.objects.create(
            zone=zone,
            day=day,
            inflow_m3=inflow,
            outflow_m3=outflow,
            consumption_m3=consumption,
            loss_m3=loss,
            loss_pct=loss / inflow * 100 if inflow else None,
            min_night_flow_m3h=night,
            coverage=coverage,
        )

    add(net.north, date(2026, 3, 1), 100.0, 20.0, 60.0, 0.9, night=1.5)
    add(net.north, date(2026, 3, 2), 200.0, 40.0, 130.0, 1.0, night=2.5)
    add(net.north_1, date(2026, 3, 1), 40.0, 0.0, 38.0, 1.0)
    add(net.south, date(2026, 3, 1), 50.0, 0.0, 45.0, 0.5)
    add(net.south, date(2026, 3, 2), 0.0, 0.0, 0.0, 0.0)
    # Outside the period.
    add(net.north, date(2026, 3, 3), 100.0, 0.0, 0.0, 1.0)
    add(net.south, date(2026, 2, 28), 100.0, 0.0, 0.0, 1.0)
    return net


PERIOD = {"date_from": "2026-03-01", "date_to": "2026-03-02"}


def test_water_loss_lists_each_zone_and_day_with_totals_and_charts(balances, tmp_path):
    rows, path = _run(WATER_LOSS, pipeline_actor("admin"), PERIOD, tmp_path)

    daily = _sheet(path, "Daily by zone")
    totals = _sheet(path, "Totals by zone")
    pivot = _sheet(path, "Daily loss (%)")
    assert rows == 5
    assert daily[0][:3] == ("Zone", "Zone name", "Day")
    assert [(row[0], row[2].date()) for row in daily[1:]] == [
        ("NORTH", date(2026, 3, 1)),
        ("NORTH", date(2026, 3, 2)),
        ("NORTH-1", date(2026, 3, 1)),
        ("SOUTH", date(2026, 3, 1)),
        ("SOUTH", date(2026, 3, 2)),
    ]
    assert daily[1][3:] == (100.0, 20.0, 60.0, 20.0, 20.0, 1.5, 90.0)
    assert daily[5][7] is None  # no inflow: no loss share
    by_zone = {row[0]: row for row in totals[1:]}
    assert list(by_zone) == ["NORTH", "NORTH-1", "SOUTH"]
    # NORTH: 300 m3 in, 50 m3 lost over the period = 16.67 %, days of 20 % and 15 %.
    assert by_zone["NORTH"][2:] == (2, 300.0, 60.0, 190.0, 50.0, 16.67, 15.0, 20.0, 95.0, 2.5)
    assert by_zone["SOUTH"][7] == 10.0
    assert by_zone["SOUTH"][10] == 25.0
    assert pivot[0] == ("Day", "NORTH", "NORTH-1", "SOUTH")
    assert [row[1:] for row in pivot[1:]] == [(20.0, 5.0, 10.0), (15.0, None, None)]
    assert len(_charts(path)) == 2


def test_water_loss_of_a_zone_scoped_user_leaves_other_zones_out(balances, zone_user, tmp_path):
    user = zone_user(zones=[balances.south])

    rows, path = _run(WATER_LOSS, pipeline_actor(user), PERIOD, tmp_path)

    assert rows == 2
    for title in ("Daily by zone", "Totals by zone"):
        assert {row[0] for row in _sheet(path, title)[1:]} == {"SOUTH"}
    assert _sheet(path, "Daily loss (%)")[0] == ("Day", "SOUTH")


def test_water_loss_of_one_zone_covers_the_zones_under_it(balances, tmp_path):
    params = {**PERIOD, "zone": str(balances.north.pk)}

    rows, path = _run(WATER_LOSS, pipeline_actor("admin"), params, tmp_path)

    assert rows == 3
    assert {row[0] for row in _sheet(path, "Daily by zone")[1:]} == {"NORTH", "NORTH-1"}


def test_a_zone_the_user_may_not_see_is_not_found(balances, zone_user, tmp_path):
    actor = pipeline_actor(zone_user(zones=[balances.south]))

    for name in (WATER_LOSS, SENSOR_ACCURACY):
        with pytest.raises(NotFoundError):
            _run(name, actor, {**PERIOD, "zone": str(balances.north.pk)}, tmp_path)


def test_water_loss_without_balances_is_an_empty_workbook(pipeline_network, tmp_path):
    rows, path = _run(WATER_LOSS, pipeline_actor("admin"), PERIOD, tmp_path)

    assert rows == 0
    assert _sheet(path, "Daily by zone") == [_sheet(path, "Daily by zone")[0]]
    assert _charts(path) == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"date_from": "2026-03-02", "date_to": "2026-03-01"}, "date_to"),
        ({"date_from": "2025-01-01", "date_to": "2026-03-01"}, "date_to"),
        ({"date_from": "2026-03-01"}, "date_to"),
        ({**PERIOD, "zone": "north"}, "zone"),
        ({**PERIOD, "extra": 1}, "extra"),
    ],
)
def test_parameters_are_checked(params, field):
    for name in (WATER_LOSS, SENSOR_ACCURACY):
        parameters = report_lookup(name).parameters(data=params)

        assert not parameters.is_valid()
        assert field in parameters.errors


@pytest.fixture
def readings(pipeline_network):
    """One day (2026-03-01, UTC: the test tenant's zone) of readings of S-NORTH-FLOW.

    The sensor expects one reading an hour and is calibrated x2 + 1 (reference 21): 12
    readings arrive, 10 read 10 raw (21 calibrated) and 2 read -5 raw (-9 calibrated,
    below the valid minimum 0). A reading of the next day is outside the period.
    """
    net = pipeline_network
    sensor = net.north_flow
    sensor.expected_interval_seconds = 3600
    sensor.calibration_factor = 2.0
    sensor.calibration_offset = 1.0
    sensor.reference_value = 21.0
    sensor.calibrated_on = date(2026, 2, 1)
    sensor.save()
    reading_partition_ensure(date(2026, 3, 1))
    start = datetime(2026, 3, 1, tzinfo=UTC)
    values = [(start + timedelta(hours=hour), 10.0) for hour in range(10)]
    values += [(start + timedelta(hours=20), -5.0), (start + timedelta(hours=21), -5.0)]
    values.append((datetime(2026, 3, 2, tzinfo=UTC), 10.0))
    readings_add(sensor, values)
    return net


DAY = {"date_from": "2026-03-01", "date_to": "2026-03-01"}


def test_sensor_accuracy_counts_coverage_range_and_deviation(readings, tmp_path):
    rows, path = _run(SENSOR_ACCURACY, pipeline_actor("admin"), DAY, tmp_path)

    sheet = _sheet(path, "Sensor accuracy")
    header, body = sheet[0], {row[0]: dict(zip(sheet[0], row, strict=True)) for row in sheet[1:]}
    assert header[:3] == ("Sensor", "Zone", "Kind")
    assert rows == 4
    assert list(body) == ["S-NORTH-FLOW", "S-NORTH-PRESSURE", "S-NORTH1-PRESSURE", "S-SOUTH-FLOW"]
    flow = body["S-NORTH-FLOW"]
    assert flow["Expected"] == 24
    assert flow["Received"] == 12
    assert flow["Coverage (%)"] == 50.0
    assert flow["Missing"] == 12
    assert flow["Out of range"] == 2
    assert flow["Out of range (%)"] == 16.67
    # (10 x 21 + 2 x -9) / 12 = 16, i.e. 23.81 % under the reference 21.
    assert flow["Mean (calibrated)"] == 16.0
    assert flow["Deviation from reference (%)"] == -23.81
    assert flow["Days since calibration"] == 28
    silent = body["S-SOUTH-FLOW"]
    assert (silent["Expected"], silent["Received"], silent["Coverage (%)"]) == (288, 0, 0.0)
    assert silent["Missing"] == 288
    assert silent["Out of range (%)"] is None
    assert silent["Mean (calibrated)"] is None
    assert silent["Deviation from reference (%)"] is None
    assert _charts(path) == ["xl/charts/chart1.xml"]


def test_sensor_accuracy_of_a_zone_scoped_user_leaves_other_zones_out(
    readings, zone_user, tmp_path
):
    user = zone_user(zones=[readings.south])

    rows, path = _run(SENSOR_ACCURACY, pipeline_actor(user), DAY, tmp_path)

    assert rows == 1
    assert [row[0] for row in _sheet(path, "Sensor accuracy")[1:]] == ["S-SOUTH-FLOW"]


def test_reports_run_as_jobs_and_land_in_the_tenants_storage(balances, settings, tmp_path):
    from apps.core.tenancy import in_tenant
    from apps.jobs.models import JobRun
    from apps.reports import services, tasks
    from apps.reports.models import ReportRun

    settings.MEDIA_ROOT = str(tmp_path)
    settings.STORAGES = {**settings.STORAGES}
    actor = pipeline_actor("admin")
    with in_tenant(TENANT_B):
        run = services.report_run_start(
            actor=actor, report=report_lookup(WATER_LOSS), params=PERIOD
        )

    tasks.report_generate(schema_name=TENANT_B, job_id=str(run.job_id), run_id=str(run.pk))

    with in_tenant(TENANT_B):
        run = ReportRun.objects.select_related("job").get(pk=run.pk)
    assert run.job.status == JobRun.Status.SUCCEEDED
    assert run.row_count == 5
    path = tmp_path / TENANT_B / str(run.file)
    assert len(_sheet(path, "Daily by zone")) == 6
    assert len(_charts(path)) == 2


def test_reports_are_listed_only_for_tenants_with_the_module(api_client):
    beta = api_client(TENANT_B, "admin").get("/api/v1/reports/", HTTP_HOST=HOSTS[TENANT_B])
    alpha = api_client(TENANT_A, "admin").get("/api/v1/reports/", HTTP_HOST=HOSTS[TENANT_A])

    def names(response):
        body = response.json()
        items = body["results"] if isinstance(body, dict) else body
        return {item["name"] for item in items}

    assert {WATER_LOSS, SENSOR_ACCURACY} <= names(beta)
    assert not {WATER_LOSS, SENSOR_ACCURACY} & names(alpha)


def test_zone_names_that_look_like_formulas_stay_text(balances, tmp_path):
    balances.south.name = '=HYPERLINK("https://evil.example")'
    balances.south.save()

    _, path = _run(WATER_LOSS, pipeline_actor("admin"), PERIOD, tmp_path)

    names = {row[1] for row in _sheet(path, "Daily by zone")[1:]}
    assert '=HYPERLINK("https://evil.example")' in names
    with zipfile.ZipFile(path) as archive:
        sheets = "".join(
            archive.read(name).decode()
            for name in archive.namelist()
            if name.startswith("xl/worksheets/")
        )
    assert "<f>" not in sheets


# --- the reports page -----------------------------------------------------------------------


def test_reports_page_offers_each_report_with_the_users_zones(client, balances, zone_user):
    client.force_login(zone_user(zones=[balances.north]))

    response = client.get("/pipeline/reports/", HTTP_HOST=HOSTS[TENANT_B])

    html = response.content.decode()
    assert response.status_code == 200
    assert 'action="/pipeline/reports/pipeline-water-loss/"' in html
    assert 'action="/pipeline/reports/pipeline-sensor-accuracy/"' in html
    assert f'value="{balances.north_1.pk}"' in html
    assert f'value="{balances.south.pk}"' not in html


def test_a_report_started_on_the_page_runs_and_is_downloaded(
    client, balances, zone_user, settings, tmp_path
):
    from apps.reports import tasks
    from apps.reports.models import ReportRun

    settings.MEDIA_ROOT = str(tmp_path)
    settings.STORAGES = {**settings.STORAGES}
    user = zone_user(zones=[balances.south])
    client.force_login(user)

    started = client.post(
        "/pipeline/reports/pipeline-water-loss/",
        {**PERIOD, "zone": str(balances.south.pk)},
        HTTP_HOST=HOSTS[TENANT_B],
    )
    run = ReportRun.objects.get(created_by=user)
    queued = client.get("/pipeline/reports/runs/", HTTP_HOST=HOSTS[TENANT_B]).content.decode()
    tasks.report_generate(schema_name=TENANT_B, job_id=str(run.job_id), run_id=str(run.pk))
    done = client.get("/pipeline/reports/runs/", HTTP_HOST=HOSTS[TENANT_B]).content.decode()
    link = done.split('class="download"')[0].rsplit('href="', 1)[1].split('"', 1)[0]
    download = client.get(link.replace("&amp;", "&"), HTTP_HOST=HOSTS[TENANT_B])

    assert started.status_code == 302
    assert started["Location"] == "/pipeline/reports/"
    assert run.params == {**PERIOD, "zone": str(balances.south.pk)}
    assert "queued" in queued
    assert "succeeded" in done
    assert download.status_code == 200
    path = tmp_path / "download.xlsx"
    path.write_bytes(b"".join(download.streaming_content))
    assert {row[0] for row in _sheet(path, "Daily by zone")[1:]} == {"SOUTH"}


def test_a_report_with_a_bad_period_or_zone_is_not_started(client, balances, zone_user):
    from apps.reports.models import ReportRun

    user = zone_user(zones=[balances.south])
    client.force_login(user)

    backwards = client.post(
        "/pipeline/reports/pipeline-sensor-accuracy/",
        {"date_from": "2026-03-02", "date_to": "2026-03-01"},
        HTTP_HOST=HOSTS[TENANT_B],
    )
    foreign_zone = client.post(
        "/pipeline/reports/pipeline-sensor-accuracy/",
        {**PERIOD, "zone": str(balances.north.pk)},
        HTTP_HOST=HOSTS[TENANT_B],
    )
    unknown = client.post("/pipeline/reports/users/", PERIOD, HTTP_HOST=HOSTS[TENANT_B])

    assert backwards.status_code == 400
    assert "Must not be before date_from." in backwards.content.decode()
    assert foreign_zone.status_code == 400
    assert "Unknown zone." in foreign_zone.content.decode()
    assert unknown.status_code == 404
    assert not ReportRun.objects.filter(created_by=user).exists()


def test_a_user_without_report_permissions_is_offered_none(client, balances, zone_user):
    client.force_login(zone_user(roles=()))

    page = client.get("/pipeline/reports/", HTTP_HOST=HOSTS[TENANT_B])
    start = client.post("/pipeline/reports/pipeline-water-loss/", PERIOD, HTTP_HOST=HOSTS[TENANT_B])

    assert "You may not run any pipeline report" in page.content.decode()
    assert start.status_code == 404
