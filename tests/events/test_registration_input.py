"""The register call's body: the plain-input check answers as `RegistrationInputSerializer` does.

`serializers.registration_input` validates a plain body (printable ASCII name and
address, `waitlist` a boolean or absent) without the serializer, and hands everything
else to it. What it accepts, the serializer must accept with the same result.
"""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.exceptions import ValidationError

from events_face.events.errors import EmailDomainNotPublic
from events_face.events.serializers import (
    RegistrationInputSerializer,
    _plain_registration_input,
    registration_input,
)

ascii_text = st.text(st.characters(min_codepoint=0, max_codepoint=127), max_size=140)
any_text = st.text(max_size=300)
names = st.one_of(
    ascii_text, any_text, st.sampled_from(["Ada Lovelace", "  Ada  ", "", " ", "x" * 128, "x" * 129])
)
addresses = st.one_of(
    st.emails(),
    ascii_text,
    any_text,
    st.sampled_from(
        [
            "ada@gmail.com",
            " Ada@GMAIL.com ",
            "ada@mail.test",  # a reserved top-level domain: EmailDomainNotPublic
            "ada@[127.0.0.1]",
            "ada@localhost",
            "ada@xn--bcher-kva.de",
            "ada@bücher.de",
            "a@b",
            f"{'a' * 64}@{'b' * 63}.{'c' * 63}.{'d' * 63}.com",
        ]
    ),
)
values = st.one_of(st.booleans(), st.none(), st.integers(), ascii_text, st.lists(st.integers(), max_size=2))


@st.composite
def bodies(draw):
    body = {}
    for key, strategy in (("full_name", names), ("email", addresses), ("waitlist", st.booleans())):
        if draw(st.integers(0, 9)) > 0:  # present nine times in ten
            body[key] = draw(st.one_of(strategy, values) if draw(st.booleans()) else strategy)
    if draw(st.integers(0, 9)) == 0:
        body[draw(st.sampled_from(["extra", "name", "Email"]))] = draw(values)
    return body


def serializer_answer(data):
    payload = RegistrationInputSerializer(data=data)
    try:
        valid = payload.is_valid()
    except EmailDomainNotPublic:
        return "refused"
    return dict(payload.validated_data) if valid else "refused"


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bodies())
def test_what_the_plain_check_accepts_the_serializer_accepts_the_same(body):
    plain = _plain_registration_input(body)
    if plain is not None:
        assert serializer_answer(body) == plain


@settings(max_examples=300, deadline=None)
@given(
    st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=60),
    st.from_regex(r"\A[a-z0-9._%+-]{1,30}@[a-z0-9-]{1,20}\.(com|org|ru|de)\Z"),
    st.one_of(st.none(), st.booleans()),
)
def test_a_plain_body_the_serializer_accepts_takes_the_plain_way(name, address, waitlist):
    body = {"full_name": f" {name} ", "email": address}
    if waitlist is not None:
        body["waitlist"] = waitlist
    expected = serializer_answer(body)
    if expected != "refused":
        assert _plain_registration_input(body) == expected


printable_ascii = st.characters(min_codepoint=0x20, max_codepoint=0x7E)


@settings(max_examples=500, deadline=None)
@given(st.text(st.one_of(printable_ascii, st.sampled_from("\t\n ")), max_size=135))
def test_on_printable_ascii_names_the_two_agree_both_ways(name):
    body = {"full_name": name, "email": "ada@gmail.com"}
    expected = serializer_answer(body)
    plain = _plain_registration_input(body)
    if name.strip().isprintable():
        assert plain == (None if expected == "refused" else expected)
    else:
        assert plain is None


@settings(max_examples=500, deadline=None)
@given(
    st.one_of(
        st.emails(),
        st.text(printable_ascii, max_size=260),
        # Any local part, and one of 1 to 250 characters, at a public domain.
        st.builds(
            "{}@{}".format,
            st.one_of(st.text(printable_ascii, max_size=70), st.integers(1, 250).map("a".__mul__)),
            st.sampled_from(
                ["gmail.com", "Mail.RU", "b\u00fccher.de", "xn--bcher-kva.de", "x.test", "[1.2.3.4]"]
            ),
        ),
    )
)
def test_on_printable_ascii_addresses_the_two_agree_both_ways(address):
    body = {"full_name": "Ada", "email": address}
    expected = serializer_answer(body)
    plain = _plain_registration_input(body)
    if address.strip().isascii() and address.strip().isprintable():
        assert plain == (None if expected == "refused" else expected)
    else:
        assert plain is None


@pytest.mark.parametrize(
    "body",
    [
        {"full_name": "Ada", "email": "not an address"},
        {"full_name": "", "email": "ada@gmail.com"},
        {"full_name": "Ada\u202e", "email": "ada@gmail.com"},
        {"full_name": "Ada", "email": "ada@gmail.com", "waitlist": "yes"},
        {"email": "ada@gmail.com"},
        ["not", "an", "object"],
    ],
)
def test_a_refusal_is_the_serializers_own(body):
    with pytest.raises(ValidationError) as refusal:
        registration_input(body)
    expected = RegistrationInputSerializer(data=body)
    assert not expected.is_valid()
    assert refusal.value.detail == expected.errors


def test_a_private_domain_is_refused_as_the_serializer_refuses_it():
    with pytest.raises(EmailDomainNotPublic):
        registration_input({"full_name": "Ada", "email": "ada@mail.test"})
