"""Existing registrations' addresses in the one spelling new ones get (events/email_address.py).

Only rows that can differ from it are read: a non-ASCII character (a Unicode or
decomposed domain) or a trailing dot. An ASCII domain needs nothing: the unique
constraint and the per-address rate compare lower(email), and the ASCII form of
an ASCII domain is its lower case. A row whose new spelling would duplicate
another registration for the same event keeps its old spelling (nothing stored
is lost); one whose domain IDNA 2008 refuses is left as it is too. The logic is
written out here, not imported, so that this migration stays what it is when
the app's code changes.
"""

import unicodedata

import idna
from django.db import migrations
from django.db.models.functions import Lower


def _one_spelling(address: str) -> str | None:
    address = unicodedata.normalize("NFC", address)
    local_part, _at, domain = address.rpartition("@")
    if domain.startswith("["):
        return None
    try:
        domain = idna.encode(domain.removesuffix("."), uts46=True).decode("ascii").lower()
    except (idna.IDNAError, UnicodeError):
        return None
    return f"{local_part}@{domain}"


def respell(apps, schema_editor):
    Registration = apps.get_model("events", "Registration")
    candidates = Registration.objects.filter(email__regex=r"[^ -~]") | Registration.objects.filter(email__endswith=".")
    for registration in candidates.only("id", "event_id", "email").iterator():
        respelled = _one_spelling(registration.email)
        if respelled is None or respelled == registration.email or len(respelled) > 254:
            continue
        taken = (
            Registration.objects.annotate(address=Lower("email"))
            .filter(event_id=registration.event_id, address=respelled.lower())
            .exclude(pk=registration.pk)
            .exists()
        )
        if not taken:
            Registration.objects.filter(pk=registration.pk).update(email=respelled)


class Migration(migrations.Migration):
    dependencies = [("events", "0008_registration_email_recent_index")]

    operations = [migrations.RunPython(respell, migrations.RunPython.noop)]
