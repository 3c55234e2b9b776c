"""API messages come in the request's language (`Accept-Language: ru`, or English
without one); error codes are the same in every language.

Each test runs once without the header and once with `ru`, and states both texts.
"""

import re
import uuid
from datetime import timedelta

import pytest
import yaml
from django.utils import timezone
from rest_framework.test import APIClient

from events_face.events.models import Event
from tests.support.factories import bearer, make_event, make_user

pytestmark = pytest.mark.django_db

LANGUAGES = [pytest.param(None, id="no-header"), pytest.param("ru", id="ru")]
PASSWORD = "correct-horse-battery-9"  # make_user's


def header(language: str | None) -> dict[str, str]:
    return {"HTTP_ACCEPT_LANGUAGE": language} if language else {}


def text(language: str | None, *, en: str, ru: str) -> str:
    return ru if language == "ru" else en


def register(client: APIClient, event: Event, language: str | None, **body):
    body = {"full_name": "Ada Lovelace", "email": "ada@example.com", **body}
    return client.post(f"/api/events/{event.id}/register/", body, format="json", **header(language))


# --- 401 -------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_request_without_credentials(api_client, language):
    response = api_client.get("/api/events/", **header(language))

    assert response.status_code == 401
    assert response.json()["error"] == {
        "code": "not_authenticated",
        "message": text(
            language,
            en="Authentication credentials were not provided.",
            ru="Учетные данные не были предоставлены.",
        ),
    }


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_request_with_a_token_that_is_not_one(api_client, language):
    response = api_client.get("/api/events/", HTTP_AUTHORIZATION="Bearer not-a-token", **header(language))

    assert response.status_code == 401
    assert response.json()["error"] == {
        "code": "token_not_valid",
        "message": text(
            language,
            en="Given token not valid for any token type",
            ru="Данный токен недействителен для любого типа токена",
        ),
    }


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_login_with_a_wrong_password(api_client, language):
    make_user("ada")

    response = api_client.post(
        "/api/auth/login", {"username": "ada", "password": "wrong"}, format="json", **header(language)
    )

    assert response.status_code == 401
    assert response.json()["error"] == {
        "code": "no_active_account",
        "message": text(
            language,
            en="No active account found with the given credentials",
            ru="Не найдено активной учетной записи с указанными данными",
        ),
    }


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_refresh_with_a_token_that_is_not_one(api_client, language):
    response = api_client.post(
        "/api/auth/token/refresh/", {"refresh": "garbage"}, format="json", **header(language)
    )

    assert response.status_code == 401
    assert response.json()["error"] == {
        "code": "token_not_valid",
        "message": text(language, en="Token is invalid", ru="Токен недействителен"),
    }


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_refresh_token_used_twice(api_client, language):
    refresh = api_client.post(
        "/api/auth/login", {"username": make_user().username, "password": PASSWORD}, format="json"
    ).json()["refresh"]
    api_client.post("/api/auth/logout", {"refresh": refresh}, format="json")

    response = api_client.post(
        "/api/auth/token/refresh/", {"refresh": refresh}, format="json", **header(language)
    )

    assert response.status_code == 401
    assert response.json()["error"] == {
        "code": "token_not_valid",
        "message": text(language, en="Token is blacklisted", ru="Токен занесён в чёрный список"),
    }


# --- 400 -------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_registration_with_missing_and_malformed_fields(auth_client, language):
    response = auth_client.post(
        f"/api/events/{make_event().id}/register/", {"email": "nope"}, format="json", **header(language)
    )

    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "invalid",
        "message": text(language, en="The request is invalid.", ru="Запрос содержит ошибки."),
        "fields": {
            "full_name": [text(language, en="This field is required.", ru="Обязательное поле.")],
            "email": [
                text(
                    language,
                    en="Enter a valid email address.",
                    ru="Введите правильный адрес электронной почты.",
                )
            ],
        },
    }


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_full_name_with_a_line_break_or_not_a_string(auth_client, language):
    event = make_event()

    line_break = register(auth_client, event, language, full_name="Ada\nLovelace")
    not_text = register(auth_client, event, language, full_name={"first": "Ada"})

    assert line_break.status_code == not_text.status_code == 400
    assert line_break.json()["error"]["fields"] == {
        "full_name": [
            text(
                language,
                en="Must not contain control or invisible formatting characters (U+000A).",
                ru="Не должно содержать управляющих или невидимых символов форматирования (U+000A).",
            )
        ]
    }
    assert not_text.json()["error"]["fields"] == {
        "full_name": [text(language, en="Not a valid string.", ru="Значение должно быть строкой.")]
    }


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_idempotency_key_too_long(auth_client, language):
    response = auth_client.post(
        f"/api/events/{make_event().id}/register/",
        {"full_name": "Ada", "email": "ada@example.com"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k" * 256,
        **header(language),
    )

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "Idempotency-Key": [text(language, en="At most 255 characters.", ru="Не более 255 символов.")]
    }


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_sign_up_with_a_weak_password(api_client, language):
    response = api_client.post(
        "/api/auth/register",
        {"username": "ada", "email": "ada@example.org", "password": "123"},
        format="json",
        **header(language),
    )

    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert response.json()["error"]["code"] == "invalid"
    assert fields["password"][0] == text(
        language,
        en="This password is too short. It must contain at least 8 characters.",
        ru="Введённый пароль слишком короткий. Он должен состоять из как минимум 8 символов.",
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_taken_username(api_client, language):
    make_user("ada")

    response = api_client.post(
        "/api/auth/register",
        {"username": "ADA", "email": "ada@example.org", "password": "analytical-engine-1843"},
        format="json",
        **header(language),
    )

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "username": [
            text(
                language,
                en="A user with this username already exists.",
                ru="Пользователь с таким именем уже существует.",
            )
        ]
    }


