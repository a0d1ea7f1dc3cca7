import os

# A development-only key; production.py has no default and refuses to start without one.
os.environ.setdefault("DJANGO_SECRET_KEY", "dev-only-secret-key-tenantry-local-0123456789abcdef")
os.environ.setdefault("DJANGO_DEBUG", "true")

from config.settings.base import *  # noqa: E402, F403
