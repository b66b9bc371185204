"""Who may know what about an incident: leadership only, never its subject, and a whistleblower's name only
the whistleblowing officer (in the pages, the notifications, the admin and the history)."""

import pytest
from django.urls import reverse

from nursery.models import Notification
from staff_conduct import queries, services
from staff_conduct.models import ConfidentialReporter, Evidence, Incident, Outcome, Source
from tests.factories import UserFactory
from tests.staff_conduct.factories import png_upload

pytestmark = pytest.mark.django_db
WHISTLEBLOWER = "Wilhelmina Whistler"


@pytest.fixture
def whistleblower(world):
    world.practitioner.first_name, world.practitioner.last_name = WHISTLEBLOWER.split()
    world.practitioner.save()
    return world.practitioner


@pytest.fixture
def blown(world, report, whistleblower):
    """A whistleblowing report, with a screenshot, about the safeguarding lead, made through the web page."""
    return report(by=whistleblower, subject=world.dsl, source=Source.WHISTLEBLOWING, evidence=png_upload())


def page(client, user, url):
    client.force_login(user)
    return client.get(url)


# --- Leadership only, never the subject ---


@pytest.mark.parametrize("actor", ["practitioner", "dsl", "parent"])
def test_incidents_are_visible_only_to_leadership(world, client, report, actor):
    incident = report(subject=world.deputy)
    assert page(client, world.actor(actor), reverse("staff_conduct:incident", args=[incident.pk])).status_code == 403
    assert page(client, world.actor(actor), reverse("staff_conduct:incidents")).status_code == 403
    assert not queries.incidents_for(world.actor(actor), world.nursery).exists()


def test_a_leader_who_is_the_subject_cannot_see_or_act_on_their_incident(world, client, report):
    incident = report(subject=world.leader, evidence=png_upload())
    evidence = incident.evidence.get()
    client.force_login(world.leader)
    assert client.get(reverse("staff_conduct:incident", args=[incident.pk])).status_code == 404
    assert client.get(reverse("staff_conduct:evidence_file", args=[incident.pk, evidence.pk])).status_code == 404
    response = client.post(reverse("staff_conduct:incident_note", args=[incident.pk]), {"note-text": "Mine."})
    assert response.status_code == 404
    listing = client.get(reverse("staff_conduct:incidents"))
    assert incident not in listing.context["page"].object_list
    with pytest.raises(services.ServiceError, match="about yourself"):
        services.assign_investigator(world.leader, incident=incident, investigator=world.deputy,
                                     due_on=incident.occurred_on.replace(year=incident.occurred_on.year + 1))
    # The other leader sees it as usual.
    assert page(client, world.deputy, reverse("staff_conduct:incident", args=[incident.pk])).status_code == 200


def test_a_leader_who_is_the_subject_is_not_told_of_the_report(world, report):
    report(subject=world.leader)
    assert not Notification.objects.filter(recipient=world.leader).exists()
    assert Notification.objects.filter(recipient=world.deputy).exists()


def test_the_subject_is_told_the_outcome_by_notification_without_a_link(world, investigating):
    services.decide_outcome(world.deputy, incident=investigating, outcome=Outcome.WRITTEN_WARNING,
                            reason="Posted in uniform naming the nursery.", decided_on=investigating.occurred_on)
    told = Notification.objects.get(recipient=world.practitioner)
    assert told.url == ""
    assert "Written warning" in told.body and "Posted in uniform" in told.body
    assert "appeal" in told.body and "/conduct/" not in told.body
    assert "Safe Sharing" not in told.subject


def test_the_subject_is_not_told_who_reported_it(world, report):
    incident = report(subject=world.practitioner)
    investigating = services.assign_investigator(world.leader, incident=incident, investigator=world.deputy,
                                                 due_on=incident.occurred_on.replace(year=2100))
    services.decide_outcome(world.deputy, incident=investigating, outcome=Outcome.INFORMAL_ADVICE, reason="Advice.",
                            decided_on=incident.occurred_on)
    body = Notification.objects.get(recipient=world.practitioner).body
    assert world.dsl.get_full_name() not in body


# --- Whistleblowing ---


def test_a_whistleblowers_name_is_never_on_the_incident_nor_in_its_history(world, blown, whistleblower):
    assert blown.reported_by is None
    assert ConfidentialReporter.objects.get(incident=blown).reporter == whistleblower
    assert not Incident.history.filter(history_user=whistleblower).exists()
    assert not Incident.history.exclude(reported_by=None).exists()
    evidence = Evidence.objects.get(incident=blown)
    assert evidence.uploaded_by is None
    assert not Evidence.history.filter(history_user=whistleblower).exists()
    assert not hasattr(ConfidentialReporter, "history")


def test_a_whistleblowing_report_made_through_the_page_records_nobody_in_history(world, client, staff_policy,
                                                                                whistleblower):
    client.force_login(whistleblower)
    response = client.post(reverse("staff_conduct:report"), {
        "subject": world.dsl.pk, "source": Source.WHISTLEBLOWING, "occurred_on": "2026-11-01",
        "description": "Messages to a parent.", "evidence": png_upload(),
    })
    assert response.status_code == 302
    incident = Incident.objects.get()
    # The request's user would otherwise be recorded by simple-history's middleware.
    assert list(incident.history.values_list("history_user", flat=True)) == [None]
    assert list(Evidence.history.values_list("history_user", flat=True)) == [None]


