"""The root page in a real browser: no CSP violation, no console error, and its links lead on."""

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_root_page_shows_under_the_csp_and_leads_to_the_docs(browser_page):
    page = browser_page.page

    response = page.goto("/")

    assert response.status == 200
    assert page.get_by_role("link", name="Health check").count() == 1
    page.get_by_role("link", name="API documentation").click()
    page.locator(".opblock").first.wait_for()
    assert browser_page.problems == []
