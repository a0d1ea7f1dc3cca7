"""The routes of a pretend hr module, included by tests.tenancy.urls_modules."""

from django.http import HttpRequest, JsonResponse
from django.urls import path

from apps.core.tenancy import current_schema


def ping(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"module": "hr", "schema": current_schema()})


urlpatterns = [path("ping/", ping, name="demo-ping")]
