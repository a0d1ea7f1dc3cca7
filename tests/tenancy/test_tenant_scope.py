"""Everything stored outside the tenant's schema still carries the schema: cache keys,
uploaded files, log lines, and the helpers that enter a schema fail closed."""

import logging

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from apps.accounts.models import User
from apps.core import tenancy
from apps.core.errors import TenantContextMissingError
from tests.personas import TENANT_A, TENANT_B

pytestmark = pytest.mark.django_db


# --- cache ----------------------------------------------------------------------------------


def test_cache_keys_start_with_the_schema():
    prefix = django_settings.CACHES["default"]["KEY_PREFIX"]

    with tenancy.in_tenant(TENANT_A):
        key = cache.make_key("dashboard:7")

    assert key == f"{TENANT_A}:{prefix}:1:dashboard:7"


def test_cache_value_set_in_one_tenant_is_not_seen_by_another():
    with tenancy.in_tenant(TENANT_A):
        cache.set("dashboard:7", "alpha's numbers")

    with tenancy.in_tenant(TENANT_B):
        seen_by_beta = cache.get("dashboard:7")
    with tenancy.in_public():
        seen_by_public = cache.get("dashboard:7")
    with tenancy.in_tenant(TENANT_A):
        seen_by_alpha = cache.get("dashboard:7")

    assert (seen_by_beta, seen_by_public) == (None, None)
    assert seen_by_alpha == "alpha's numbers"


def test_tenant_key_carries_the_schema():
    with tenancy.in_tenant(TENANT_B):
        key = tenancy.tenant_key("dashboard", 7)

    assert key == f"{TENANT_B}:dashboard:7"


def test_tenant_key_fails_closed_in_public():
    with tenancy.in_public(), pytest.raises(TenantContextMissingError):
        tenancy.tenant_key("dashboard", 7)


# --- files ----------------------------------------------------------------------------------


@pytest.mark.parametrize("schema_name", [TENANT_A, TENANT_B])
def test_uploads_land_under_the_schema_directory(settings, tmp_path, schema_name):
    settings.MEDIA_ROOT = str(tmp_path)

    with tenancy.in_tenant(schema_name):
        name = default_storage.save("notes/hello.txt", ContentFile(b"hello"))
        url = default_storage.url(name)

    assert name == "notes/hello.txt"
    assert url == f"/media/{schema_name}/notes/hello.txt"
    assert (tmp_path / schema_name / "notes" / "hello.txt").read_bytes() == b"hello"
    assert [path.name for path in tmp_path.iterdir()] == [schema_name]


def test_upload_of_one_tenant_is_not_seen_by_another(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    with tenancy.in_tenant(TENANT_A):
        default_storage.save("notes/hello.txt", ContentFile(b"hello"))

    with tenancy.in_tenant(TENANT_B):
        seen_by_beta = default_storage.exists("notes/hello.txt")
        listed_by_beta = default_storage.listdir("notes")

    assert seen_by_beta is False
    assert listed_by_beta == ([], [])


def test_storage_refuses_to_work_in_public(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)

    with tenancy.in_public(), pytest.raises(TenantContextMissingError):
        default_storage.save("notes/hello.txt", ContentFile(b"hello"))

    assert list(tmp_path.iterdir()) == []


# --- entering a schema ----------------------------------------------------------------------


@pytest.mark.parametrize("schema_name", [None, "", "public"])
def test_in_tenant_fails_closed(schema_name):
    with pytest.raises(TenantContextMissingError) as raised:  # noqa: SIM117
        with tenancy.in_tenant(schema_name):
            pytest.fail("the block must not run")

    assert raised.value.code == "tenant_context_missing"
    assert tenancy.current_schema() == "public"


def test_in_tenant_fails_closed_without_leaving_the_current_tenant():
    with tenancy.in_tenant(TENANT_A):
        with pytest.raises(TenantContextMissingError):  # noqa: SIM117
            with tenancy.in_tenant(None):
                pytest.fail("the block must not run")
        schema_after = tenancy.current_schema()

    assert schema_after == TENANT_A


def test_in_tenant_fails_closed_for_a_schema_that_does_not_exist():
    with tenancy.in_public():
        User.objects.create_superuser(username="operator-test", password="x")

    with pytest.raises(TenantContextMissingError):  # noqa: SIM117
        with tenancy.in_tenant("no_such_schema"):
            User.objects.count()


def test_require_tenant_schema_fails_closed_in_public():
    with tenancy.in_public(), pytest.raises(TenantContextMissingError):
        tenancy.require_tenant_schema()


# --- logs -----------------------------------------------------------------------------------


def test_log_records_carry_the_schema(caplog):
    caplog.handler.addFilter(tenancy.TenantLogFilter())
    logger = logging.getLogger("tenantry.tests")

    with caplog.at_level(logging.INFO, logger="tenantry.tests"):
        logger.info("from public")
        with tenancy.in_tenant(TENANT_A):
            logger.info("from alpha")
        with tenancy.in_tenant(TENANT_B):
            logger.info("from beta")

    assert [(record.getMessage(), record.schema_name) for record in caplog.records] == [
        ("from public", "public"),
        ("from alpha", TENANT_A),
        ("from beta", TENANT_B),
    ]


def test_configured_console_handler_writes_the_schema():
    handler = next(
        handler
        for handler in logging.getLogger().handlers
        if any(isinstance(f, tenancy.TenantLogFilter) for f in handler.filters)
    )
    record = logging.LogRecord("tenantry.tests", logging.INFO, __file__, 1, "hello", None, None)

    with tenancy.in_tenant(TENANT_B):
        handler.filter(record)
    line = handler.format(record)

    assert line.endswith(f" INFO [{TENANT_B}] tenantry.tests: hello")
