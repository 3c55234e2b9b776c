"""/api/health/ answers JSON whatever the client accepts: some load balancers send
`Accept: text/html` and count anything but a 2xx as down."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "accept", ["text/html", "application/xml", "text/plain;q=1, */*;q=0", "application/json"]
)
def test_health_answers_200_json_whatever_accept_says(api_client, accept):
    response = api_client.get("/api/health/", HTTP_ACCEPT=accept)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"status": "ok"}
