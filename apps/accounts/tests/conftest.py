"""Helpers for the accounts tests; the tenants and personas come from tests.fixtures."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.personas import HOSTS, PASSWORD


def error_code(response: Any) -> str:
    return response.json()["error"]["code"]


def actor_of(schema_name: str, name: str):
    """The Actor of persona ``name`` in ``schema_name``, as the API would build it."""
    from apps.accounts.selectors import actor_for_user
    from apps.core.tenancy import in_tenant
    from tests.fixtures import persona

    with in_tenant(schema_name):
        return actor_for_user(user=persona(schema_name, name))


@pytest.fixture
def web_client() -> Callable:
    """``web_client(TENANT_A)``: a Django test Client on that tenant's host (sessions)."""
    from django.test import Client

    def make(schema_name: str) -> Client:
        return Client(HTTP_HOST=HOSTS[schema_name])

    return make


@pytest.fixture
def token_pair() -> Callable:
    """``token_pair(TENANT_A, "admin")``: access and refresh from the real login endpoint."""
    from rest_framework.test import APIClient

    def issue(schema_name: str, name: str) -> dict[str, str]:
        response = APIClient(HTTP_HOST=HOSTS[schema_name]).post(
            "/api/v1/auth/token/", {"username": name, "password": PASSWORD}, format="json"
        )
        assert response.status_code == 200, response.content
        return response.json()

    return issue
