"""Authentication with the access token (the JWT in `Authorization: Bearer ...`).

A refused token says why, so a client knows what to do next:

| the token                    | code              | WWW-Authenticate (RFC 6750)                                               |
|------------------------------|-------------------|---------------------------------------------------------------------------|
| expired, signature genuine   | `token_expired`   | `Bearer realm="api", error="invalid_token", error_description="The access token expired"`  |
| anything else (garbage, forged, a refresh token) | `token_not_valid` | `Bearer realm="api", error="invalid_token", error_description="The access token is invalid"` |

`token_expired` means: get a new pair with the refresh token
(`POST /api/auth/token/refresh/`); `token_not_valid` means: log in again.

`AccessTokenUserAuthentication` (every endpoint but those below) loads the
user's row, so a deactivated user is refused at once. `AccessTokenAuthentication`
(the catalogue reads) is stateless (no user row is read; `request.user` is a
`TokenUser`). `AccessTokenWriteAuthentication` (registering, an owner's cancel) is stateless too:
the write reads the user's row itself, in a statement it sends anyway, and
refuses a deactivated or deleted user as the first would (`user_refusal`).
All remember the signature check: the same token string always verifies the same way, so a process keeps the last few thousand verified tokens
and checks only their expiry on each request, which still answers
`token_expired` once that has passed. Access tokens cannot be revoked before
they expire (SimpleJWT's blacklist covers refresh tokens), so nothing else
could change the answer.
"""

from functools import cache, lru_cache
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.drainage import set_override
from rest_framework import exceptions
from rest_framework_simplejwt.authentication import JWTAuthentication, JWTStatelessUserAuthentication
from rest_framework_simplejwt.exceptions import ExpiredTokenError, TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import Token
from rest_framework_simplejwt.utils import aware_utcnow

from events_face.core.db import instance_from_row, row_by_key_sql

# Distinct tokens remembered per process: a few thousand active users.
VERIFIED_TOKENS_KEPT = 4096


class AccessTokenRefused(exceptions.AuthenticationFailed):
    """401 for a token sent but refused; `description` goes into WWW-Authenticate (ASCII, English)."""

    default_code = "token_not_valid"
    # SimpleJWT's own message, which its Russian catalogue translates.
    default_detail = _("Given token not valid for any token type")
    description = "The access token is invalid"


class AccessTokenExpired(AccessTokenRefused):
    default_code = "token_expired"
    default_detail = _(
        "The access token has expired. Get a new one with the refresh token: POST /api/auth/token/refresh/."
    )
    description = "The access token expired"


def _validated(raw_token: bytes) -> Token:
    """The token, signature and expiry checked; refused with the reason a client acts on."""
    expired = False
    for token_class in api_settings.AUTH_TOKEN_CLASSES:
        try:
            return token_class(raw_token)
        except ExpiredTokenError:
            expired = True
        except TokenError:
            pass
    raise AccessTokenExpired() if expired else AccessTokenRefused()


class BearerErrorsMixin:
    """Refusals name their reason in WWW-Authenticate as RFC 6750 says: error and error_description."""

    def authenticate(self, request):
        try:
            return super().authenticate(request)
        except AccessTokenRefused as refusal:
            # Read back by authenticate_header, which DRF calls with the same request.
            request.access_token_refusal = refusal
            raise

    def authenticate_header(self, request) -> str:
        header = super().authenticate_header(request)
        refusal = getattr(request, "access_token_refusal", None)
        if refusal is None:
            return header
        return f'{header}, error="invalid_token", error_description="{refusal.description}"'

    def get_validated_token(self, raw_token: bytes) -> Token:
        """The token, its signature check remembered (`_verified`), its expiry checked now."""
        token = _verified(raw_token)
        try:
            token.check_exp(current_time=aware_utcnow())
        except TokenError:
            raise AccessTokenExpired() from None
        return token


class AccessTokenUserAuthentication(BearerErrorsMixin, JWTAuthentication):
    """SimpleJWT's authentication (loads the user), with the refusals above.

    The user's row is read as plain SQL (`_user_sql`): through the ORM, building
    the query cost a sixth of a registration (bench/request_profile.py). A token
    whose user is missing or inactive, or a setting that checks more than that,
    goes through SimpleJWT's own `get_user`, which refuses it as it always has.
    """

    def get_user(self, validated_token: Token):
        if api_settings.USER_ID_FIELD == "id" and not api_settings.CHECK_REVOKE_TOKEN:
            user = _active_user(validated_token.get(api_settings.USER_ID_CLAIM))
            if user is not None:
                return user
        return super().get_user(validated_token)


class AccessTokenAuthentication(BearerErrorsMixin, JWTStatelessUserAuthentication):
    """The catalogue reads': no user row."""


class AccessTokenWriteAuthentication(BearerErrorsMixin, JWTStatelessUserAuthentication):
    """A write that reads its user's row itself, in a statement it sends anyway (a registration:
    in its lock's round trip, `events/services.py`), a round trip less than loading it here.

    `request.user` is a `TokenUser`. The write refuses a user that is gone or inactive with
    `user_refusal` before it changes anything, as `AccessTokenUserAuthentication` would.
    """


def user_refusal(active: bool | None) -> exceptions.AuthenticationFailed:
    """SimpleJWT's own refusal of a token whose user is gone (`active` None) or inactive (False)."""
    if active is None:
        return exceptions.AuthenticationFailed(_("User not found"), code="user_not_found")
    return exceptions.AuthenticationFailed(_("User is inactive"), code="user_inactive")


def user_key(user) -> Any:
    """The user's primary key as the database takes it; `user_refusal(None)` if it cannot be one."""
    try:
        return get_user_model()._meta.pk.get_db_prep_value(user.pk, connection)
    except (TypeError, ValueError, ValidationError):
        raise user_refusal(None) from None


@cache
def _user_sql(vendor: str) -> str:
    """Every column of one user, by id (built once per database vendor)."""
    return row_by_key_sql(get_user_model(), connection)


def _active_user(user_id) -> AbstractBaseUser | None:
    """The active user whose id the token names; None for anything else (no such user, an
    inactive one, an id of the wrong kind), which SimpleJWT's `get_user` then refuses."""
    model = get_user_model()
    try:
        key = model._meta.pk.get_db_prep_value(user_id, connection)
    except (TypeError, ValueError, ValidationError):
        return None
    with connection.cursor() as cursor:
        cursor.execute(_user_sql(connection.vendor), [key])
        row = cursor.fetchone()
    if row is None:
        return None
    user = instance_from_row(model, row, connections[connection.alias])
    return user if user.is_active else None


@lru_cache(maxsize=VERIFIED_TOKENS_KEPT)
def _verified(raw_token: bytes) -> Token:
    # Errors are not cached: a bad token is checked (and refused) every time.
    return _validated(raw_token)


class AccessTokenScheme(SimpleJWTScheme):
    """The OpenAPI security scheme: the same bearer JWT ("jwtAuth") as the other endpoints."""

    target_class = AccessTokenAuthentication


class AccessTokenUserScheme(SimpleJWTScheme):
    target_class = AccessTokenUserAuthentication


class AccessTokenWriteScheme(SimpleJWTScheme):
    target_class = AccessTokenWriteAuthentication


set_override(AccessTokenAuthentication, "suppress_collision_warning", True)
set_override(AccessTokenUserAuthentication, "suppress_collision_warning", True)
set_override(AccessTokenWriteAuthentication, "suppress_collision_warning", True)