@pytest.mark.parametrize("language", LANGUAGES)
def test_bad_filters_of_the_event_list(auth_client, language):
    response = auth_client.get("/api/events/?venue=nope&status=bogus", **header(language))

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "venue": [text(language, en="Must be a valid UUID.", ru="Значение должно быть корректным UUID.")],
        "status": [
            text(
                language,
                en='item 0: "bogus" is not a valid choice. '
                "Valid choices: new, published, registration_closed, finished, cancelled, all.",
                ru='элемент 0: "bogus" — недопустимое значение. '
                "Допустимые значения: new, published, registration_closed, finished, cancelled, all.",
            )
        ],
    }


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_bad_ordering_lists_the_valid_ones(auth_client, language):
    response = auth_client.get("/api/events/?ordering=name", **header(language))

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "ordering": [
            text(
                language,
                en='"name" is not a valid choice. Valid choices: event_time, -event_time.',
                ru='"name" — недопустимое значение. Допустимые значения: event_time, -event_time.',
            )
        ]
    }


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("body", [[], "ada", 1])
def test_a_body_that_is_json_but_not_an_object(api_client, language, body):
    response = api_client.post("/api/auth/login", body, format="json", **header(language))

    assert response.status_code == 400
    kind = type(body).__name__
    assert response.json()["error"]["fields"] == {
        "non_field_errors": [
            text(
                language,
                en=f"Invalid data. Expected a dictionary, but got {kind}.",
                ru=f"Недопустимые данные: ожидался объект JSON, а получен тип {kind}.",
            )
        ]
    }


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_tampered_cursor(auth_client, language):
    response = auth_client.get("/api/events/?cursor=tampered", **header(language))

    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "invalid_cursor",
        "message": text(
            language,
            en="The cursor is malformed; follow the `next` and `previous` links as given.",
            ru="Курсор повреждён; переходите по ссылкам `next` и `previous` без изменений.",
        ),
    }


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_body_that_is_not_json(api_client, language):
    malformed = api_client.post(
        "/api/auth/login", data="{", content_type="application/json", **header(language)
    )
    plain_text = api_client.post("/api/auth/login", data="ada", content_type="text/plain", **header(language))

    assert malformed.status_code == 400
    assert malformed.json()["error"]["code"] == "parse_error"
    # Wholly in the request's language: the decoder's English reason is not in it, its position is.
    assert malformed.json()["error"]["message"] == text(
        language,
        en="The request body is not valid JSON (line 1, column 2).",
        ru="Тело запроса — не корректный JSON (строка 1, столбец 2).",
    )
    assert plain_text.status_code == 415
    assert plain_text.json()["error"] == {
        "code": "unsupported_media_type",
        "message": text(
            language,
            en='Unsupported media type "text/plain" in request.',
            ru='Неподдерживаемый тип данных "text/plain" в запросе.',
        ),
    }


# --- 404 -------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_unknown_event(auth_client, language):
    unknown = uuid.uuid4()

    detail = auth_client.get(f"/api/events/{unknown}/", **header(language))
    registration = auth_client.post(
        f"/api/events/{unknown}/register/",
        {"full_name": "Ada", "email": "ada@example.com"},
        format="json",
        **header(language),
    )

    for response in [detail, registration]:
        assert response.status_code == 404
        assert response.json()["error"] == {
            "code": "not_found",
            "message": text(language, en="No event with this id.", ru="События с таким идентификатором нет."),
        }


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_unknown_api_path(api_client, language):
    response = api_client.get("/api/nowhere/", **header(language))

    assert response.status_code == 404
    assert response.json()["error"] == {
        "code": "not_found",
        "message": text(language, en="Not found.", ru="Не найдено."),
    }


