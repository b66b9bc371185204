"""Every URL of the project, against every actor: a URL without a declared expectation fails here."""

import importlib
import importlib.util

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from nursery.middleware import SESSION_KEY
from tests.access import ACTORS, SPLIT_ACTORS, Access

APPS = ["nursery", "consent", "posts", "moderation", "staff_conduct", "inspection", "retention", "people"]
# The admin is for superusers only (nursery/admin_site.py, tested over every model in tests/test_admin.py);
# the matrix checks its index only.
DELEGATED_NAMESPACES = {"admin"}


def declared() -> dict[str, Access]:
    entries: dict[str, Access] = {}
    for app in APPS:
        if importlib.util.find_spec(f"tests.{app}.access") is None:
            continue
        for entry in importlib.import_module(f"tests.{app}.access").ACCESS:
            assert entry.url_name not in entries, f"{entry.url_name} is declared twice"
            entries[entry.url_name] = entry
    return entries


def project_url_names(resolver=None, namespace="") -> set[str]:
    names = set()
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            if pattern.namespace in DELEGATED_NAMESPACES:
                names.add(f"{inner}index")
                continue
            names |= project_url_names(pattern, inner)
        elif isinstance(pattern, URLPattern):
            assert pattern.name, f"URL pattern {pattern.pattern} has no name, so access cannot be declared"
            names.add(f"{namespace}{pattern.name}")
    return names


DECLARED = declared()


def test_every_url_has_an_expectation():
    missing = project_url_names() - set(DECLARED)
    assert not missing, f"declare access for these URLs in tests/<app>/access.py: {sorted(missing)}"


def test_no_expectation_for_a_url_that_does_not_exist():
    assert not set(DECLARED) - project_url_names()


def _probe(client, world, url_name: str, entry: Access, user):
    url = reverse(url_name, kwargs=entry.kwargs(world) if entry.kwargs else None) + entry.query
    if entry.method == "post":
        data = entry.data(world) if entry.data else {}
        return client.post(url, {key: value(user) if callable(value) else value for key, value in data.items()})
    return client.get(url)


@pytest.mark.parametrize("url_name", sorted(DECLARED))
def test_access(url_name, world, split_people, client):
    entry = DECLARED[url_name]
    wrong = []
    for actor in ACTORS:
        client.logout()
        user = world.actor(actor)
        if user is not None:
            client.force_login(user)
        response = _probe(client, world, url_name, entry, user)
        if response.status_code != entry.expect[actor]:
            wrong.append(f"{actor}: expected {entry.expect[actor]}, got {response.status_code}")
    for actor, split in SPLIT_ACTORS.items():
        client.logout()
        user = split_people[split.person]
        client.force_login(user)
        session = client.session
        session[SESSION_KEY] = (world.nursery if split.works_here else world.other_nursery).pk
        session.save()
        response = _probe(client, world, url_name, entry, user)
        if response.status_code not in split.expected(entry, actor):
            wrong.append(f"{actor}: expected {split.expected(entry, actor)}, got {response.status_code}")
    assert not wrong, f"{url_name}: " + "; ".join(wrong)

