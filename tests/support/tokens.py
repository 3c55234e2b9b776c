"""Access tokens that expire during a test, and waiting for the clock to pass their expiry."""

import time
from datetime import timedelta

from rest_framework_simplejwt.tokens import AccessToken

from tests.support.polling import wait_until


def make_short_lived_access_token(user, *, seconds: float = 3) -> AccessToken:
    """An access token of `user` that expires `seconds` from now.

    Long enough for a slow first request (a busy machine) to fall inside it. Its
    "exp" is whole seconds, so it may end up to a second sooner or later than asked.
    """
    token = AccessToken.for_user(user)
    token.set_exp(lifetime=timedelta(seconds=seconds))
    return token


def token_expiry_wait(token: AccessToken) -> None:
    """Return once the clock has passed the token's "exp": from then on the server refuses it
    as expired (SimpleJWT: expired when exp <= now, no leeway here)."""
    expires_at = token["exp"]
    wait_until(
        lambda: time.time() > expires_at,
        timeout=max(0.0, expires_at - time.time()) + 5,
        message=f"the clock passed the token's exp ({expires_at})",
    )
