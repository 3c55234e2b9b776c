"""Client for the notifications service (contract: `contract.md` beside this file).

One `NotificationsClient` wraps one `httpx.Client` built by `integrations/http.py`
(keep-alive connections, as many as requests in flight; the Bearer token; a total
deadline per request; a capped body). `send()` makes exactly one attempt and never
raises for what the service or the network does; it classifies the answer with
`http.classify` into a `SendResult`:

| answer                                         | verdict        |
| ---------------------------------------------- | -------------- |
| 201, 409 (accepted now, or earlier)            | SUCCESS        |
| 408, 425, 429, 5xx, deadline passed,           | TRANSIENT      |
| connection error                               |                |
| a body larger than `MAX_BODY_BYTES` (decoded), | TRANSIENT      |
| or one it cannot read (stacked or unasked-for  |                |
| compression, a corrupt stream)                 |                |
| 401, 403 (NOTIFICATIONS_TOKEN)                 | CONFIGURATION  |
| 404 (NOTIFICATIONS_URL)                        | CONFIGURATION  |
| other 4xx (400, 422, ...: the body is refused) | REJECTED       |
| anything else (2xx but 201, 3xx, ...)          | TRANSIENT      |

A 404 is taken for our configuration, not the notification: the contract has
no 404 for a body, so it means NOTIFICATIONS_URL names no endpoint (a typo, or
a deploy that briefly answers 404). A CONFIGURATION result's `detail` names
the setting to check.

An oversized or unreadable body makes the answer untrustworthy, whatever its status: the
attempt is retried, with the same `id`, so an accepted notification then gets a
(small) 409 and is marked delivered; a refused one keeps being retried up to
the outbox's retry horizon. Only SUCCESS means "delivered". Retrying is the
caller's business (the outbox reschedules in the database).

`detail` is a short excerpt with every secret of the notification (its
`secrets`, e.g. a confirmation code, and the token) cut out: it goes to logs and `last_error`.
`send()` is safe to call from several threads at once: they share the pool.
Nothing here knows about Django.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from events_face.integrations import http
from events_face.integrations.http import SendResult

# Answers are a few hundred bytes; anything past this is not an answer we can trust.
MAX_BODY_BYTES = 8 * 1024
SUCCESS_STATUSES = frozenset({201, 409})
# What each answer that is our fault says to check.
CONFIGURATION_HINTS = {
    401: "check NOTIFICATIONS_TOKEN (missing, wrong or expired)",
    403: "check NOTIFICATIONS_TOKEN (missing, wrong or expired)",
    404: "check NOTIFICATIONS_URL (no notifications endpoint answers there)",
}


class NotificationsClient:
    """POSTs notifications to `url` with `Authorization: Bearer <token>`."""

    def __init__(self, *, url: str, token: str, timeout: float = 10.0, max_connections: int = 16) -> None:
        self.url = url
        self.limits = http.RequestLimits(deadline_seconds=timeout, max_body_bytes=MAX_BODY_BYTES)
        self._token = token
        self._http = http.client_create(
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/json",
                "Accept": "application/json",
            },
            max_connections=max_connections,
        )

    def send(self, notification: Mapping[str, Any], *, secrets: Iterable[str] = ()) -> SendResult:
        """POST one notification (`id`, `owner_id`, `email`, `message`); classify the answer."""
        secrets = [*secrets, self._token]
        body = json.dumps(notification, separators=(",", ":")).encode()
        try:
            reply = http.request(self._http, "POST", self.url, limits=self.limits, content=body)
        except (http.TransientFailure, http.UnreadableBody) as exc:
            return SendResult(http.Verdict.TRANSIENT, detail=http.excerpt(str(exc), secrets=secrets))
        verdict = http.classify(
            reply.status, success=SUCCESS_STATUSES, configuration=CONFIGURATION_HINTS.keys()
        )
        detail = http.excerpt(reply.body, secrets=secrets)
        if verdict == http.Verdict.CONFIGURATION:
            detail = f"{CONFIGURATION_HINTS[reply.status]}: {detail}"
        return SendResult(verdict, status=reply.status, detail=detail, retry_after=reply.retry_after)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> NotificationsClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