def test_only_the_whistleblowing_officer_sees_the_reporter_on_the_pages(world, client, blown):
    detail = reverse("staff_conduct:incident", args=[blown.pk])
    other_leader = page(client, world.leader, detail).content.decode()
    assert WHISTLEBLOWER not in other_leader and "Confidential (whistleblowing)" in other_leader
    assert WHISTLEBLOWER not in table(page(client, world.leader, reverse("staff_conduct:incidents")))
    officer = page(client, world.deputy, detail).content.decode()
    assert WHISTLEBLOWER in officer
    assert WHISTLEBLOWER in table(page(client, world.deputy, reverse("staff_conduct:incidents")))


def table(response) -> str:
    """The list's rows (the staff filter above them names every member of staff, as it should)."""
    html = response.content.decode()
    return html[html.index("<tbody>"):html.index("</tbody>")]


def test_notifications_never_name_the_whistleblower(world, blown):
    services.assign_investigator(world.leader, incident=blown, investigator=world.deputy,
                                 due_on=blown.occurred_on.replace(year=2100))
    for notification in Notification.objects.all():
        assert WHISTLEBLOWER not in notification.subject + notification.body


@pytest.mark.parametrize("source", [Source.WHISTLEBLOWING, Source.ANONYMOUS])
def test_who_is_notified_does_not_point_to_a_confidential_reporter(world, report, source):
    report(by=world.leader, subject=world.practitioner, source=source)
    told = Notification.objects.filter(subject__startswith="Conduct concern reported")
    assert sorted(n.recipient.username for n in told) == ["deputy", "leader"]


def test_a_named_reporter_is_not_notified_of_their_own_report(world, report):
    report(by=world.leader, subject=world.practitioner)
    told = Notification.objects.filter(subject__startswith="Conduct concern reported")
    assert [n.recipient.username for n in told] == ["deputy"]


def test_an_anonymous_report_records_the_reporter_nowhere(world, report, whistleblower, client):
    incident = report(by=whistleblower, source=Source.ANONYMOUS, subject=world.dsl, evidence=png_upload())
    assert incident.reported_by is None
    assert not ConfidentialReporter.objects.exists()
    assert not Incident.history.filter(history_user=whistleblower).exists()
    assert Evidence.objects.get().uploaded_by is None
    officer = page(client, world.deputy, reverse("staff_conduct:incident", args=[incident.pk])).content.decode()
    assert WHISTLEBLOWER not in officer and "Anonymous" in officer


# --- The Django admin ---


@pytest.fixture
def auditor(world):
    return UserFactory(username="auditor", is_staff=True, is_superuser=True)


def test_the_admin_hides_the_whistleblower_from_an_auditing_superuser(world, client, blown, auditor):
    client.force_login(auditor)
    pages = [
        reverse("admin:staff_conduct_incident_changelist"),
        reverse("admin:staff_conduct_incident_change", args=[blown.pk]),
        reverse("admin:staff_conduct_incident_history", args=[blown.pk]),
        reverse("admin:staff_conduct_evidence_changelist"),
        reverse("admin:staff_conduct_confidentialreporter_changelist"),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert WHISTLEBLOWER not in response.content.decode(), url
        assert "whistler" not in response.content.decode().lower(), url
    assert "Confidential (whistleblowing)" in client.get(pages[0]).content.decode()
    history_rows = client.get(pages[2]).context["page_obj"].object_list
    assert history_rows and all(row.history_user_id != world.practitioner.pk for row in history_rows)


def test_the_admin_shows_the_whistleblower_to_the_officer(world, client, blown):
    world.deputy.is_staff = world.deputy.is_superuser = True
    world.deputy.save()
    client.force_login(world.deputy)
    assert WHISTLEBLOWER in client.get(reverse("admin:staff_conduct_incident_changelist")).content.decode()
    assert WHISTLEBLOWER in client.get(
        reverse("admin:staff_conduct_incident_change", args=[blown.pk])).content.decode()
    assert WHISTLEBLOWER in client.get(
        reverse("admin:staff_conduct_confidentialreporter_changelist")).content.decode()


def test_the_admin_hides_an_incident_from_its_subject(world, client, report):
    incident = report(subject=world.leader)
    world.leader.is_staff = world.leader.is_superuser = True
    world.leader.save()
    client.force_login(world.leader)
    assert client.get(reverse("admin:staff_conduct_incident_change", args=[incident.pk])).status_code == 302
    assert client.get(reverse("admin:staff_conduct_incident_history", args=[incident.pk])).status_code == 404
    assert incident.pk not in [i.pk for i in client.get(
        reverse("admin:staff_conduct_incident_changelist")).context["cl"].result_list]


def test_governance_records_are_read_only_in_the_admin(world, client, blown, auditor):
    client.force_login(auditor)
    for name in ("incident", "evidence", "investigationnote", "acknowledgement", "policyversion"):
        assert client.get(reverse(f"admin:staff_conduct_{name}_add")).status_code == 403
    assert client.post(reverse("admin:staff_conduct_incident_delete", args=[blown.pk])).status_code == 403
