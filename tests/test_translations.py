"""The Russian catalogue: complete, current with the source, compiled from what is committed,
and covering the library messages the API can send.

`locale/ru/LC_MESSAGES/django.po` and its `.mo` are committed (`make messages`
regenerates both), so running the service needs no gettext. The check that the
catalogue is current runs `makemessages` on a copy of the source, which needs
GNU gettext: without it the test is skipped locally and fails in CI.
"""

import os
import re
import shutil
import subprocess
import sys

import polib
import pytest
from django.utils import translation
from django.utils.translation import gettext
from rest_framework import exceptions
from rest_framework.fields import ListField
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer

from events_face.accounts.apis import (
    LoginSerializer,
    RefreshInputSerializer,
    RefreshSerializer,
    RegisterInputSerializer,
)
from events_face.core.library_messages import MESSAGES
from events_face.events.serializers import EventListFilterSerializer, RegistrationInputSerializer
from tests.support.processes import PROJECT_DIR

CATALOGUE = PROJECT_DIR / "locale" / "ru" / "LC_MESSAGES"
PO = CATALOGUE / "django.po"
MO = CATALOGUE / "django.mo"


def key(entry: polib.POEntry | polib.MOEntry) -> tuple[str | None, str, str]:
    return entry.msgctxt, entry.msgid, entry.msgid_plural or ""


def label(keys) -> list[str]:
    return sorted(f"{context + ': ' if context else ''}{msgid!r}" for context, msgid, _plural in keys)


def test_every_message_of_the_catalogue_is_translated_and_none_is_fuzzy():
    catalogue = polib.pofile(str(PO))

    assert not label(map(key, catalogue.untranslated_entries())), (
        "untranslated: run `make messages`, then translate"
    )
    assert not label(map(key, catalogue.fuzzy_entries())), (
        "fuzzy: check each translation and drop its fuzzy flag"
    )
    assert not catalogue.metadata_is_fuzzy
    assert catalogue.metadata["Language"] == "ru"


PLACEHOLDER = re.compile(r"%\(\w+\)\w|\{[^{}]*\}")


def test_every_translation_keeps_the_placeholders_of_its_message():
    for entry in polib.pofile(str(PO)).translated_entries():
        if entry.msgctxt == "notification date":
            continue  # a date format, not a sentence
        # A plural message: every form keeps them (the placeholders of msgid and msgid_plural are one set).
        forms = entry.msgstr_plural.values() if entry.msgid_plural else [entry.msgstr]
        for form in forms:
            assert sorted(PLACEHOLDER.findall(form)) == sorted(PLACEHOLDER.findall(entry.msgid)), entry.msgid


def test_the_compiled_catalogue_is_the_committed_one_compiled():
    # Content, not modification times: a fresh clone gives every file the same time.
    def table(catalogue) -> dict:
        return {
            key(entry): (entry.msgstr, sorted(entry.msgstr_plural.items()))
            for entry in catalogue
            if entry.msgid and not entry.obsolete
        }

    source = table(entry for entry in polib.pofile(str(PO)) if entry.translated())
    compiled = table(polib.mofile(str(MO)))

    assert compiled == source, "django.mo is stale: run `make messages` (or compilemessages) and commit it"


def test_the_catalogue_holds_exactly_the_messages_the_source_marks(tmp_path):
    if shutil.which("xgettext") is None or shutil.which("msgmerge") is None:
        if os.environ.get("CI"):
            pytest.fail(
                "CI needs GNU gettext (apt-get install gettext) to check the catalogue against the source"
            )
        pytest.skip("GNU gettext is not installed (`make messages` installs it)")
    copy = tmp_path / "project"
    shutil.copytree(
        PROJECT_DIR / "events_face", copy / "events_face", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copytree(PROJECT_DIR / "locale", copy / "locale")
    shutil.copy(PROJECT_DIR / "manage.py", copy)
    # The copy has no .env; its settings must not read the project's.
    environment = {
        name: value for name, value in os.environ.items() if name not in {"LANGUAGE_CODE", "DATABASE_URL"}
    }

    result = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "ru", "--no-obsolete", "--add-location", "file"],
        cwd=copy,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    committed = {key(entry) for entry in polib.pofile(str(PO)) if not entry.obsolete}
    regenerated = {
        key(entry)
        for entry in polib.pofile(str(copy / "locale/ru/LC_MESSAGES/django.po"))
        if not entry.obsolete
    }
    assert not label(regenerated - committed), (
        "messages in the source but not in django.po: run `make messages`"
    )
    assert not label(committed - regenerated), (
        "messages in django.po no longer in the source: run `make messages`"
    )


# --- the libraries' messages ----------------------------------------------------------------------


def _field_messages(field) -> list:
    messages = list(field.error_messages.values())
    messages += [validator.message for validator in field.validators if hasattr(validator, "message")]
    if isinstance(field, ListField):
        messages += _field_messages(field.child)
    return messages


def library_messages() -> list[str]:
    """What DRF, Django and SimpleJWT can say through our API, in the active language: the error
    messages of every input field we declare, the exceptions the handler passes on, the token
    messages. Fields are built anew each time, as for each request (DRF's formatted messages
    keep the text of their first use)."""
    messages = [gettext(message) for message in MESSAGES]
    for serializer_class in [
        RegisterInputSerializer,
        LoginSerializer,
        RefreshSerializer,
        RefreshInputSerializer,
        RegistrationInputSerializer,
        EventListFilterSerializer,
    ]:
        for field in serializer_class().fields.values():
            messages += _field_messages(field)
    messages += [
        exception.default_detail
        for exception in [
            exceptions.ParseError,
            exceptions.AuthenticationFailed,
            exceptions.NotAuthenticated,
            exceptions.PermissionDenied,
            exceptions.NotFound,
            exceptions.MethodNotAllowed,
            exceptions.NotAcceptable,
            exceptions.UnsupportedMediaType,
            exceptions.Throttled,
            InvalidToken,
        ]
    ]
    messages += [exceptions.Throttled.extra_detail_singular, exceptions.Throttled.extra_detail_plural]
    messages += list(TokenObtainPairSerializer.default_error_messages.values())
    return [str(message) for message in messages]


def test_every_library_message_the_api_can_send_comes_out_in_russian():
    with translation.override("en"):
        english = library_messages()
    with translation.override("ru"):
        russian = library_messages()

    untranslated = sorted({en for en, ru in zip(english, russian, strict=True) if en == ru})
    assert not untranslated, "add these to events_face/core/library_messages.py, then `make messages`"
