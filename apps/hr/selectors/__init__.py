"""Reads for HR, one module per sub-domain; people's selectors keep their old import path."""

from apps.hr.selectors.people import *  # noqa: F403
