"""Accounts API: sign-up, login, logout, token refresh."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from events_face.accounts.services import refresh_token_revoke, token_pair_for, user_create
from events_face.core import schema

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

    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"
LOGIN_RESPONSES = {
    200: TokenPairSerializer,
    **BODY_ERRORS,
    401: schema.error("Wrong username or password (`no_active_account`)."),
}


class RegisterInputSerializer(serializers.Serializer):
    username = serializers.RegexField(
        r"^[\w.@+-]+\Z",
        max_length=150,
        error_messages={"invalid": "Letters, digits and @/./+/-/_ only."},
    )
    email = serializers.EmailField()
    password = serializers.CharField(max_length=128, write_only=True, trim_whitespace=False)


class RefreshInputSerializer(serializers.Serializer):
    refresh = serializers.CharField()


class RegisterApi(AuthThrottled, APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(
        operation_id="auth_register",
        request=RegisterInputSerializer,
        responses={201: TokenPairSerializer, **BODY_ERRORS},
    )
    def post(self, request):
        payload = RegisterInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        user = user_create(**payload.validated_data)
        return Response(token_pair_for(user), status=status.HTTP_201_CREATED)


class LoginApi(AuthThrottled, TokenObtainPairView):
    """Username and password in, an access and a refresh token out."""

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

    @extend_schema(
        operation_id="auth_token_refresh",
        responses={200: TokenPairSerializer, **BODY_ERRORS, 401: schema.UNAUTHORIZED},
    )
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)


class LogoutApi(AuthThrottled, APIView):
    """Blacklists the refresh token; holding it is proof enough, no access token needed."""

    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="auth_logout",
        request=RefreshInputSerializer,
        responses={204: None, **BODY_ERRORS, 401: schema.UNAUTHORIZED},
    )
    def post(self, request):
        payload = RefreshInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        refresh_token_revoke(refresh=payload.validated_data["refresh"])
        return Response(status=status.HTTP_204_NO_CONTENT)
