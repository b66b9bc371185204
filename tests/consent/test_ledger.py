"""The ledger is evidence: rows are never updated or deleted, by code, by querysets or in the admin."""

import pytest
from django.contrib.admin.sites import site
from django.test import RequestFactory

from consent.models import ConsentDecision, ConsentRequest, ConsentWording, ImmutableRowError
from tests.factories import ConsentDecisionFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def decision(world, wording):
    return ConsentDecisionFactory(child=world.child, guardian=world.parent)


def test_it_refuses_to_save_a_decision_again(decision):
    decision.signature = "Someone Else"
    with pytest.raises(ImmutableRowError):
        decision.save()
    decision.refresh_from_db()
    assert decision.signature != "Someone Else"


def test_it_refuses_to_update_decisions_in_bulk(decision):
    with pytest.raises(ImmutableRowError):
        ConsentDecision.objects.filter(pk=decision.pk).update(decision="withdrawn")
    assert ConsentDecision.objects.get(pk=decision.pk).decision == "granted"


def test_it_refuses_to_delete_a_decision(decision):
    with pytest.raises(ImmutableRowError):
        decision.delete()
    with pytest.raises(ImmutableRowError):
        ConsentDecision.objects.filter(pk=decision.pk).delete()
    assert ConsentDecision.objects.filter(pk=decision.pk).exists()


@pytest.mark.parametrize("model", [ConsentDecision, ConsentWording, ConsentRequest])
def test_the_admin_shows_consent_records_read_only(model, decision):
    admin_user = UserFactory(username="auditor", is_staff=True, is_superuser=True)
    request = RequestFactory().get("/admin/")
    request.user = admin_user
    model_admin = site._registry[model]
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, None)
    assert not model_admin.has_delete_permission(request, None)


def test_the_admin_lists_decisions_for_the_auditor(client, decision):
    client.force_login(UserFactory(username="auditor", is_staff=True, is_superuser=True))
    response = client.get("/admin/consent/consentdecision/")
    assert response.status_code == 200
    assert "Amara Okafor" in response.content.decode()
    assert client.get(f"/admin/consent/consentdecision/{decision.pk}/history/").status_code == 200
