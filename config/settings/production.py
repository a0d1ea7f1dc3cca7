from config.settings.base import *  # noqa: F403
from config.settings.base import env

DEBUG = False
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=True)
CSRF_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Behind PgBouncer in transaction mode, server-side cursors and persistent
# connections must be off.
DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env.bool(  # noqa: F405
    "DJANGO_BEHIND_PGBOUNCER", default=False
)
