"""The catalogue reads remember verified tokens, but never for a forged copy.

That a remembered token is refused once it expires is test_token_refusals.py's
`test_a_remembered_token_is_told_expired_once_it_expires`.
"""

import pytest
from rest_framework_simplejwt.tokens import AccessToken

from tests.support.factories import client_with_token, make_event, make_user

pytestmark = pytest.mark.django_db


def test_a_forged_copy_of_a_remembered_token_is_refused():
    make_event()
    token = str(AccessToken.for_user(make_user()))
    assert client_with_token(token).get("/api/events/").status_code == 200
    header, payload, signature = token.split(".")
    forged = f"{header}.{payload}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"

    response = client_with_token(forged).get("/api/events/")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_not_valid"
