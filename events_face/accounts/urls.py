from django.urls import re_path

from events_face.accounts import apis

# Every path answers with and without the trailing slash.
urlpatterns = [
    re_path(r"^auth/register/?$", apis.RegisterApi.as_view(), name="auth-register"),
    re_path(r"^auth/login/?$", apis.LoginApi.as_view(), name="auth-login"),
    re_path(r"^auth/logout/?$", apis.LogoutApi.as_view(), name="auth-logout"),
    re_path(r"^auth/token/?$", apis.TokenApi.as_view(), name="auth-token"),
    re_path(r"^auth/me/?$", apis.MeApi.as_view(), name="auth-me"),
    re_path(r"^auth/password/?$", apis.PasswordChangeApi.as_view(), name="auth-password"),
    re_path(r"^auth/token/refresh/?$", apis.RefreshApi.as_view(), name="auth-token-refresh"),
]
