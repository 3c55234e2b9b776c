"""Under the Content-Security-Policy, Swagger UI and the admin work in a real browser, and break no rule of it."""

import re

import pytest

from tests.support.factories import make_event

pytestmark = pytest.mark.django_db(transaction=True)

ADMIN_PASSWORD = "browser-admin-password-1"


def assert_strict_policy(response):
    """The page came with the CSP: own origin only, no inline script, no eval."""
    policy = response.headers.get("content-security-policy", "")
    assert "default-src 'self'" in policy
    script_src = re.search(r"script-src ([^;]*)", policy).group(1)
    assert script_src == "'self'"


def test_the_docs_page_lists_every_operation_and_runs_one(browser_page):
    page = browser_page.page

    response = page.goto("/api/docs/")
    page.locator(".opblock").first.wait_for()

    assert_strict_policy(response)
    assert page.locator(".opblock").count() >= 10
    assert page.locator(".opblock-summary-path", has_text="/api/auth/login").count() >= 1
    # Try it out: Swagger UI's own request goes through (connect-src) and its answer shows.
    health = page.locator(".opblock", has=page.locator(".opblock-summary-path", has_text="/api/health/"))
    health.locator(".opblock-summary").first.click()
    health.get_by_role("button", name="Try it out").click()
    health.get_by_role("button", name="Execute").click()
    status = health.locator(".live-responses-table tbody .response-col_status").first
    status.wait_for()
    assert status.inner_text().strip() == "200"
    assert browser_page.problems == []


def test_the_admin_logs_in_lists_events_and_saves_a_capacity(browser_page, django_user_model):
    django_user_model.objects.create_superuser("admin", "admin@example.com", ADMIN_PASSWORD)
    event = make_event(name="Browser Workshop")
    page = browser_page.page

    login = page.goto("/admin/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", ADMIN_PASSWORD)
    page.click("input[type=submit]")
    page.get_by_text("Catalogue, registrations and deliveries").wait_for()
    change_list = page.goto("/admin/events/event/")
    page.locator("#result_list").wait_for()

    assert_strict_policy(login)
    assert_strict_policy(change_list)
    assert page.locator("#result_list tbody tr").count() == 1
    assert "Browser Workshop" in page.locator("#result_list").inner_text()
    page.get_by_role("link", name="Browser Workshop").click()
    page.fill("#id_capacity", "25")
    page.click("input[name=_save]")
    page.locator(".messagelist .success").wait_for()
    event.refresh_from_db()
    assert event.capacity == 25
    assert browser_page.problems == []
