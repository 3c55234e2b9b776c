"""Accounts: creating users, finding them at login, rotating and revoking refresh tokens.

Identity. A username is stored NFKC-normalised and lowercased
(`username_canonical`, the PRECIS rule of RFC 8265: width, case, then
normalisation), an e-mail address lowercased (`email_canonical`), so "Ada",
"ADA" and fullwidth "ａｄａ" are one account, and one address belongs to one
account. The database decides between simultaneous sign-ups: besides
auth_user's own unique username, migration accounts/0001 adds unique indexes on
LOWER(username) and on LOWER(email) (non-empty), which also hold for users made
by the admin or `createsuperuser`. An IntegrityError from any of them is the
usual field error, never a 500.

Refresh tokens. Blacklisting a refresh token is one insert into SimpleJWT's
BlacklistedToken, whose one-to-one link to the OutstandingToken is unique: of
several requests presenting one token, only one transaction can make that
insert; the others get 401 `token_not_valid`. A rotated pair is issued only in
the transaction that made it (`refresh_token_rotate`), and logout uses the same
step (`refresh_token_revoke`).

Password change (`password_change`) ends every other session: it blacklists
each refresh token of the user not yet blacklisted and issues the caller a new
pair. It and every rotation lock the user's row first, so a refresh racing the
change either ends before it (and its new token is blacklisted with the rest)
or starts after it (and finds its token blacklisted). Access tokens already
issued stay valid until they expire (JWT_ACCESS_TOKEN_LIFETIME_MINUTES).
"""

import unicodedata

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from rest_framework import status
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import datetime_from_epoch

from events_face.core.errors import InvalidInput, ServiceError, TokenInvalid

User = get_user_model()

WRONG_PASSWORD = _("The current password is wrong.")
USERNAME_TAKEN = _("A user with this username already exists.")
EMAIL_TAKEN = _("A user with this e-mail address already exists.")


class NoActiveAccount(ServiceError):
    """The refresh token is genuine, but its user was deleted or deactivated."""

    status_code = status.HTTP_401_UNAUTHORIZED
    code = "no_active_account"
    default_message = _("No active account found for the given token.")


class IdentityTaken(InvalidInput):
    """Another account holds the username (`username_taken`, told first) or the e-mail address (`email_taken`)."""

    def __init__(self, *, fields: dict[str, list[str]]):
        super().__init__(fields=fields)
        self.code = "username_taken" if "username" in fields else "email_taken"


class WrongPassword(InvalidInput):
    code = "wrong_password"


def username_canonical(username: str) -> str:
    """The stored form of a username: NFKC, lowercased, NFKC again (lowercasing can denormalise)."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", username).lower())


def email_canonical(email: str) -> str:
    """The stored form of an e-mail address: NFKC and lowercased, local part included."""
    return unicodedata.normalize("NFKC", email).lower()


def _taken_fields(*, username: str, email: str) -> dict[str, list[str]]:
    """Field errors for a canonical username or e-mail address another account holds."""
    taken = {}
    if User.objects.alias(lowered=Lower("username")).filter(lowered=username).exists():
        taken["username"] = [USERNAME_TAKEN]
    if email and User.objects.alias(lowered=Lower("email")).filter(lowered=email).exists():
        taken["email"] = [EMAIL_TAKEN]
    return taken


def user_create(*, username: str, email: str, password: str):
    """Create a user; the password must pass Django's validators, username and e-mail be free."""
    username, email = username_canonical(username), email_canonical(email)
    candidate = User(username=username, email=email)
    try:
        validate_password(password, user=candidate)
    except DjangoValidationError as error:
        raise InvalidInput(fields={"password": list(error.messages)}) from None
    if taken := _taken_fields(username=username, email=email):
        raise IdentityTaken(fields=taken)
    candidate.set_password(password)
    try:
        with transaction.atomic():
            candidate.save(force_insert=True)
    except IntegrityError:
        # A simultaneous sign-up committed this name or address between the check and
        # the insert; the unique indexes refused ours. It is committed now, so it shows.
        raise IdentityTaken(
            fields=_taken_fields(username=username, email=email) or {"username": [USERNAME_TAKEN]}
        ) from None
    return candidate


