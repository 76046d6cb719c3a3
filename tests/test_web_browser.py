"""The web pages in a real headless Chromium: API docs that work offline, and session login."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from urllib.parse import urlparse

import pytest

from tests.conftest import PASSWORD, make_user
from tests.services import needs_service

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    needs_service("Chromium", shutil.which("chromium") is not None)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread; the ORM calls in
    # these tests are still plain synchronous code, so tell Django that is intended.
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "1")
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server) -> Iterator[object]:
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.requested_hosts = set()
    page.on("request", lambda request: page.requested_hosts.add(urlparse(request.url).hostname))
    yield page
    context.close()


@pytest.mark.django_db(transaction=True)
def test_api_docs_render_every_endpoint_without_leaving_this_machine(page):
    page.goto("/api/v1/docs/")
    page.wait_for_selector(".opblock", timeout=15_000)

    paths = page.locator(".opblock-summary-path").all_inner_texts()
    for expected in (
        "/api/v1/pain-logs/",
        "/api/v1/workouts/",
        "/api/v1/plan/",
        "/api/v1/patients/",
    ):
        assert any(path.replace("\u200b", "") == expected for path in paths), expected
    # Swagger UI's scripts and styles are served by Rebound itself: nothing from outside.
    assert page.requested_hosts <= {"localhost", "127.0.0.1"}


@pytest.mark.django_db(transaction=True)
def test_patient_signs_in_with_the_web_form(page):
    make_user("web@example.test", name="Wendy Web")

    page.goto("/accounts/login/")
    page.fill("input[name=username]", "web@example.test")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")

    page.wait_for_url("**/")
    assert "Wendy Web" in page.inner_text("header")
    assert "signed in as a patient" in page.inner_text("main")


@pytest.mark.django_db(transaction=True)
def test_wrong_password_keeps_the_visitor_signed_out(page):
    make_user("web@example.test", name="Wendy Web")

    page.goto("/accounts/login/")
    page.fill("input[name=username]", "web@example.test")
    page.fill("input[name=password]", "not-the-password")
    page.click("button[type=submit]")

    assert "enter a correct email" in page.inner_text("main").lower()
    assert "Sign in" in page.inner_text("header")
