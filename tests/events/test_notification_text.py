"""The registration notification's text: its language, the event's time in NOTIFICATIONS_TIME_ZONE
with the zone named, plain text only, and the confirmation code last in every language."""

import unicodedata
import uuid
from datetime import UTC, datetime

import pytest
from django.conf import settings as django_settings
from hypothesis import given
from hypothesis import strategies as st

from events_face.events.notifications import (
    NOT_PLAIN_CATEGORIES,
    _plain,
    notification_secrets,
    registration_notification,
)

DECEMBER_4_NOON_UTC = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def message(language: str, *, event_time: datetime = DECEMBER_4_NOON_UTC, **names: str) -> str:
    names = {"full_name": "Ada Lovelace", "event_name": "Compilers", **names}
    return registration_notification(
        notification_id=uuid.uuid4(),
        email="ada@example.com",
        event_time=event_time,
        confirmation_code="196995",
        language=language,
        **names,
    )["message"]


def test_english_in_utc_by_default():
    assert message("en") == (
        "Hello, Ada Lovelace! You are registered for Compilers on 4 December 2026 at 12:00 UTC. "
        "Your confirmation code: 196995"
    )


def test_russian_in_moscow_time(settings):
    settings.NOTIFICATIONS_TIME_ZONE = "Europe/Moscow"

    assert message("ru") == (
        "Здравствуйте, Ada Lovelace! Вы зарегистрированы на событие «Compilers», "
        "4 декабря 2026 г. в 15:00 (MSK). Ваш код подтверждения: 196995"
    )


@pytest.mark.parametrize(
    "zone, event_time, english, russian",
    [
        (
            "UTC",
            datetime(2027, 5, 1, 9, 5, tzinfo=UTC),
            "1 May 2027 at 09:05 UTC",
            "1 мая 2027 г. в 09:05 (UTC)",
        ),
        (
            "Europe/Moscow",
            datetime(2027, 3, 31, 22, 30, tzinfo=UTC),
            "1 April 2027 at 01:30 MSK",
            "1 апреля 2027 г. в 01:30 (MSK)",
        ),
        (
            "Europe/Berlin",
            datetime(2027, 7, 15, 12, tzinfo=UTC),
            "15 July 2027 at 14:00 CEST",
            "15 июля 2027 г. в 14:00 (CEST)",
        ),
        # A zone without an abbreviation of its own is named by its offset.
        (
            "Asia/Almaty",
            DECEMBER_4_NOON_UTC,
            "4 December 2026 at 17:00 UTC+05",
            "4 декабря 2026 г. в 17:00 (UTC+05)",
        ),
    ],
)
def test_the_time_is_shown_in_the_display_zone_and_names_it(settings, zone, event_time, english, russian):
    settings.NOTIFICATIONS_TIME_ZONE = zone

    assert english in message("en", event_time=event_time)
    assert russian in message("ru", event_time=event_time)


@pytest.mark.parametrize("language", [code for code, _name in django_settings.LANGUAGES])
def test_in_every_language_the_code_is_the_last_word_so_the_sender_can_keep_it_out_of_logs(language):
    text = message(language)

    assert text.split()[-1] == "196995"
    assert notification_secrets({"message": text}) == [text, "196995"]


@pytest.mark.parametrize("language", [code for code, _name in django_settings.LANGUAGES])
def test_the_text_is_plain_even_when_the_event_name_is_not(language):
    # An event name comes from the provider as it is: line breaks, a bidi override, a zero-width space.
    text = message(language, event_name="Compilers\r\nPAID\u202eyadot\u200b now", full_name="Ada Lovelace")

    assert not [c for c in text if unicodedata.category(c) in NOT_PLAIN_CATEGORIES]
    assert "Compilers PAID yadot now" in text
    assert "<" not in text and ">" not in text  # our own words carry no markup


@given(st.text(alphabet=st.characters(codec="ascii")) | st.text())
def test_the_short_way_for_plain_ascii_makes_the_same_text(text):
    """`_plain` answers printable ASCII without looking up each character's category."""
    by_category = " ".join(
        "".join(" " if unicodedata.category(c) in NOT_PLAIN_CATEGORIES else c for c in text).split()
    )
    assert _plain(text) == by_category
