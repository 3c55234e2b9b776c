"""Personal answers and errors are never stored by a shared cache or a browser:
`Cache-Control: private, no-store`, set in one place (core/errors.py's middleware).
The catalogue's reads keep their own short private max-age and ETag."""

import pytest

from tests.support.factories import make_event

pytestmark = pytest.mark.django_db

NO_STORE = "private, no-store"


def test_the_registration_list_is_not_stored(auth_client):
    response = auth_client.get("/api/registrations/")

    assert response.status_code == 200
    assert response["Cache-Control"] == NO_STORE


def test_a_registration_is_not_stored(auth_client):
    event = make_event()

    response = auth_client.post(
        f"/api/events/{event.id}/register/", {"full_name": "Ada", "email": "ada@example.com"}, format="json"
    )

    assert response.status_code == 201
    assert response["Cache-Control"] == NO_STORE


@pytest.mark.parametrize(
    "path",
    [
        "/api/events/?status=nonsense",  # 400 from a catalogue read
        "/api/events/not-an-id/",  # 404 from a catalogue read
        "/api/no-such-endpoint/",  # 404 no view matched
    ],
)
def test_errors_are_not_stored(auth_client, path):
    response = auth_client.get(path)

    assert response.status_code >= 400
    assert response["Cache-Control"] == NO_STORE


def test_an_unauthenticated_request_is_not_stored(api_client):
    response = api_client.get("/api/registrations/")

    assert response.status_code == 401
    assert response["Cache-Control"] == NO_STORE


def test_the_catalogue_keeps_its_own_cache_control(auth_client):
    event = make_event()

    for url in ["/api/events/", f"/api/events/{event.id}/"]:
        response = auth_client.get(url)
        assert response["Cache-Control"] == "private, max-age=5"
        assert response.has_header("ETag")
