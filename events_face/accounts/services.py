"""Accounts: creating users and ending sessions."""

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import RefreshToken

from events_face.core.errors import InvalidInput, TokenInvalid

User = get_user_model()

USERNAME_TAKEN = "A user with this username already exists."


def user_create(*, username: str, email: str, password: str):
    """Create a user; the password must pass Django's validators."""
    candidate = User(username=username, email=email)
    try:
        validate_password(password, user=candidate)
    except DjangoValidationError as error:
        raise InvalidInput(fields={"password": list(error.messages)}) from None
    if User.objects.filter(username__iexact=username).exists():
        raise InvalidInput(fields={"username": [USERNAME_TAKEN]})
    candidate.set_password(password)
    try:
        with transaction.atomic():
            candidate.save(force_insert=True)
    except IntegrityError:
        # A concurrent sign-up took the name between the check and the insert.
        raise InvalidInput(fields={"username": [USERNAME_TAKEN]}) from None
    return candidate


def token_pair_for(user) -> dict[str, str]:
    refresh = RefreshToken.for_user(user)
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def refresh_token_revoke(*, refresh: str) -> None:
    """Blacklist a refresh token: it can no longer be refreshed or revoked again."""
    try:
        RefreshToken(refresh).blacklist()
    except TokenError as error:
        raise TokenInvalid(str(error)) from None
