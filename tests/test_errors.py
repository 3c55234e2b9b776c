"""Every error has one JSON shape, and bad input never becomes a 500."""

import pytest

from tests.support.factories import make_event

pytestmark = pytest.mark.django_db


def test_an_unknown_api_path_is_a_json_404(auth_client):
    response = auth_client.get("/api/nothing-here/")

    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Not found."}}


def test_a_wrong_method_is_405_in_the_error_shape(auth_client):
    response = auth_client.delete("/api/events/")

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_get_on_register_is_405(auth_client):
    response = auth_client.get(f"/api/events/{make_event().id}/register/")

    assert response.status_code == 405


@pytest.mark.parametrize(
    "path",
    [
        "/api/events/%00/",
        "/api/events/%ff%fe/register/",
        "/api/events/?name=%00",
        "/api/events/?status=%00",
        "/api/events/?date_from=%00",
        "/api/events/?cursor=%00",
    ],
)
def test_nul_bytes_and_broken_encodings_in_the_url_are_4xx(auth_client, path):
    response = auth_client.get(path)

    assert 400 <= response.status_code < 500
    assert "error" in response.json()


def test_unknown_api_paths_are_json_404_with_debug_on_too(auth_client, settings):
    settings.DEBUG = True

    response = auth_client.get("/api/nothing-here/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
