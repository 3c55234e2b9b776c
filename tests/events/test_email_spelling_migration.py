"""Migration events/0006 gives existing registrations the one spelling new ones get
(events/email_address.py), and loses nothing: a row whose new spelling would
duplicate another registration for the same event keeps its old one."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from events_face.events.models import Registration
from tests.support.factories import make_event

BEFORE = ("events", "0008_registration_email_recent_index")
MIGRATION = ("events", "0009_registration_email_one_spelling")

pytestmark = pytest.mark.django_db(transaction=True)


def migrate(target):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([target])


def registration(event, email: str) -> Registration:
    return Registration.objects.create(event=event, full_name="Someone", email=email, confirmation_code="000000")


def test_unicode_and_decomposed_domains_are_respelled_unless_that_makes_a_duplicate():
    migrate(BEFORE)
    try:
        event, other_event = make_event(), make_event()
        composed = registration(event, "ada@bücher.de")
        decomposed = registration(event, "bob@bu\u0308cher.de")
        ascii_row = registration(event, "Carol@Example.com")
        twin_ascii = registration(other_event, "dan@xn--bcher-kva.de")
        twin_unicode = registration(other_event, "dan@bücher.de")  # the duplicate the old code let in

        migrate(MIGRATION)

        def email(row):
            return Registration.objects.get(pk=row.pk).email

        assert email(composed) == "ada@xn--bcher-kva.de"
        assert email(decomposed) == "bob@xn--bcher-kva.de"
        assert email(ascii_row) == "Carol@Example.com"  # lower(email) already compares it
        assert email(twin_ascii) == "dan@xn--bcher-kva.de"
        assert email(twin_unicode) == "dan@bücher.de"  # kept: nothing stored is lost
    finally:
        Registration.objects.all().delete()
        migrate(MIGRATION)
