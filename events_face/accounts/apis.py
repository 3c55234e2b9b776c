"""Accounts API: sign-up, login, logout, token refresh, the caller's account, password change."""

import re

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_serializer, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.serializers import (
    PasswordField,
    TokenObtainPairSerializer,
    TokenRefreshSerializer,
)
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from events_face.accounts.services import (
    password_change,
    refresh_token_revoke,
    refresh_token_rotate,
    token_pair_for,
    user_create,
    username_canonical,
    username_for_login,
)
from events_face.core import schema
from events_face.core.throttling import ScopedCacheThrottle

TokenPairSerializer = inline_serializer(
    name="TokenPair", fields={"access": serializers.CharField(), "refresh": serializers.CharField()}
)


# Every POST here can also meet malformed JSON (400), a huge body (413), a non-JSON
# body (415), and the per-IP rate limit (429).
BODY_ERRORS = {
    400: schema.BAD_REQUEST,
    413: schema.TOO_LARGE,
    415: schema.UNSUPPORTED,
    429: schema.error("Too many requests from this address (`throttled`); see Retry-After."),
}


class AuthThrottled:
    """Mixin: the `auth` rate (AUTH_THROTTLE_RATE) per client IP."""

    throttle_classes = [ScopedCacheThrottle]
    throttle_scope = "auth"


LOGIN_RESPONSES = {
    200: TokenPairSerializer,
    **BODY_ERRORS,
    401: schema.error("Wrong username or password (`no_active_account`)."),
}


USERNAME_CHARACTERS = re.compile(r"^[\w.@+-]+\Z")
USERNAME_MAX_LENGTH = 150  # auth_user.username


class RegisterInputSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=USERNAME_MAX_LENGTH)
    email = serializers.EmailField(max_length=254)  # auth_user.email
    # Kept exactly as typed, spaces included, as Django's own forms do (strip=False);
    # login reads it the same way.
    password = PasswordField(max_length=128, trim_whitespace=False)

    def validate_username(self, value: str) -> str:
        # The rules apply to the form stored: NFKC can lengthen a name or turn a
        # letter into characters the rules refuse ("½" becomes "1⁄2").
        canonical = username_canonical(value)
        if not USERNAME_CHARACTERS.match(canonical):
            raise serializers.ValidationError(_("Letters, digits and @/./+/-/_ only."))
        if len(canonical) > USERNAME_MAX_LENGTH:
            raise serializers.ValidationError(
                _("At most %(count)d characters once normalised.") % {"count": USERNAME_MAX_LENGTH}
            )
        return canonical


@extend_schema_serializer(component_name="TokenObtainPair")
class LoginSerializer(TokenObtainPairSerializer):
    """SimpleJWT's login, with the username matched as sign-up stores it (any case, any width).

    The password is compared exactly as typed, surrounding spaces included, as sign-up stores it.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # SimpleJWT's own password field trims whitespace.
        self.fields["password"] = PasswordField(trim_whitespace=False)

    def validate(self, attrs):
        return super().validate({**attrs, "username": username_for_login(username=attrs["username"])})


@extend_schema_serializer(component_name="TokenRefresh")
class RefreshSerializer(TokenRefreshSerializer):
    """Rotation through `refresh_token_rotate`: one winner among simultaneous refreshes of a token."""

    def validate(self, attrs):
        return refresh_token_rotate(refresh=attrs["refresh"])


class RefreshInputSerializer(serializers.Serializer):
    refresh = serializers.CharField()


class AccountSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    email = serializers.EmailField(allow_null=True, help_text="null when the account has none.")
    date_joined = serializers.DateTimeField()

    def to_representation(self, user):
        return {**super().to_representation(user), "email": user.email or None}


class PasswordChangeInputSerializer(serializers.Serializer):
    # Kept exactly as typed, as sign-up and login read passwords.
    old_password = PasswordField(max_length=128, trim_whitespace=False)
    new_password = PasswordField(max_length=128, trim_whitespace=False)


class RegisterApi(AuthThrottled, APIView):
    """Sign-up: a new account and its first access and refresh tokens."""

    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(
        operation_id="auth_register",
        auth=[],  # public: no security requirement (drf-spectacular would say `[{}]`)
        request=RegisterInputSerializer,
        responses={
            201: TokenPairSerializer,
            **BODY_ERRORS,
            400: schema.error(
                "Invalid input (`invalid`), the username or e-mail address belongs to another "
                "account (`username_taken`, `email_taken`), malformed JSON (`parse_error`)."
            ),
        },
    )
    def post(self, request):
        payload = RegisterInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        user = user_create(**payload.validated_data)
        return Response(token_pair_for(user), status=status.HTTP_201_CREATED)


class LoginApi(AuthThrottled, TokenObtainPairView):
    """Username and password in, an access and a refresh token out."""

    serializer_class = LoginSerializer

    @extend_schema(
        operation_id="auth_login",
        responses=LOGIN_RESPONSES,
    )
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)


class TokenApi(LoginApi):
    @extend_schema(operation_id="auth_token_obtain", responses=LOGIN_RESPONSES)
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)


class RefreshApi(AuthThrottled, TokenRefreshView):
    """Rotates: a new pair comes back and the refresh token sent is blacklisted."""

    serializer_class = RefreshSerializer

    @extend_schema(
        operation_id="auth_token_refresh",
        responses={200: TokenPairSerializer, **BODY_ERRORS, 401: schema.UNAUTHORIZED},
    )
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)


class LogoutApi(AuthThrottled, APIView):
    """Blacklists the refresh token; holding it is proof enough, no access token needed.

    No authentication at all: a stale or foreign access token in the
    Authorization header must not turn a logout into a 401.
    """

    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(
        operation_id="auth_logout",
        auth=[],  # public: the refresh token in the body is the proof
        request=RefreshInputSerializer,
        responses={204: None, **BODY_ERRORS, 401: schema.UNAUTHORIZED},
    )
    def post(self, request):
        payload = RefreshInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        refresh_token_revoke(refresh=payload.validated_data["refresh"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeApi(APIView):
    """The caller's account."""

    @extend_schema(operation_id="auth_me", responses={200: AccountSerializer, 401: schema.UNAUTHORIZED})
    def get(self, request):
        return Response(AccountSerializer(request.user).data)


class PasswordChangeApi(AuthThrottled, APIView):
    """A new password; every refresh token of the account is blacklisted, and the caller gets a new pair.

    Access tokens already issued stay valid until they expire.
    """

    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="auth_password_change",
        request=PasswordChangeInputSerializer,
        responses={
            200: TokenPairSerializer,
            **BODY_ERRORS,
            400: schema.error(
                "The current password is wrong (`wrong_password`), the new one fails the password "
                "rules or a field is missing (`invalid`), malformed JSON (`parse_error`)."
            ),
            401: schema.UNAUTHORIZED,
        },
    )
    def post(self, request):
        payload = PasswordChangeInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        return Response(password_change(user=request.user, **payload.validated_data))
