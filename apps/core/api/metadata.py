from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rest_framework.metadata import SimpleMetadata

if TYPE_CHECKING:
    # Only for annotations: rest_framework.views imports this module while loading.
    from rest_framework.request import Request
    from rest_framework.views import APIView


class EndpointMetadata(SimpleMetadata):
    """OPTIONS answers: name, description, media types. Request and response shapes live
    in the OpenAPI document (/api/schema/), not in per-view introspection."""

    def determine_metadata(self, request: Request, view: APIView) -> dict[str, Any]:
        metadata = super().determine_metadata(request, view)
        metadata.pop("actions", None)
        return metadata

    def determine_actions(self, request: Request, view: APIView) -> dict[str, Any]:
        return {}
