"""Publishing a new version of the consent wording (leadership only)."""

import pytest
from django.urls import reverse

from consent.models import ConsentWording, Scope
from consent.queries import State, consent_state
from consent.services import publish_wording
from nursery.errors import ServiceError
from tests.factories import grant

pytestmark = pytest.mark.django_db

NEW_TEXT = ("I give Kids Count permission to share photographs of my child on the private parents' pages and in the "
            "printed newsletter. You can withdraw this at any time in Safe Sharing or by telling the manager.")


def test_a_leader_publishes_the_next_version(world, wording):
    new = publish_wording(world.leader, nursery=world.nursery, scope=Scope.CLOSED, text=NEW_TEXT)
    assert (new.version, new.published_by, new.text) == (2, world.leader, NEW_TEXT)
    assert new.history.get().history_user == world.leader


def test_grants_of_the_old_version_stop_counting_at_once(world, wording):
    grant(world.child, Scope.CLOSED, guardian=world.parent, wording=wording[Scope.CLOSED])
    publish_wording(world.leader, nursery=world.nursery, scope=Scope.CLOSED, text=NEW_TEXT)
    assert consent_state(world.child, Scope.CLOSED).state == State.WORDING_CHANGED
    assert consent_state(world.child, Scope.PUBLIC).state == State.NOT_ASKED  # the other scope is untouched


@pytest.mark.parametrize("user", ["practitioner", "dsl", "parent", "outsider"])
def test_only_leadership_publishes(world, wording, user):
    with pytest.raises(ServiceError, match="leadership"):
        publish_wording(world.actor(user), nursery=world.nursery, scope=Scope.CLOSED, text=NEW_TEXT)
    assert ConsentWording.objects.filter(nursery=world.nursery).count() == 2


@pytest.mark.parametrize("text, message", [
    ("", "too short"),
    ("Photos. " * 3, "too short"),
    (NEW_TEXT.replace("Kids Count", "the nursery"), "name the nursery"),
    (NEW_TEXT.replace("withdraw", "change"), "withdrawn"),
])
def test_it_refuses_wording_that_does_not_say_what_it_must(world, wording, text, message):
    with pytest.raises(ServiceError, match=message):
        publish_wording(world.leader, nursery=world.nursery, scope=Scope.CLOSED, text=text)


def test_it_refuses_the_same_text_again(world, wording):
    publish_wording(world.leader, nursery=world.nursery, scope=Scope.CLOSED, text=NEW_TEXT)
    with pytest.raises(ServiceError, match="same as the current"):
        publish_wording(world.leader, nursery=world.nursery, scope=Scope.CLOSED, text=NEW_TEXT + "\n")


def test_the_publish_page_warns_how_many_children_it_affects(client, world, wording):
    grant(world.child, Scope.CLOSED, guardian=world.parent, wording=wording[Scope.CLOSED])
    client.force_login(world.leader)
    page = client.get(reverse("consent:publish_wording", args=[Scope.CLOSED])).content.decode()
    assert "Publishing version 2 replaces version 1" in page and "<strong>1 child</strong>" in page


def test_the_publish_page_needs_the_understood_tick(client, world, wording):
    client.force_login(world.leader)
    url = reverse("consent:publish_wording", args=[Scope.CLOSED])
    response = client.post(url, {"text": NEW_TEXT})
    assert response.status_code == 400 and "Please confirm" in response.content.decode()
    response = client.post(url, {"text": NEW_TEXT, "understood": "on"})
    assert response.status_code == 302
    page = client.get(response.url).content.decode()
    assert "Version 2" in page and "Current" in page and "printed newsletter" in page


def test_the_publish_page_shows_a_service_refusal_on_the_field(client, world, wording):
    client.force_login(world.leader)
    response = client.post(reverse("consent:publish_wording", args=[Scope.CLOSED]),
                           {"text": "Too short but ticked", "understood": "on"})
    assert response.status_code == 400 and "too short" in response.content.decode()


def test_an_unknown_scope_is_not_found(client, world):
    client.force_login(world.leader)
    assert client.get(reverse("consent:publish_wording", args=["everywhere"])).status_code == 404