# --- 409 -------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_registration_for_a_closed_event(auth_client, language):
    event = make_event(status=Event.Status.CANCELLED)

    response = register(auth_client, event, language)

    assert response.status_code == 409
    assert response.json()["error"] == {
        "code": "event_closed",
        "message": text(
            language, en="Registration for this event is closed.", ru="Регистрация на это событие закрыта."
        ),
    }


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_registration_after_the_deadline(auth_client, language):
    event = make_event(registration_deadline=timezone.now() - timedelta(minutes=1))

    response = register(auth_client, event, language)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "event_closed"
    assert response.json()["error"]["message"] == text(
        language, en="Registration for this event is closed.", ru="Регистрация на это событие закрыта."
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_second_registration_with_the_same_email(auth_client, language):
    event = make_event()
    register(auth_client, event, None)

    response = register(auth_client, event, language, email="ADA@example.com")

    assert response.status_code == 409
    assert response.json()["error"] == {
        "code": "already_registered",
        "message": text(
            language,
            en="This e-mail address is already registered for this event.",
            ru="Этот адрес электронной почты уже зарегистрирован на это событие.",
        ),
    }


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_registration_for_a_full_event(auth_client, language):
    event = make_event(capacity=1)
    register(auth_client, event, None, email="first@example.com")

    response = register(auth_client, event, language)

    assert response.status_code == 409
    assert response.json()["error"] == {
        "code": "event_full",
        "message": text(language, en="This event has no places left.", ru="На это событие не осталось мест."),
    }


# --- 429 -------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_too_many_login_attempts_say_when_to_try_again(api_client, language):
    attempts = [
        api_client.post(
            "/api/auth/login", {"username": "ada", "password": "wrong"}, format="json", **header(language)
        )
        for _ in range(21)
    ]

    throttled = attempts[-1]
    assert throttled.status_code == 429
    assert throttled.json()["error"]["code"] == "throttled"
    pattern = text(
        language,
        en=r"Too many requests\. Try again in (\d+) seconds?\.",
        ru=r"Слишком много запросов\. Повторите через (\d+) с\.",
    )
    match = re.fullmatch(pattern, throttled.json()["error"]["message"])
    assert match, throttled.json()
    assert match.group(1) == throttled.headers["Retry-After"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_too_many_registrations_say_when_to_try_again(language):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=bearer(make_user()))
    event = make_event()
    responses = [register(client, event, language, email=f"guest{n}@example.com") for n in range(21)]

    throttled = responses[-1]
    assert throttled.status_code == 429
    assert throttled.json()["error"]["code"] == "throttled"
    assert throttled.json()["error"]["message"].startswith(
        text(language, en="Too many requests. Try again in ", ru="Слишком много запросов. Повторите через ")
    )
    assert re.fullmatch(
        text(
            language,
            en=r"Too many requests\. Try again in (\d+) seconds?\.",
            ru=r"Слишком много запросов\. Повторите через (\d+) с\.",
        ),
        throttled.json()["error"]["message"],
    )


# --- choosing the language ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "accept_language, expected",
    [
        ("ru-RU,ru;q=0.9,en;q=0.8", "Учетные данные не были предоставлены."),
        ("de-DE,de;q=0.9", "Authentication credentials were not provided."),
        ("en-GB", "Authentication credentials were not provided."),
        ("fr, ru;q=0.5", "Учетные данные не были предоставлены."),
    ],
)
def test_the_language_is_the_first_of_ours_that_accept_language_names(api_client, accept_language, expected):
    response = api_client.get("/api/events/", HTTP_ACCEPT_LANGUAGE=accept_language)

    assert response.json()["error"]["message"] == expected


def test_answers_say_they_vary_with_accept_language_and_which_language_they_are_in(auth_client):
    make_event()

    for language, expected in [("ru", "ru"), (None, "en")]:
        response = auth_client.get("/api/events/", **header(language))

        assert response.status_code == 200
        assert "Accept-Language" in response.headers["Vary"]
        assert response.headers["Content-Language"] == expected


def test_the_language_comes_from_the_header_not_the_url(auth_client):
    assert auth_client.get("/ru/api/events/").status_code == 404
    assert auth_client.get("/api/events/", HTTP_ACCEPT_LANGUAGE="ru").status_code == 200


# --- the schema ------------------------------------------------------------------------------------


def test_the_schema_is_english_whatever_the_request_asks_and_says_messages_follow_accept_language(api_client):
    english = api_client.get("/api/schema/")
    russian = api_client.get("/api/schema/", HTTP_ACCEPT_LANGUAGE="ru")

    assert english.status_code == russian.status_code == 200
    assert russian.content == english.content
    assert russian.headers["Content-Language"] == "en"
    description = yaml.safe_load(english.content)["info"]["description"]
    assert "Accept-Language" in description and "`code`" in description
