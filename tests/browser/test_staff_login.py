"""A staff member signs in on their tenant's host and lands on that tenant's home page."""

from __future__ import annotations

import pytest

from tests.personas import PASSWORD

pytestmark = pytest.mark.django_db


def _sign_in(page, base: str, *, password: str) -> None:
    page.goto(f"{base}/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", password)
    page.click("button[type=submit]")


def test_staff_member_signs_in_and_sees_their_tenant(page, asgi_server):
    base = f"http://alpha.localhost:{asgi_server.port}"

    _sign_in(page, base, password=PASSWORD)

    page.wait_for_url(f"{base}/")
    assert page.locator("h1").inner_text() == "Tenant alpha"
    assert "Signed in as admin." in page.locator("main").inner_text()


def test_wrong_password_stays_on_the_sign_in_page(page, asgi_server):
    base = f"http://alpha.localhost:{asgi_server.port}"

    _sign_in(page, base, password="not-the-password")

    assert page.url.startswith(f"{base}/accounts/login/")
    assert "Please enter a correct username and password" in page.content()


def test_signed_in_on_one_tenant_is_anonymous_on_another(page, asgi_server):
    alpha = f"http://alpha.localhost:{asgi_server.port}"
    beta = f"http://beta.localhost:{asgi_server.port}"
    _sign_in(page, alpha, password=PASSWORD)
    page.wait_for_url(f"{alpha}/")

    page.goto(f"{beta}/")

    assert page.url.startswith(f"{beta}/accounts/login/")
