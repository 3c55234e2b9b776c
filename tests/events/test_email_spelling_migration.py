"""Migration events/0006 gives existing registrations the one spelling new ones get
(events/email_address.py), and loses nothing: a row whose new spelling would
duplicate another registration for the same event keeps its old one."""

import pytest

from tests.support.factories import make_event
from tests.support.migrations import migrate, migrated_to

BEFORE = ("events", "0008_registration_email_recent_index")
MIGRATION = ("events", "0009_registration_email_one_spelling")

pytestmark = pytest.mark.django_db(transaction=True)


def registration(model, event, email: str):
    """A row as the schema before the migration holds it (`model`: the model there, not today's)."""
    return model.objects.create(
        event_id=event.pk, full_name="Someone", email=email, confirmation_code="000000"
    )


def test_unicode_and_decomposed_domains_are_respelled_unless_that_makes_a_duplicate():
    event, other_event = make_event(), make_event()  # today's Event model: made at today's schema
    with migrated_to(BEFORE) as old_apps:
        before = old_apps.get_model("events", "Registration")
        composed = registration(before, event, "ada@bücher.de")
        decomposed = registration(before, event, "bob@bu\u0308cher.de")
        ascii_row = registration(before, event, "Carol@Example.com")
        twin_ascii = registration(before, other_event, "dan@xn--bcher-kva.de")
        twin_unicode = registration(before, other_event, "dan@bücher.de")  # the duplicate the old code let in

        after = migrate(MIGRATION).get_model("events", "Registration")

        def email(row):
            return after.objects.get(pk=row.pk).email

        assert email(composed) == "ada@xn--bcher-kva.de"
        assert email(decomposed) == "bob@xn--bcher-kva.de"
        assert email(ascii_row) == "Carol@Example.com"  # lower(email) already compares it
        assert email(twin_ascii) == "dan@xn--bcher-kva.de"
        assert email(twin_unicode) == "dan@bücher.de"  # kept: nothing stored is lost
