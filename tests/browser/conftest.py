"""Debian's chromium, driven by Playwright, against pytest-django's live server.

`chromium` is the browser, launched once for the tests of this package;
`browser_page` is a fresh page (own cookies) on the live server that records
what a user would not see but should not happen: console errors, uncaught
script errors, Content-Security-Policy violations, and requests to any other
origin (refused, so the tests show the pages need no CDN).

Never a downloaded browser: without /usr/bin/chromium the tests are skipped,
or fail under CI.
"""

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Seconds a page or element may take to appear (a busy CI machine), in milliseconds for Playwright.
PAGE_TIMEOUT_MS = 20_000

# Runs in every document before its own scripts: reports each CSP violation to the test.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.reportCspViolation(`${event.violatedDirective} blocked ${event.blockedURI || "inline"} in ${event.sourceFile || document.URL}`);
});
"""


@pytest.fixture(scope="package")
def chromium():
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing (Debian: apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    # While Playwright's sync API is started it keeps an asyncio loop running in
    # this thread, and Django then refuses ORM calls from it (SynchronousOnlyOperation):
    # the tests' own setup and pytest-django's flush. They are safe, the loop only
    # drives the browser. Package scope ends the loop, and this permission, with
    # the browser tests instead of leaving them to every later test of the run.
    allowed_before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if allowed_before is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = allowed_before


@dataclass
class WatchedPage:
    """A Playwright page on the live server, and what went wrong in it so far."""

    page: object  # playwright.sync_api.Page
    base_url: str
    problems: list[str] = field(default_factory=list)


@pytest.fixture
def browser_page(chromium, live_server) -> Iterator[WatchedPage]:
    context = chromium.new_context(base_url=live_server.url)
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    watched = WatchedPage(page=context.new_page(), base_url=live_server.url)

    def only_this_site(route):
        if route.request.url.startswith((live_server.url + "/", "data:")):
            route.continue_()
        else:
            watched.problems.append(f"request to another origin: {route.request.url}")
            route.abort()

    def console_error(message):
        if message.type == "error":
            watched.problems.append(f"console error: {message.text}")

    context.route("**/*", only_this_site)
    context.expose_function(
        "reportCspViolation", lambda text: watched.problems.append(f"CSP violation: {text}")
    )
    context.add_init_script(REPORT_CSP_VIOLATIONS)
    watched.page.on("console", console_error)
    watched.page.on("pageerror", lambda error: watched.problems.append(f"script error: {error}"))
    yield watched
    context.close()
