"""The admin carries the product's name and follows the browser's language (Accept-Language)."""

from datetime import UTC, datetime

import pytest

from tests.support.factories import make_event, make_sync_run

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
    [
        ({}, "Catalogue, registrations and deliveries"),
        ({"HTTP_ACCEPT_LANGUAGE": "ru"}, "Каталог, регистрации и рассылка"),
    ],
)
def test_the_index_page_has_the_product_name(staff_client, headers, heading):
    page = staff_client.get("/admin/", **headers).content.decode()

    assert f"<h1>{heading}</h1>" in page
    assert "Django administration" not in page and "Администрирование Django" not in page


@pytest.mark.parametrize(
    "headers, names",
    [
        (
            {},
            [
                "Events",
                "Venues",
                "Registrations",
                "Outbox",
                "Outbox messages",
                "Sync",
                "Sync runs",
                "Skipped provider records",
            ],
        ),
        (
            {"HTTP_ACCEPT_LANGUAGE": "ru"},
            [
                "События",
                "Места проведения",
                "Регистрации",
                "Исходящие сообщения",
                "Синхронизация",
                "Запуски синхронизации",
                "Пропущенные записи поставщика",
            ],
        ),
    ],
)
def test_the_index_names_apps_and_models_in_the_browser_language(staff_client, headers, names):
    page = staff_client.get("/admin/", **headers).content.decode()

    for name in names:
        assert f">{name}<" in page, name


def test_a_russian_event_list_has_russian_columns_statuses_and_times_with_their_zone(staff_client):
    make_event(name="Compilers", event_time=datetime(2026, 12, 4, 12, 0, tzinfo=UTC))

    page = staff_client.get("/admin/events/event/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()

    for column in ["Название", "Время события", "Статус", "Место проведения", "Вместимость"]:
        assert column in page, column
    assert "Опубликовано" in page
    assert "4 декабря 2026 г. 12:00 UTC" in page


def test_an_english_event_list_shows_times_with_their_zone(staff_client):
    make_event(name="Compilers", event_time=datetime(2026, 12, 4, 12, 0, tzinfo=UTC))

    page = staff_client.get("/admin/events/event/").content.decode()

    assert "Dec. 4, 2026, noon UTC" in page
    assert "Published" in page


def test_a_russian_sync_run_page_translates_its_help_texts_and_choices(staff_client):
    run = make_sync_run()

    page = staff_client.get(
        f"/admin/sync/syncrun/{run.pk}/change/", HTTP_ACCEPT_LANGUAGE="ru"
    ).content.decode()

    assert "Записей поставщика, пропущенных как некорректные." in page
    assert "Режим" in page
