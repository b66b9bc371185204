"""The client's address behind trusted proxies, where a form may send the user next, and how a service's
answer is reported."""

import pytest
from django import forms
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.test import RequestFactory

from nursery.errors import ServiceError
from nursery.http import Done, carry_out, client_ip, require_valid, safe_next


def request_from(remote="10.0.0.2", forwarded=None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


@pytest.mark.parametrize("count, forwarded, expected", [
    (0, "203.0.113.9", "10.0.0.2"),  # no proxy configured: a forwarded header is the client's own words
    (1, "203.0.113.9", "203.0.113.9"),  # one nginx: it appended the address it was reached from
    (1, "6.6.6.6, 203.0.113.9", "203.0.113.9"),  # a forged entry on the left is never read
    (2, "6.6.6.6, 203.0.113.9, 10.0.0.1", "203.0.113.9"),  # load balancer then nginx
    (2, "203.0.113.9", "10.0.0.2"),  # fewer hops than proxies: only the connection is known
    (1, "", "10.0.0.2"),
    (1, "not-an-address", "10.0.0.2"),
    (1, "2001:db8::1", "2001:db8::1"),
])
def test_the_client_is_read_behind_the_trusted_proxies_only(settings, count, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = count
    assert client_ip(request_from(forwarded=forwarded)) == expected


def test_django_axes_locks_out_the_same_address(settings):
    from axes.helpers import get_client_ip_address

    settings.TRUSTED_PROXY_COUNT = 1
    assert get_client_ip_address(request_from(forwarded="6.6.6.6, 203.0.113.9")) == "203.0.113.9"


def test_a_consent_decision_records_the_address_behind_the_proxy(settings, client, world):
    from consent.models import ConsentDecision, Scope
    from tests.consent.factories import wordings

    settings.TRUSTED_PROXY_COUNT = 1
    wording = wordings(world.nursery)[Scope.CLOSED]
    client.force_login(world.parent)
    client.post(f"/consent/child/{world.child.pk}/closed/grant/",
                {"wording": wording.pk, "read": "on", "signature": "Grace Okafor", "seen": ""},
                REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.4")
    assert ConsentDecision.objects.get().ip_address == "198.51.100.4"


@pytest.mark.parametrize("next_url, expected", [
    ("/posts/", "/posts/"),
    ("https://evil.example/", "/"),
    ("//evil.example/", "/"),
    ("https://testserver/posts/", "https://testserver/posts/"),  # this site itself
    ("", "/"),
])
def test_next_stays_on_this_site(next_url, expected):
    request = RequestFactory().post("/", {"next": next_url})
    assert safe_next(request, "home") == expected


def request_with_messages():
    request = RequestFactory().post("/")
    request.session = {}
    request._messages = FallbackStorage(request)
    return request


def said(request) -> list[tuple[str, str]]:
    return [(m.level_tag, m.message) for m in get_messages(request)]


class Reason(forms.Form):
    reason = forms.CharField()


def refuse():
    raise ServiceError("Only leadership can do that.")


class Result:
    warnings = ["Two children have no public consent."]


def test_a_refusal_becomes_an_error_message_and_nothing_else():
    request = request_with_messages()
    assert carry_out(request, refuse, "Done.") is None
    assert said(request) == [("danger", "Only leadership can do that.")]  # Bootstrap's name for it


def test_a_refusal_stays_on_the_form_when_there_is_one():
    request, form = request_with_messages(), Reason({"reason": "moved away"})
    assert form.is_valid()
    assert carry_out(request, refuse, "Done.", form=form) is None
    assert form.non_field_errors() == ["Only leadership can do that."]
    assert said(request) == []


def test_success_is_reported_with_the_services_warnings_even_when_it_returns_nothing():
    request = request_with_messages()
    assert carry_out(request, lambda: None, "Saved.") == Done(None)
    assert carry_out(request, Result, lambda result: f"Saved {type(result).__name__}.")
    assert said(request) == [("success", "Saved."), ("success", "Saved Result."),
                             ("warning", "Two children have no public consent.")]


def test_a_missing_reason_is_a_refusal_in_the_persons_words():
    with pytest.raises(ServiceError, match="Say why."):
        require_valid(Reason({"reason": ""}), "Say why.")
    assert require_valid(Reason({"reason": "left"}), "Say why.") == {"reason": "left"}
