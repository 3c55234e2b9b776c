"""The admin in a real browser (Debian's headless Chromium): a Russian browser gets the login
page, and the admin behind it, in Russian under the product's name; an English one in English."""

import pytest

from tests.support.factories import make_staff_user

pytestmark = pytest.mark.django_db(transaction=True)

STAFF_PASSWORD = "pw-for-tests-1"  # make_staff_user's


@pytest.fixture
def staff_user():
    return make_staff_user()


@pytest.mark.parametrize(
    "locale, title, log_in, username_label, index_heading",
    [
        (
            "ru-RU",
            "Администрирование Events Face",
            "Войти",
            "Имя пользователя:",
            "Каталог, регистрации и рассылка",
        ),
        (
            "en-US",
            "Events Face administration",
            "Log in",
            "Username:",
            "Catalogue, registrations and deliveries",
        ),
    ],
)
def test_the_admin_speaks_the_browser_language_under_the_product_name(
    live_server, staff_user, chromium, locale, title, log_in, username_label, index_heading
):
    # The context's locale sets the Accept-Language header the browser sends.
    context = chromium.new_context(locale=locale)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/admin/")

        assert page.title() == f"{log_in} | {title}"
        assert page.locator("#site-name").inner_text() == title
        assert page.locator("label[for=id_username]").inner_text() == username_label
        assert page.locator("input[type=submit]").get_attribute("value") == log_in

        page.fill("#id_username", staff_user.username)
        page.fill("#id_password", STAFF_PASSWORD)
        page.click("input[type=submit]")
        page.wait_for_url(f"{live_server.url}/admin/")

        assert page.locator("#content h1").inner_text() == index_heading
        assert page.locator("#site-name").inner_text() == title
    finally:
        context.close()
