"""One spelling per mailbox for the addresses registrations are sent to.

`user@bücher.de`, `user@xn--bcher-kva.de` and `user@bu\\u0308cher.de` (decomposed)
are one mailbox. `registration_email_normalize` writes every address one way: the
whole address in Unicode NFC, the domain in its IDNA 2008 ASCII form (UTS 46
mapping, lower case, no trailing dot). That form is what is stored and what the
unique constraint on (event, lower(email)) and the per-address rate compare, so
spellings of one mailbox collide there. It refuses:

- control and invisible format characters (Unicode Cc, Cf) anywhere, a quoted
  local part included: the address goes verbatim into the notification;
- a domain IDNA 2008 refuses;
- a domain that is not public (`EmailDomainNotPublic`): no dot, an IP literal,
  or a reserved top-level domain (`RESERVED_TOP_LEVEL_DOMAINS`).
"""

import functools
import unicodedata

import idna
from django.utils.translation import gettext as _
from rest_framework import serializers

from events_face.events.errors import EmailDomainNotPublic

FORBIDDEN_ADDRESS_CATEGORIES = frozenset({"Cc", "Cf"})
MAX_LENGTH = 254  # Registration.email's

# Names that never reach a public mailbox: RFC 2606 and 6761 (test, example, invalid,
# localhost), RFC 6762 (local), RFC 7686 (onion), RFC 9476 (alt), ICANN's private-use
# internal, and the ones home routers answer (lan, home, localdomain). home.arpa (RFC 8375)
# is two labels: see `_is_public`.
RESERVED_TOP_LEVEL_DOMAINS = frozenset(
    {
        "test",
        "example",
        "invalid",
        "localhost",
        "local",
        "onion",
        "alt",
        "internal",
        "lan",
        "home",
        "localdomain",
    }
)


def registration_email_normalize(address: str) -> str:
    """The address's one spelling; `ValidationError` or `EmailDomainNotPublic` (see module docstring)."""
    for character in address:
        if unicodedata.category(character) in FORBIDDEN_ADDRESS_CATEGORIES:
            raise serializers.ValidationError(
                _("Must not contain control or invisible formatting characters (U+%(code_point)04X).")
                % {"code_point": ord(character)}
            )
    address = unicodedata.normalize("NFC", address)
    local_part, _at, domain = address.rpartition("@")
    if domain.startswith("["):
        raise EmailDomainNotPublic()
    try:
        domain = _ascii_domain(domain.removesuffix("."))
    except (idna.IDNAError, UnicodeError):
        raise serializers.ValidationError(
            _("The domain of this e-mail address is not a valid domain name.")
        ) from None
    if not _is_public(domain):
        raise EmailDomainNotPublic()
    normalized = f"{local_part}@{domain}"
    if len(normalized) > MAX_LENGTH:  # the ASCII form of a domain can be longer than its Unicode one
        raise serializers.ValidationError(_("At most %(count)d characters.") % {"count": MAX_LENGTH})
    return normalized


# Domains converted per process: most registrations come from a few mail providers, and
# the conversion cost a tenth of a registration's validation. A refused domain raises,
# and is never kept; a flood of new ones only pushes the oldest out.
@functools.lru_cache(maxsize=4096)
def _ascii_domain(domain: str) -> str:
    return idna.encode(domain, uts46=True).decode("ascii").lower()


def _is_public(ascii_domain: str) -> bool:
    labels = ascii_domain.split(".")
    if len(labels) < 2 or labels[-1].isdigit():
        return False
    return labels[-1] not in RESERVED_TOP_LEVEL_DOMAINS and not ascii_domain.endswith(".home.arpa")
