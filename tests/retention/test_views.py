from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from retention.forms import PERIOD_FIELDS
from retention.models import LegalHold, RetentionSchedule
from retention.services import run_retention
from tests.retention.factories import leaver, notification, photo

pytestmark = pytest.mark.django_db


def test_the_page_shows_what_goes_in_the_next_30_days_and_the_last_runs(client, world):
    now = timezone.now()
    notification(world.parent, nursery=world.nursery, at=now - timedelta(days=100))
    run_retention(now=now)
    notification(world.parent, nursery=world.nursery, at=now - timedelta(days=95))  # due now
    notification(world.parent, nursery=world.nursery, at=now - timedelta(days=70))  # due in 20 days
    notification(world.parent, nursery=world.nursery, at=now - timedelta(days=50))  # not within 30 days
    client.force_login(world.leader)
    response = client.get(reverse("retention:overview"))
    assert response.status_code == 200
    row = next(r for r in response.context["upcoming"] if r.kind.name == "notifications")
    assert (row.due_now, row.within_30_days) == (1, 2)
    assert "notifications: 1" in response.content.decode()


def test_the_page_costs_the_same_queries_at_5_and_50_records(client, world, django_assert_max_num_queries):
    client.force_login(world.leader)
    for n in (5, 50):
        for _ in range(n):
            photo(world.nursery, leaver(world.nursery, left_on=timezone.localdate() - timedelta(days=40)))
        run_retention()
        with django_assert_max_num_queries(45):
            assert client.get(reverse("retention:overview")).status_code == 200


def test_a_leader_changes_the_schedule_within_its_limits(client, world):
    client.force_login(world.leader)
    data = {f: getattr(RetentionSchedule(), f) for f in PERIOD_FIELDS}
    response = client.post(reverse("retention:schedule"), {**data, "consent_years": 40})
    assert response.status_code == 400
    assert not RetentionSchedule.objects.exists()
    response = client.post(reverse("retention:schedule"), {**data, "consent_years": 10})
    assert response.status_code == 302
    schedule = RetentionSchedule.objects.get(nursery=world.nursery)
    assert schedule.consent_years == 10
    assert schedule.history.get().history_user == world.leader


def test_a_leader_places_and_releases_a_hold(client, world):
    client.force_login(world.leader)
    response = client.post(reverse("retention:hold_new"), {"child": world.child.pk, "reason": "Claim"})
    assert response.status_code == 302
    hold = LegalHold.objects.get()
    assert hold.child == world.child and hold.placed_by == world.leader
    client.post(reverse("retention:hold_release", args=[hold.pk]), {"release_reason": "Settled"})
    hold.refresh_from_db()
    assert not hold.is_active and hold.release_reason == "Settled"


def test_a_hold_form_needs_exactly_one_thing(client, world):
    client.force_login(world.leader)
    response = client.post(reverse("retention:hold_new"), {"child": world.child.pk, "person": world.parent.pk,
                                                           "reason": "Claim"})
    assert response.status_code == 400
    assert not LegalHold.objects.exists()


def test_a_leader_cannot_hold_an_incident_about_themselves(client, world):
    from tests.staff_conduct.factories import IncidentFactory

    about_me = IncidentFactory(nursery=world.nursery, subject=world.leader)
    client.force_login(world.leader)
    response = client.post(reverse("retention:hold_new"), {"incident": about_me.pk, "reason": "Claim"})
    assert response.status_code == 400
    assert not LegalHold.objects.exists()


def test_the_pages_refuse_the_wrong_method(client, world):
    client.force_login(world.leader)
    assert client.post(reverse("retention:overview")).status_code == 405
    assert client.get(reverse("retention:hold_release", args=[1])).status_code == 405


@pytest.mark.parametrize("url_name", ["retention:access", "retention:erasure_list"])
def test_the_request_lists_cost_the_same_at_5_and_60_requests(client, world, url_name,
                                                               django_assert_max_num_queries):
    from retention.models import ErasureRequest, SubjectAccessRequest

    client.force_login(world.leader)
    model = SubjectAccessRequest if url_name == "retention:access" else ErasureRequest
    for n in (5, 55):
        model.objects.bulk_create([
            model(nursery=world.nursery, subject=world.parent, received_on=timezone.localdate(),
                  requested_by=world.leader, requested_at=timezone.now()) for _ in range(n)])
        with django_assert_max_num_queries(14):
            assert client.get(reverse(url_name)).status_code == 200


def test_the_request_forms_offer_today_as_an_iso_date_for_the_date_picker(client, world):
    client.force_login(world.leader)
    page = client.get(reverse("retention:access")).content.decode()
    assert f'value="{timezone.localdate().isoformat()}"' in page


def test_leadership_home_shows_requests_still_to_answer_with_the_oldest_deadline(client, world):
    from datetime import date

    from retention.services import record_erasure_request

    client.force_login(world.leader)
    assert "Personal data requests" not in client.get(reverse("home")).content.decode()
    record_erasure_request(world.leader, nursery=world.nursery, subject=world.parent, received_on=date(2026, 11, 30))
    page = client.get(reverse("home")).content.decode()
    assert "1 erasure request not yet carried out" in page and "30 December 2026" in page
    client.force_login(world.parent)
    assert "Personal data requests" not in client.get(reverse("home")).content.decode()
