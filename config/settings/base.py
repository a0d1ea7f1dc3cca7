"""Settings shared by every environment.

Configuration comes from environment variables (django-environ). `config.devstack`
sets DATABASE_URL / REDIS_URL to embedded servers when the developer has none.
"""

import os
from pathlib import Path
from urllib.parse import unquote

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set (local and test settings set one).")

# Tenant hosts are `<name>.<TENANTRY_BASE_DOMAIN>`; the bare base domain is the operators' host.
TENANTRY_BASE_DOMAIN = env.str("TENANTRY_BASE_DOMAIN", default="localhost")
ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS", default=[TENANTRY_BASE_DOMAIN, f".{TENANTRY_BASE_DOMAIN}"]
)

# --- Applications ---------------------------------------------------------------------------
# Public schema: the platform (tenants, domains, module switches) and the operators.
SHARED_APPS = [
    # apps.tenants comes first so that its create_tenant command wins over django-tenants'
    # (which would skip the clone and the first admin); django_tenants must still come
    # before django.contrib so its schema-aware migrate replaces Django's.
    "apps.tenants",
    "django_tenants",
    # accounts, auth, contenttypes, sessions, admin and the token blacklist sit in both lists:
    # in public they hold operators and their sessions; in a tenant schema, that
    # business's users. No user row is ever shared between schemas.
    "apps.accounts",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.admin",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "auditlog",
    "django_celery_beat",
    "channels",
    "apps.core",
    "apps.realtime",
]
# Tenant schema: the business, its users, roles and records.
TENANT_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.admin",
    "rest_framework_simplejwt.token_blacklist",
    "auditlog",
    "apps.accounts",
    "apps.core",
    "apps.jobs",
    "apps.notifications",
    "apps.schedules",
    "apps.reports",
    "apps.hr",
    "apps.pipeline",
]
INSTALLED_APPS = list(SHARED_APPS) + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "tenants.Tenant"
TENANT_DOMAIN_MODEL = "tenants.Domain"
# New tenants are cloned from this migrated template schema instead of being migrated.
TENANT_BASE_SCHEMA = "tenant_template"
TENANT_CREATION_FAKES_MIGRATIONS = True
# Issue `SET search_path` only when the schema actually changes (once per request).
TENANT_LIMIT_SET_CALLS = True
PUBLIC_SCHEMA_URLCONF = "config.urls_public"
ROOT_URLCONF = "config.urls_tenant"
DATABASE_ROUTERS = ("django_tenants.routers.TenantSyncRouter",)

MIDDLEWARE = [
    "apps.core.middleware.TenantRoutingMiddleware",
    "apps.core.middleware.ApiErrorShapeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "auditlog.middleware.AuditlogMiddleware",
    "apps.core.idempotency.IdempotencyMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

# --- Database --------------------------------------------------------------------------------
DATABASE_URL = env.str("DATABASE_URL", default="")
if not DATABASE_URL:
    raise ImproperlyConfigured(
        "DATABASE_URL is not set. `make run` / `make test` start an embedded PostgreSQL and set it."
    )
DATABASES = {"default": env.db_url_config(DATABASE_URL)}
# A unix-socket directory arrives percent-encoded in the host part (postgres://u@%2Frun%2Fpg/db).
DATABASES["default"]["HOST"] = unquote(DATABASES["default"].get("HOST") or "")
DATABASES["default"]["ENGINE"] = "django_tenants.postgresql_backend"
# Under ASGI each request runs in its own thread context, so a persistent connection
# (CONN_MAX_AGE) is never reused: every request connected afresh (bench/request_overhead.py).
# A psycopg pool per process fixes that; config/asgi.py turns it on for the web server.
# It stays off elsewhere: a pool's threads do not survive fork(), so forking processes
# (django-tenants' multiprocessing migrate executor, Celery's prefork workers) would hang
# on a pool inherited from their parent. Behind PgBouncer it is off and PgBouncer pools.
_pool_default = os.environ.get("TENANTRY_ASGI") == "1" and not env.bool(
    "DJANGO_BEHIND_PGBOUNCER", default=False
)
if env.bool("DJANGO_DB_POOL", default=_pool_default):
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env.int("DJANGO_DB_POOL_MIN", default=2),
        "max_size": env.int("DJANGO_DB_POOL_MAX", default=10),
        "timeout": 10,
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (Redis) ---------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if not REDIS_URL:
    raise ImproperlyConfigured(
        "REDIS_URL is not set. `make run` / `make test` start an embedded Redis and set it."
    )
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        # Every key is prefixed with the current schema, so tenant A never reads tenant B's.
        "KEY_FUNCTION": "apps.core.tenancy.tenant_cache_key",
        "KEY_PREFIX": env.str("TENANTRY_CACHE_PREFIX", default="tenantry"),
        "TIMEOUT": 300,
        "OPTIONS": {"pool_class": "apps.core.cache.SharedConnectionPool"},
    }
}

# --- Auth --------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["apps.accounts.backends.RoleBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"
SESSION_COOKIE_NAME = "tenantry_session"
CSRF_COOKIE_NAME = "tenantry_csrftoken"

# --- I18N ----------------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Files -------------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Served by WhiteNoise; in development straight from the apps' static folders.
WHITENOISE_USE_FINDERS = DEBUG
MEDIA_ROOT = env.path("DJANGO_MEDIA_ROOT", default=BASE_DIR / ".data" / "media")
MEDIA_URL = "/media/"
# Uploaded files land under MEDIA_ROOT/<schema_name>/ (django-tenants' tenant storage).
MULTITENANT_RELATIVE_MEDIA_ROOT = "%s"
STORAGES = {
    "default": {"BACKEND": "apps.core.tenancy.TenantFileStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Bodies above this are refused with 413 before any view parses them.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("TENANTRY_MAX_BODY_BYTES", default=1_048_576)

from config.settings.components.celery import *  # noqa: E402, F403
from config.settings.components.channels import *  # noqa: E402, F403
from config.settings.components.drf import *  # noqa: E402, F403
from config.settings.components.logging import *  # noqa: E402, F403
from config.settings.components.tenantry import *  # noqa: E402, F403
