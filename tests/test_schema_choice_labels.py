"""The event list's `ordering` choices read well in Swagger UI: "`-event_time` - latest first",
not drf-spectacular's "-event_time - -event_time" that a choice without a label gives."""

import pytest
import yaml


@pytest.mark.django_db
def test_the_ordering_choices_have_readable_labels(api_client):
    schema = yaml.safe_load(api_client.get("/api/schema/").content)
    parameters = schema["paths"]["/api/events/"]["get"]["parameters"]
    ordering = next(parameter for parameter in parameters if parameter["name"] == "ordering")

    assert ordering["schema"]["enum"] == ["event_time", "-event_time"]
    assert "* `event_time` - earliest first" in ordering["description"]
    assert "* `-event_time` - latest first" in ordering["description"]
    assert "-event_time - -event_time" not in ordering["description"]
