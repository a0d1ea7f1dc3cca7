"""HR API views, one module per sub-domain; people's views keep their old import path."""

from apps.hr.apis.people import *  # noqa: F403
