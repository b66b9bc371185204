"""The parents' pages: my children, read and decide, withdraw, history."""

import pytest
from django.urls import reverse

from consent.models import ConsentDecision, Decision, Scope
from consent.queries import consent_state
from tests.consent.factories import wordings
from tests.factories import ChildFactory, GuardianshipFactory, UserFactory, grant

pytestmark = pytest.mark.django_db


@pytest.fixture
def parent_client(client, world, wording):
    client.force_login(world.parent)
    return client


def decide_url(world, scope=Scope.CLOSED, name="decide"):
    return reverse(f"consent:{name}", args=[world.child.pk, scope])


def grant_form(wordings_, scope=Scope.CLOSED, seen="", **overrides):
    return {"wording": wordings_[scope].pk, "read": "on", "signature": "Grace Okafor", "seen": seen, **overrides}


def test_my_children_shows_both_scopes_in_plain_words(parent_client, world):
    GuardianshipFactory(child=ChildFactory(nursery=world.nursery, first_name="Tobi"), user=world.parent)
    grant(world.child, Scope.CLOSED, guardian=world.parent)
    page = parent_client.get(reverse("consent:mine")).content.decode()
    assert "Amara" in page and "Tobi" in page
    assert "Photos may be shared on our private parents&#x27; page" in page
    assert "Not on public pages" in page
    assert "Last changed" in page and "by you" in page


def test_my_children_shows_only_my_children(parent_client, world):
    ChildFactory(nursery=world.nursery, first_name="Zebedee")
    assert "Zebedee" not in parent_client.get(reverse("consent:mine")).content.decode()


def test_the_decide_page_shows_the_full_wording_and_the_form(parent_client, world, wording):
    page = parent_client.get(decide_url(world)).content.decode()
    assert wording[Scope.CLOSED].text.replace("'", "&#x27;") in page
    assert "I have read this and I agree" in page and "Type your full name" in page
    assert f'name="wording" value="{wording[Scope.CLOSED].pk}"' in page


def test_a_parent_grants_from_the_page(parent_client, world, wording):
    response = parent_client.post(decide_url(world, name="grant"), grant_form(wording),
                                  HTTP_USER_AGENT="Mobile Safari", REMOTE_ADDR="198.51.100.4")
    assert response.status_code == 302
    decision = ConsentDecision.objects.get()
    assert (decision.guardian, decision.user_agent, decision.ip_address) == (world.parent, "Mobile Safari",
                                                                            "198.51.100.4")
    page = parent_client.get(response.url).content.decode()
    assert "Thank you" in page and "Withdraw consent" in page


@pytest.mark.parametrize("overrides, error", [
    ({"read": ""}, "Please tick to say you have read it."),
    ({"signature": ""}, "Please type your full name as your signature."),
    ({"signature": "    "}, "Please type your full name as your signature."),
    ({"signature": "1234"}, "Please type your full name as your signature"),
])
def test_it_refuses_an_incomplete_grant_and_says_why(parent_client, world, wording, overrides, error):
    response = parent_client.post(decide_url(world, name="grant"), grant_form(wording, **overrides))
    assert response.status_code == 400
    assert error in response.content.decode()
    assert not ConsentDecision.objects.exists()


def test_it_refuses_a_tampered_wording_id(parent_client, world, wording):
    response = parent_client.post(decide_url(world, name="grant"),
                                  grant_form(wording, wording=wording[Scope.PUBLIC].pk), follow=True)
    assert "The consent wording has changed" in response.content.decode()
    assert not ConsentDecision.objects.exists()


def test_it_refuses_a_replayed_form_after_a_newer_decision(parent_client, world, wording):
    dad = GuardianshipFactory(child=world.child, relationship="father").user
    grant(world.child, Scope.CLOSED, guardian=dad, wording=wording[Scope.CLOSED])
    response = parent_client.post(decide_url(world, name="grant"), grant_form(wording, seen=""), follow=True)
    assert "newer decision" in response.content.decode()
    assert ConsentDecision.objects.count() == 1


def test_a_double_submit_records_one_decision(parent_client, world, wording):
    url = decide_url(world, name="grant")
    parent_client.post(url, grant_form(wording))
    response = parent_client.post(url, grant_form(wording), follow=True)
    assert "already given this consent" in response.content.decode()
    assert ConsentDecision.objects.count() == 1


def test_withdrawing_is_one_button_and_a_confirmation(parent_client, world, wording):
    grant(world.child, Scope.PUBLIC, guardian=world.parent, wording=wording[Scope.PUBLIC])
    confirm = parent_client.get(decide_url(world, Scope.PUBLIC, "withdraw")).content.decode()
    assert "Yes, stop photos" in confirm and "reason" in confirm and "signature" not in confirm.lower()
    seen = ConsentDecision.objects.get().pk
    response = parent_client.post(decide_url(world, Scope.PUBLIC, "withdraw"), {"seen": seen}, follow=True)
    page = response.content.decode()
    assert "Not on public pages" in page and "What happens next" in page and "taken down" in page
    assert ConsentDecision.objects.latest("pk").decision == Decision.WITHDRAWN
    assert not consent_state(world.child, Scope.PUBLIC).effective


