"""The admin carries the product's name and follows the browser's language (Accept-Language)."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "headers, title, log_in",
    [
        ({}, "Events Face administration", "Log in"),
        ({"HTTP_ACCEPT_LANGUAGE": "ru-RU,ru;q=0.9"}, "Администрирование Events Face", "Войти"),
    ],
)
def test_the_login_page_has_the_product_name_in_the_browser_language(client, headers, title, log_in):
    page = client.get("/admin/login/", **headers).content.decode()

    assert f"<title>{log_in} | {title}</title>" in page
    assert title in page and log_in in page
    assert "Django" not in page


@pytest.mark.parametrize(
    "headers, heading",
    [({}, "Catalogue, registrations and deliveries"), ({"HTTP_ACCEPT_LANGUAGE": "ru"}, "Каталог, регистрации и рассылка")],
)
def test_the_index_page_has_the_product_name(staff_client, headers, heading):
    page = staff_client.get("/admin/", **headers).content.decode()

    assert f"<h1>{heading}</h1>" in page
    assert "Django administration" not in page and "Администрирование Django" not in page
