"""The upstream clients verify TLS, with one context a process (loading the CAs costs 25 ms)."""

import ssl

from events_face.integrations import http


def _ssl_context_of(client) -> ssl.SSLContext:
    return client._transport._pool._ssl_context


def test_every_client_verifies_certificates_and_host_names():
    with http.client_create(headers={}) as client:
        context = _ssl_context_of(client)

    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is True
    assert context.cert_store_stats()["x509_ca"] > 0  # the CA store is loaded


def test_clients_share_the_process_context_instead_of_loading_the_cas_again():
    with http.client_create(headers={}) as first, http.client_create(headers={}, max_connections=4) as second:
        assert _ssl_context_of(first) is _ssl_context_of(second)
