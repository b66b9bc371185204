"""The client's address behind trusted proxies, and where a form may send the user next."""

import pytest
from django.test import RequestFactory

from nursery.http import client_ip, safe_next


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
