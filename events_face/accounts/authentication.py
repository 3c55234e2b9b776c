"""Authentication for the catalogue reads: the access token alone, checked once per process.

`AccessTokenAuthentication` is SimpleJWT's stateless authentication (no user
row is read; `request.user` is a `TokenUser`) with its signature check
remembered: the same token string always verifies the same way, so a process
keeps the last few thousand verified tokens and checks only their expiry on
each request. Access tokens cannot be revoked before they expire (SimpleJWT's
blacklist covers refresh tokens), so nothing else could change the answer.
"""

from functools import lru_cache

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.drainage import set_override
from rest_framework_simplejwt.authentication import JWTStatelessUserAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.tokens import Token
from rest_framework_simplejwt.utils import aware_utcnow

# Distinct tokens remembered per process: a few thousand active users.
VERIFIED_TOKENS_KEPT = 4096


class AccessTokenAuthentication(JWTStatelessUserAuthentication):
    def get_validated_token(self, raw_token: bytes) -> Token:
        token = _verified(raw_token)
        try:
            token.check_exp(current_time=aware_utcnow())
        except TokenError as exc:
            raise InvalidToken({"detail": str(exc), "messages": []}) from None
        return token


@lru_cache(maxsize=VERIFIED_TOKENS_KEPT)
def _verified(raw_token: bytes) -> Token:
    # Errors are not cached: a bad token is checked (and refused) every time.
    return JWTStatelessUserAuthentication().get_validated_token(raw_token)


class AccessTokenScheme(SimpleJWTScheme):
    """The OpenAPI security scheme: the same bearer JWT ("jwtAuth") as the other endpoints."""

    target_class = AccessTokenAuthentication


set_override(AccessTokenAuthentication, "suppress_collision_warning", True)
