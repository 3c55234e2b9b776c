"""Every page carries the Content-Security-Policy; the docs page needs no inline script for it.

That the admin and Swagger UI really work under it is shown in a browser: tests/browser/.
"""

import re

import pytest

pytestmark = pytest.mark.django_db


def policy_of(response) -> dict[str, str]:
    header = response.headers["Content-Security-Policy"]
    return dict(directive.strip().split(" ", 1) for directive in header.split(";"))


@pytest.mark.parametrize("path", ["/api/docs/", "/admin/login/", "/api/health/"])
def test_pages_carry_a_policy_that_allows_this_origin_only(client, path):
    policy = policy_of(client.get(path))

    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert policy["object-src"] == "'none'"
    assert "unsafe" not in " ".join(policy.values())
    assert "http" not in " ".join(policy.values())


def test_the_docs_page_has_no_inline_script_and_its_style_carries_the_nonce(client):
    response = client.get("/api/docs/")

    html = response.content.decode()
    nonce = re.search(r"'nonce-([^']+)'", policy_of(response)["style-src"]).group(1)
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    assert f'<style nonce="{nonce}">' in html


def test_the_docs_start_script_is_a_file(client):
    response = client.get("/api/docs/?script=")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle(" in response.content
