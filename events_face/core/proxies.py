"""Who the client is, when proxies stand in front: believed only from TRUSTED_PROXIES.

A request whose peer (REMOTE_ADDR) is not a trusted proxy says nothing about
its client: its X-Forwarded-For and X-Forwarded-Proto are removed, so no
later reader (SECURE_PROXY_SSL_HEADER, the rate limits, the admin lockout)
can be fooled by a client that reaches the server directly.

A request from a trusted proxy gets as REMOTE_ADDR the right-most address of
X-Forwarded-For that is not itself a trusted proxy: the address the nearest
untrusted hop connected from. Addresses further left were written by that
client and may be anything. The proxy's own address stays in
META["events_face.proxy_addr"].

REMOTE_ADDR is rewritten in the WSGI environ itself, so gunicorn's access log
(%(h)s, written after the response) shows the client too. gunicorn believes
X-Forwarded-Proto from the same addresses (`forwarded_allow_ips`,
gunicorn.conf.py). With TRUSTED_PROXIES unset this middleware does nothing:
Django believes no proxy header then (or, deprecated, NUM_PROXIES and
USE_X_FORWARDED_PROTO as before; config/settings/security.py).
"""

import ipaddress
from functools import lru_cache

from django.conf import settings

FORWARDED_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO")


@lru_cache(maxsize=8)
def trusted_networks(entries: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(entry) for entry in entries)


def is_trusted(address: str, networks: tuple) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(meta: dict, networks: tuple) -> str:
    """The client's address for a request from a trusted proxy (see the module's docstring)."""
    client = meta.get("REMOTE_ADDR", "")
    hops = [hop.strip() for hop in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    for hop in reversed(hops):
        try:
            client = str(ipaddress.ip_address(hop))
        except ValueError:
            break  # not an address: nothing to its left can be believed either
        if not is_trusted(client, networks):
            break
    return client


class TrustedProxyMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        if settings.TRUSTED_PROXIES:
            meta = request.META
            networks = trusted_networks(tuple(settings.TRUSTED_PROXIES))
            if is_trusted(meta.get("REMOTE_ADDR", ""), networks):
                meta["events_face.proxy_addr"] = meta["REMOTE_ADDR"]
                meta["REMOTE_ADDR"] = client_address(meta, networks)
            else:
                for name in FORWARDED_HEADERS:
                    meta.pop(name, None)
        return self.get_response(request)