def test_a_parent_can_say_no_without_ever_granting(parent_client, world):
    response = parent_client.post(decide_url(world, name="withdraw"), {"seen": ""})
    assert response.status_code == 302
    assert ConsentDecision.objects.get().decision == Decision.WITHDRAWN


def test_the_history_shows_every_decision_with_its_wording(parent_client, world, wording):
    grant(world.child, Scope.CLOSED, guardian=world.parent, wording=wording[Scope.CLOSED])
    new = wordings(world.nursery, version=2)
    grant(world.child, Scope.CLOSED, guardian=world.parent, wording=new[Scope.CLOSED])
    page = parent_client.get(reverse("consent:history", args=[world.child.pk])).content.decode()
    assert "Wording version 1" in page and "Wording version 2" in page
    assert "(closed, v1)" in page and "(closed, v2)" in page


def test_a_guardian_without_parental_responsibility_sees_but_cannot_decide(client, world, wording):
    granny = GuardianshipFactory(child=world.child, relationship="grandmother",
                                 has_parental_responsibility=False).user
    client.force_login(granny)
    page = client.get(decide_url(world)).content.decode()
    assert "only a parent or carer with parental responsibility" in page
    assert "Give consent" not in page
    assert client.post(decide_url(world, name="grant"), grant_form(wording)).status_code == 403
    assert client.post(decide_url(world, name="withdraw"), {"seen": ""}).status_code == 403
    assert client.get(decide_url(world, name="withdraw")).status_code == 403
    assert not ConsentDecision.objects.exists()


def test_another_parents_child_is_not_found(client, world, wording):
    other_parent = GuardianshipFactory(child=ChildFactory(nursery=world.nursery)).user
    client.force_login(other_parent)
    assert client.get(decide_url(world)).status_code == 404
    assert client.post(decide_url(world, name="grant"), grant_form(wording)).status_code == 404
    assert client.post(decide_url(world, name="withdraw"), {"seen": ""}).status_code == 404
    assert client.get(reverse("consent:history", args=[world.child.pk])).status_code == 404
    assert not ConsentDecision.objects.exists()


def test_a_scope_that_does_not_exist_is_not_found(parent_client, world, wording):
    assert parent_client.get(decide_url(world, "everywhere")).status_code == 404
    assert parent_client.post(decide_url(world, "everywhere", "grant"), grant_form(wording)).status_code == 404


def test_granting_needs_a_post(parent_client, world):
    assert parent_client.get(decide_url(world, name="grant")).status_code == 405


def test_without_published_wording_the_page_says_so(client, world):
    client.force_login(world.parent)
    page = client.get(decide_url(world)).content.decode()
    assert "has not published the consent wording" in page


def test_a_user_who_is_not_a_parent_here_is_refused(client, world):
    client.force_login(UserFactory())
    assert client.get(reverse("consent:mine")).status_code == 403


@pytest.mark.parametrize("name, args, user, method", [
    ("consent:mine", [], "parent", "post"),
    ("consent:history", ["child"], "parent", "post"),
    ("consent:decide", ["child", "closed"], "parent", "post"),
    ("consent:withdraw", ["child", "closed"], "parent", "put"),
    ("consent:register", [], "leader", "post"),
    ("consent:photo_list", [], "leader", "post"),
    ("consent:register_csv", [], "leader", "post"),
    ("consent:evidence", ["child"], "leader", "post"),
    ("consent:wordings", [], "leader", "post"),
    ("consent:publish_wording", ["closed"], "leader", "delete"),
    ("consent:paper_start", [], "practitioner", "post"),
    ("consent:paper", ["child"], "practitioner", "put"),
])
def test_each_page_refuses_the_wrong_method(client, world, wording, name, args, user, method):
    client.force_login(world.actor(user))
    url = reverse(name, args=[world.child.pk if a == "child" else a for a in args])
    assert getattr(client, method)(url).status_code == 405
    assert not ConsentDecision.objects.exists()


def test_a_signature_that_is_not_the_parents_name_is_refused_on_the_form(parent_client, world, wording):
    response = parent_client.post(decide_url(world, name="grant"), grant_form(wording, signature="Mickey Mouse"))
    assert response.status_code == 400
    assert "Please sign with your full name as the nursery has it: Grace Okafor" in response.content.decode()
    assert not ConsentDecision.objects.exists()


def test_the_parents_name_signs_however_it_is_typed(parent_client, world, wording):
    parent_client.post(decide_url(world, name="grant"), grant_form(wording, signature="grace  OKAFOR"))
    assert ConsentDecision.objects.get().signature == "grace OKAFOR"
