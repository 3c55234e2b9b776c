"""`/`, the address the server's banner prints and the admin's "View site" opens, is a small page
linking to the API docs, the admin and the health check, in the browser's language, under the CSP."""

import re

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize(
    "headers, docs, admin, health",
    [
        ({}, "API documentation", "Administration", "Health check"),
        (
            {"HTTP_ACCEPT_LANGUAGE": "ru"},
            "Документация API",
            "Администрирование",
            "Проверка работоспособности",
        ),
    ],
)
def test_the_root_url_links_to_the_docs_the_admin_and_the_health_check(
    client, settings, debug, headers, docs, admin, health
):
    settings.DEBUG = debug

    response = client.get("/", **headers)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    # The API's paths answer with and without the trailing slash.
    assert re.search(f'<a href="/api/docs/?">{docs}</a>', page)
    assert re.search(f'<a href="/admin/">{admin}</a>', page)
    assert re.search(f'<a href="/api/health/?">{health}</a>', page)
    for path in re.findall(r'href="([^"]+)"', page):
        assert client.get(path, **headers).status_code in (200, 302), path


def test_the_root_page_runs_no_script_and_its_style_carries_the_nonce(client):
    response = client.get("/")

    page = response.content.decode()
    assert "<script" not in page
    nonce = re.search(r"<style nonce=\"([^\"]+)\">", page).group(1)
    assert f"'nonce-{nonce}'" in response["Content-Security-Policy"]
    assert "script-src 'self';" in response["Content-Security-Policy"] + ";"


def test_the_admin_view_site_link_leads_to_the_root_page(staff_client):
    admin_page = staff_client.get("/admin/").content.decode()

    assert '<a href="/">' in admin_page
    assert staff_client.get("/").status_code == 200
