"""The middleware only the site's pages need: run for the admin and the HTML pages, skipped by the API.

Sessions, CSRF, Django's authenticated user, messages, django-axes, the
clickjacking header and the Content-Security-Policy with its nonce serve the
admin and the pages rendered from templates (the landing page, the API's docs).
A JSON request to the API, authenticated by its bearer token, uses none of
them, yet each ran on every request: together they cost more than the event
list's own work (docs/benchmarks.md). `PagesMiddleware` holds them, as listed
in `settings.PAGES_MIDDLEWARE`, as one chain of its own, and runs that chain
for every path but the API's.

What the chain gave an API response that still means something there, it
still gets, computed once rather than per request: `X-Frame-Options`, the
Content-Security-Policy (built from `SECURE_CSP`, no nonce: no API response is
a template), and from CommonMiddleware the check of the Host header (a 400
for one outside ALLOWED_HOSTS) and `Content-Length`. The API's docs and
schema are pages (Swagger UI under the CSP nonce), and with DEBUG on so is
every API path (DRF's browsable API): they take the whole chain.

`LocaleMiddleware` is Django's, with a short way for the API: its URLs have no
language prefix (no `i18n_patterns`), so what Django's works out about one on
every request (a third of its cost) is skipped; the language is picked, from the
cookie or Accept-Language, and answered (`Content-Language`, `Vary`) as before.

Django calls a middleware's `process_view` and `process_exception` only if
the class has them, from the handler's lists; so this one has both and passes
them to the chain's middlewares (CSRF checks in `process_view`) for the pages.
"""

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.core.handlers.exception import convert_exception_to_response
from django.middleware import locale
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.csp import CSP, build_policy
from django.utils.module_loading import import_string

API_PREFIX = "/api/"
# Under API_PREFIX, yet pages: Swagger UI and the schema (config/urls.py).
PAGES_UNDER_API = ("/api/docs", "/api/schema")


def is_api_request(request) -> bool:
    """Whether the request is the API's (JSON, bearer token), not a page's."""
    path = request.path_info
    return path.startswith(API_PREFIX) and not path.startswith(PAGES_UNDER_API) and not settings.DEBUG


class PagesMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.view_hooks, self.exception_hooks = [], []
        chain = get_response
        for path in reversed(settings.PAGES_MIDDLEWARE):
            try:
                instance = import_string(path)(chain)
            except MiddlewareNotUsed:
                continue
            # The order Django's handler keeps: views outermost first, exceptions innermost first.
            if hasattr(instance, "process_view"):
                self.view_hooks.insert(0, instance.process_view)
            if hasattr(instance, "process_exception"):
                self.exception_hooks.append(instance.process_exception)
            chain = convert_exception_to_response(instance)
        self.pages = chain
        self.api_headers = {"X-Frame-Options": getattr(settings, "X_FRAME_OPTIONS", "DENY").upper()}
        for header, config in [
            (CSP.HEADER_ENFORCE, settings.SECURE_CSP),
            (CSP.HEADER_REPORT_ONLY, settings.SECURE_CSP_REPORT_ONLY),
        ]:
            if config:
                self.api_headers[str(header)] = build_policy(config)

    def __call__(self, request):
        if not is_api_request(request):
            return self.pages(request)
        # CommonMiddleware's first step, kept: a Host outside ALLOWED_HOSTS is a 400 before
        # anything else (DisallowedHost), not a 401 or a link built on a forged name.
        request.get_host()
        response = self.get_response(request)
        for header, value in self.api_headers.items():
            # As the chain's own middlewares would: a header the view set stays.
            if header not in response and not getattr(response, "xframe_options_exempt", False):
                response.headers[header] = value
        if not response.streaming and "Content-Length" not in response:
            response.headers["Content-Length"] = str(len(response.content))
        return response

    def process_view(self, request, view, args, kwargs):
        if is_api_request(request):
            return None
        for hook in self.view_hooks:
            response = hook(request, view, args, kwargs)
            if response is not None:
                return response
        return None

    def process_exception(self, request, exception):
        if is_api_request(request):
            return None
        for hook in self.exception_hooks:
            response = hook(request, exception)
            if response is not None:
                return response
        return None


class LocaleMiddleware(locale.LocaleMiddleware):
    def process_request(self, request):
        if not is_api_request(request):
            return super().process_request(request)
        language = translation.get_language_from_request(request)
        translation.activate(language)
        request.LANGUAGE_CODE = language
        return None

    def process_response(self, request, response):
        if not is_api_request(request):
            return super().process_response(request, response)
        patch_vary_headers(response, ("Accept-Language",))
        response.headers.setdefault("Content-Language", translation.get_language())
        return response
