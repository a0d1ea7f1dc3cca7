"""Writes for HR, one module per sub-domain; people's services keep their old import path."""

from apps.hr.services.people import *  # noqa: F403
from apps.hr.services.people import _lock_tree  # noqa: F401 - shared by the sub-domains