def username_for_login(*, username: str) -> str:
    """The stored username a typed one stands for (any case or width), else the typed one.

    Accounts made by sign-up are stored canonical; ones made elsewhere (admin,
    `createsuperuser`, before these rules) may keep capitals, so the lookup is
    by LOWER(username), the indexed expression, with an exact match first.
    """
    typed = unicodedata.normalize("NFKC", username)
    matches = list(
        User.objects.alias(lowered=Lower("username"))
        .filter(Q(username=typed) | Q(lowered=username_canonical(username)))
        .values_list("username", flat=True)[:2]
    )
    if typed in matches:
        return typed
    return matches[0] if matches else username


def token_pair_for(user) -> dict[str, str]:
    refresh = RefreshToken.for_user(user)
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def _refresh_token(refresh: str) -> RefreshToken:
    """A genuine, unexpired, not blacklisted refresh token, or 401 `token_not_valid`."""
    try:
        return RefreshToken(refresh)
    except TokenError as error:
        raise TokenInvalid(str(error)) from None


def _blacklist_once(token: RefreshToken) -> None:
    """Blacklist `token`, or 401 if another transaction already did: the step that picks one winner.

    Must run inside the caller's transaction, so whatever the caller does after
    it (issuing the rotated pair) commits only with the blacklist row.
    """
    user_id = token.payload.get(api_settings.USER_ID_CLAIM)
    outstanding, _ = OutstandingToken.objects.get_or_create(
        jti=token[api_settings.JTI_CLAIM],
        defaults={
            # Only for a token issued without an outstanding row; then the user, if any is left.
            "user": lambda: User.objects.filter(**{api_settings.USER_ID_FIELD: user_id}).first(),
            "created_at": token.current_time,
            "token": str(token),
            "expires_at": datetime_from_epoch(token["exp"]),
        },
    )
    try:
        # A savepoint: on PostgreSQL the insert waits for a rival transaction holding
        # the same key and fails once it commits; SQLite's writers queue on its lock.
        with transaction.atomic():
            BlacklistedToken.objects.create(token=outstanding)
    except IntegrityError:
        raise TokenInvalid(gettext("Token is blacklisted")) from None


def refresh_token_rotate(*, refresh: str) -> dict[str, str]:
    """A new access and refresh token for a refresh token, which is blacklisted.

    Of simultaneous rotations of one token exactly one succeeds (`_blacklist_once`).
    A deleted or deactivated user's token gets 401 `no_active_account`.
    """
    token = _refresh_token(refresh)
    user_id = token.payload.get(api_settings.USER_ID_CLAIM)
    user = User.objects.filter(**{api_settings.USER_ID_FIELD: user_id}).first() if user_id else None
    if not api_settings.USER_AUTHENTICATION_RULE(user):
        raise NoActiveAccount()
    with transaction.atomic():
        _lock_user(user)
        _blacklist_once(token)
        return token_pair_for(user)


def _lock_user(user) -> None:
    """Lock the user's row till the transaction ends: rotations and password changes take turns."""
    list(User.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True))


def password_change(*, user, old_password: str, new_password: str) -> dict[str, str]:
    """Set a new password (Django's validators), end every other session, and give the caller a new pair.

    400 `wrong_password` for a wrong `old_password`; 400 `invalid` with the validators'
    messages under `new_password`.
    """
    if not user.check_password(old_password):
        raise WrongPassword(fields={"old_password": [WRONG_PASSWORD]})
    try:
        validate_password(new_password, user=user)
    except DjangoValidationError as error:
        raise InvalidInput(fields={"new_password": list(error.messages)}) from None
    with transaction.atomic():
        _lock_user(user)
        user.set_password(new_password)
        user.save(update_fields=["password"])
        live = OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True)
        BlacklistedToken.objects.bulk_create(
            [BlacklistedToken(token=token) for token in live], ignore_conflicts=True
        )
        return token_pair_for(user)


def refresh_token_revoke(*, refresh: str) -> None:
    """Blacklist a refresh token: it can no longer be refreshed or revoked again."""
    token = _refresh_token(refresh)
    with transaction.atomic():
        _blacklist_once(token)
