"""The security review's settings refuse a value they cannot use, naming the variable."""

import pytest

from tests.test_settings import manage

LOCAL = {"DEBUG": "true", "PATH": "/usr/bin:/bin"}


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("REGISTRATION_ADDRESS_RATE", "five an hour"),
        ("REGISTRATION_ADDRESS_RATE", "0/hour"),
        ("REGISTRATION_ADDRESS_RATE", "5/fortnight"),
        ("RESPONSE_CACHE_BREAK_SECONDS", "0"),
        ("RESPONSE_CACHE_BREAK_SECONDS", "-1"),
    ],
)
def test_an_unusable_value_stops_the_service_and_names_its_variable(variable, value):
    result = manage("check", **LOCAL, **{variable: value})

    assert result.returncode != 0
    assert variable in result.stderr


def test_the_documented_values_pass():
    result = manage("check", **LOCAL, REGISTRATION_ADDRESS_RATE="100/day", RESPONSE_CACHE_BREAK_SECONDS="2.5")

    assert result.returncode == 0, result.stderr
