import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from nursery.models import Role
from staff_conduct.models import (
    Acknowledgement,
    ConfidentialReporter,
    Incident,
    Outcome,
    PolicyKind,
    PolicyVersion,
    Source,
    Status,
)
from tests.factories import GuardianshipFactory, member
from tests.staff_conduct.factories import AcknowledgementFactory, IncidentFactory, png_upload

pytestmark = pytest.mark.django_db


def login(client, user):
    client.force_login(user)
    return client


# --- Policies ---


def test_staff_home_shows_the_policy_first_until_acknowledged(world, client, staff_policy):
    login(client, world.practitioner)
    home = client.get(reverse("home")).content.decode()
    assert "Please read and acknowledge the staff social media policy" in home
    cards = home[home.index('<div class="row g-3">'):]
    assert "Please read and acknowledge" in cards[:cards.index("</h2>")]  # the first card of all
    page = client.get(reverse("staff_conduct:policy", args=["staff"]))
    assert "Not name the setting you work at." in page.content.decode()
    response = client.post(reverse("staff_conduct:acknowledge", args=["staff"]),
                           {"signature": "Chloe Bennett", "version": staff_policy.pk}, REMOTE_ADDR="10.1.2.3",
                           HTTP_USER_AGENT="Tablet")
    assert response.status_code == 302 and response.url == reverse("home")
    ack = Acknowledgement.objects.get(user=world.practitioner)
    assert (ack.signature, ack.ip_address, ack.user_agent) == ("Chloe Bennett", "10.1.2.3", "Tablet")
    assert "Please read and acknowledge" not in client.get(reverse("home")).content.decode()
    assert "You have acknowledged this version" in client.get(
        reverse("staff_conduct:policy", args=["staff"])).content.decode()


def test_parents_read_and_acknowledge_the_parents_rules(world, client, parents_rules):
    login(client, world.parent)
    assert "acknowledge the parents" in client.get(reverse("home")).content.decode()
    assert client.get(reverse("staff_conduct:policy", args=["staff"])).status_code == 403
    response = client.post(reverse("staff_conduct:acknowledge", args=["parents"]),
                           {"signature": "Grace Okafor", "version": parents_rules.pk})
    assert response.status_code == 302
    assert Acknowledgement.objects.filter(user=world.parent, version=parents_rules).exists()


def test_an_empty_signature_shows_a_field_error_and_records_nothing(world, client, staff_policy):
    login(client, world.practitioner)
    response = client.post(reverse("staff_conduct:acknowledge", args=["staff"]), {"signature": "",
                                                                                   "version": staff_policy.pk})
    assert response.status_code == 400
    assert "This field is required" in response.content.decode()
    assert not Acknowledgement.objects.exists()


def test_a_page_opened_before_a_new_version_sends_the_reader_back(world, client, staff_policy):
    login(client, world.practitioner)
    response = client.post(reverse("staff_conduct:acknowledge", args=["staff"]),
                           {"signature": "Chloe Bennett", "version": staff_policy.pk + 100}, follow=True)
    assert "A newer version has been published" in response.content.decode()
    assert not Acknowledgement.objects.exists()


def test_acknowledge_refuses_get_and_unknown_kinds(world, client, staff_policy):
    login(client, world.practitioner)
    assert client.get(reverse("staff_conduct:acknowledge", args=["staff"])).status_code == 405
    assert client.get(reverse("staff_conduct:policy", args=["visitors"])).status_code == 404


def test_a_leader_publishes_a_new_version_from_the_page(world, client, staff_policy):
    login(client, world.leader)
    form = client.get(reverse("staff_conduct:publish", args=["staff"]))
    assert "Not name the setting you work at." in form.content.decode()  # the current clauses, to edit
    response = client.post(reverse("staff_conduct:publish", args=["staff"]), {
        "text": "Revised policy.", "clauses": "· Not name the setting.\n\n· Not message parents.",
        "effective_on": timezone.localdate().isoformat(),
    })
    assert response.status_code == 302
    newer = PolicyVersion.objects.get(version=2)
    assert [c.text for c in newer.clauses.all()] == ["Not name the setting.", "Not message parents."]
    assert newer.published_by == world.leader


def test_publishing_in_the_past_shows_the_reason(world, client, staff_policy):
    login(client, world.leader)
    response = client.post(reverse("staff_conduct:publish", args=["staff"]), {
        "text": "Revised.", "clauses": "One", "effective_on": "2020-01-01"})
    assert response.status_code == 200 and "cannot come into force in the past" in response.content.decode()
    assert PolicyVersion.objects.count() == 1


# --- Acknowledgement status ---


def add_parents(world, count):
    for _ in range(count):
        GuardianshipFactory(child=world.child)


def export_rows(response) -> list[dict]:
    assert response.streaming
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


@pytest.mark.parametrize("parents", [5, 500])
def test_the_status_page_keeps_its_queries_constant(world, client, staff_policy, parents_rules, parents,
                                                    django_assert_max_num_queries):
    add_parents(world, parents)
    for membership in world.nursery.memberships.filter(role=Role.PARENT)[: parents // 2]:
        AcknowledgementFactory(version=parents_rules, user=membership.user)
    login(client, world.leader)
    for params in ({}, {"outstanding": "1", "page_parents": "2"}, {"q": "a"}):
        # Versions and counts in two queries; each policy's page in one or two slices (outstanding, then
        # acknowledged); the rows of both in three; a search counts its matches, one query a policy.
        with django_assert_max_num_queries(16 if "q" in params else 14):
            response = client.get(reverse("staff_conduct:acknowledgements"), params)
        assert response.status_code == 200
    with django_assert_max_num_queries(17):  # five more a thousand people
        rows = export_rows(client.get(reverse("staff_conduct:acknowledgements_csv")))
    assert sum(row["policy"] == PolicyKind.PARENTS.label for row in rows) == parents + 1


def test_the_status_page_shows_a_page_of_people_at_a_time(world, client, parents_rules, monkeypatch):
    monkeypatch.setattr("staff_conduct.queries.STATUS_CHUNK", 7)  # the export batches, and misses nobody
    add_parents(world, 60)
    login(client, world.leader)
    page = client.get(reverse("staff_conduct:acknowledgements"))
    parents = {s.kind: s for s in page.context["statuses"]}[PolicyKind.PARENTS]
    assert parents.audience == 61 and parents.outstanding == 61
    assert len(parents.rows) == 50 and parents.next_query == "?page_parents=2"
    second = client.get(reverse("staff_conduct:acknowledgements"), {"page_parents": 2, "outstanding": 1})
    parents = {s.kind: s for s in second.context["statuses"]}[PolicyKind.PARENTS]
    assert len(parents.rows) == 11 and "Page 2 of 2" in second.content.decode()
    rows = export_rows(client.get(reverse("staff_conduct:acknowledgements_csv")))
    assert len({row["username"] for row in rows if row["policy"] == PolicyKind.PARENTS.label}) == 61


def test_the_status_page_and_export_say_who_has_and_has_not(world, client, staff_policy):
    AcknowledgementFactory(version=staff_policy, user=world.dsl, signature="Priya Shah")
    world.dsl.first_name = "=HYPERLINK"
    world.dsl.save()
    login(client, world.leader)
    page = client.get(reverse("staff_conduct:acknowledgements"))
    statuses = {s.kind: s for s in page.context["statuses"]}
    assert statuses[PolicyKind.STAFF].acknowledged == 1 and statuses[PolicyKind.STAFF].outstanding == 3
    assert statuses[PolicyKind.STAFF].rows[-1].user == world.dsl  # outstanding people first
    outstanding = client.get(reverse("staff_conduct:acknowledgements") + "?outstanding=1")
    names = [row.user for row in outstanding.context["statuses"][0].rows]
    assert world.dsl not in names and world.practitioner in names
    found = client.get(reverse("staff_conduct:acknowledgements"), {"q": "practitioner"})
    assert [row.user for row in found.context["statuses"][0].rows] == [world.practitioner]
    export = client.get(reverse("staff_conduct:acknowledgements_csv"))
    assert export["Content-Disposition"].startswith("attachment")
    rows = export_rows(export)
    by_user = {r["username"]: r for r in rows if r["policy"] == "Staff social media policy"}
    assert by_user["dsl"]["acknowledged"] == "yes" and by_user["dsl"]["signature"] == "Priya Shah"
    assert by_user["dsl"]["name"].startswith("'=")  # never a spreadsheet formula
    assert by_user["practitioner"]["acknowledged"] == "no"
    assert "parent" not in by_user and "outsider" not in by_user


# --- Reporting a concern ---


def test_a_practitioner_reports_a_concern_with_a_screenshot(world, client, staff_policy):
    login(client, world.practitioner)
    form = client.get(reverse("staff_conduct:report"))
    assert world.practitioner not in form.context["form"].fields["subject"].queryset
    clause = staff_policy.clauses.first()
    response = client.post(reverse("staff_conduct:report"), {
        "subject": world.dsl.pk, "source": Source.NAMED, "occurred_on": timezone.localdate().isoformat(),
        "where": "Facebook", "description": "Named the nursery.", "clauses": [clause.pk], "evidence": png_upload(),
    })
    assert response.status_code == 302 and response.url == reverse("home")
    incident = Incident.objects.get()
    assert (incident.reported_by, incident.subject, list(incident.clauses.all())) == (
        world.practitioner, world.dsl, [clause])
    assert incident.evidence.count() == 1


def test_a_report_with_a_bad_file_or_no_description_shows_errors(world, client, staff_policy):
    login(client, world.practitioner)
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(reverse("staff_conduct:report"), {
        "subject": world.dsl.pk, "source": Source.NAMED, "occurred_on": timezone.localdate().isoformat(),
        "description": "", "evidence": SimpleUploadedFile("a.png", b"MZ\x90 executable"),
    })
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "description" in errors and "evidence" in errors
    assert not Incident.objects.exists()


def test_parents_cannot_report_a_concern_here(world, client):
    assert login(client, world.parent).get(reverse("staff_conduct:report")).status_code == 403


# --- Incident list ---


def incidents(world, count, **fields):
    subjects = [world.practitioner, world.dsl, member(world.nursery, Role.STAFF)]
    made = [IncidentFactory(nursery=world.nursery, subject=subjects[i % 3], reported_by=world.dsl
                            if subjects[i % 3] != world.dsl else world.practitioner, **fields) for i in range(count)]
    return made


@pytest.mark.parametrize("count", [5, 500])
def test_the_incident_list_keeps_its_queries_constant(world, client, staff_policy, count,
                                                      django_assert_max_num_queries):
    made = incidents(world, count)
    clauses = list(staff_policy.clauses.all())
    for incident in made:
        incident.clauses.set(clauses[:2])
    # Every fourth is a whistleblowing report, whose reporter the deputy (the whistleblowing officer) sees.
    blown = made[::4]
    Incident.objects.filter(pk__in=[i.pk for i in blown]).update(source=Source.WHISTLEBLOWING, reported_by=None)
    for incident in blown:
        ConfidentialReporter.objects.create(incident=incident, reporter=world.practitioner)
    login(client, world.deputy)
    for query in ("", "?status=reported", f"?clause={clauses[0].pk}", f"?subject={world.dsl.pk}"):
        with django_assert_max_num_queries(13):  # 12, and one for the whistleblowers' names
            response = client.get(reverse("staff_conduct:incidents") + query)
        assert response.status_code == 200
        assert len(response.context["page"].object_list) == min(25, count if query != f"?subject={world.dsl.pk}"
                                                                 else (count + 1) // 3)


def test_the_incident_list_filters_by_status_clause_and_staff_member(world, client, staff_policy):
    clause_one, clause_two = staff_policy.clauses.all()[:2]
    a = IncidentFactory(nursery=world.nursery, subject=world.practitioner, status=Status.CLOSED)
    a.clauses.set([clause_one])
    b = IncidentFactory(nursery=world.nursery, subject=world.dsl)
    b.clauses.set([clause_two])
    IncidentFactory(nursery=world.other_nursery, subject=world.outsider)
    login(client, world.leader)

    def listed(query):
        return {i.pk for i in client.get(reverse("staff_conduct:incidents") + query).context["page"].object_list}

    assert listed("") == {a.pk, b.pk}
    assert listed("?status=closed") == {a.pk}
    assert listed("?status=open") == {b.pk}
    assert listed(f"?clause={clause_two.pk}") == {b.pk}
    assert listed(f"?subject={world.practitioner.pk}") == {a.pk}


# --- Incident detail and actions ---


def post(client, incident, action, data):
    return client.post(reverse(f"staff_conduct:incident_{action}", args=[incident.pk]),
                       {f"{action}-{k}": v for k, v in data.items()})


def test_a_leader_takes_an_incident_to_its_outcome_on_the_page(world, client, report):
    incident = report()
    login(client, world.leader)
    due = (timezone.localdate() + timedelta(days=7)).isoformat()
    assert post(client, incident, "assign", {"investigator": world.deputy.pk, "due_on": due}).status_code == 302
    assert post(client, incident, "note", {"text": "Spoke to Chloe."}).status_code == 302
    response = post(client, incident, "decide_outcome", {
        "outcome": Outcome.VERBAL_WARNING, "reason": "First time.", "decided_on": timezone.localdate().isoformat()})
    assert response.status_code == 302
    assert post(client, incident, "close", {}).status_code == 302
    incident.refresh_from_db()
    assert (incident.status, incident.outcome) == (Status.CLOSED, Outcome.VERBAL_WARNING)
    page = client.get(reverse("staff_conduct:incident", args=[incident.pk]))
    whats = [event.what.split(":")[0] for event in page.context["timeline"]]
    assert whats == ["Reported", "Investigator assigned", "Note", "Outcome decided", "Incident closed"]
    assert "Outcome decided: Verbal warning" in page.content.decode()
    assert "record_appeal" in page.context["forms"] and "assign" not in page.context["forms"]


def test_a_refused_transition_shows_why_and_changes_nothing(world, client, report):
    incident = report()
    login(client, world.leader)
    response = post(client, incident, "close", {})
    assert response.status_code == 400
    assert "only be closed once its outcome is decided" in response.content.decode()
    incident.refresh_from_db()
    assert incident.status == Status.REPORTED


def test_an_invalid_action_form_shows_its_field_errors(world, client, report):
    incident = report()
    login(client, world.leader)
    response = post(client, incident, "assign", {"investigator": world.dsl.pk, "due_on": ""})
    assert response.status_code == 400
    assert response.context["forms"]["assign"].errors.keys() == {"investigator", "due_on"}


def test_actions_refuse_get(world, client, report):
    incident = report()
    login(client, world.leader)
    assert client.get(reverse("staff_conduct:incident_close", args=[incident.pk])).status_code == 405


def test_an_incident_of_another_nursery_is_not_found(world, client):
    elsewhere = IncidentFactory(nursery=world.other_nursery, subject=world.outsider)
    login(client, world.leader)
    assert client.get(reverse("staff_conduct:incident", args=[elsewhere.pk])).status_code == 404


# --- Leadership home ---


def test_the_leadership_home_lists_incidents_open_for_more_than_30_days(world, client):
    old = IncidentFactory(nursery=world.nursery, subject=world.practitioner,
                          reported_at=timezone.now() - timedelta(days=31))
    recent = IncidentFactory(nursery=world.nursery, subject=world.practitioner,
                             reported_at=timezone.now() - timedelta(days=29))
    closed = IncidentFactory(nursery=world.nursery, subject=world.practitioner, status=Status.CLOSED,
                             reported_at=timezone.now() - timedelta(days=60))
    about_me = IncidentFactory(nursery=world.nursery, subject=world.leader,
                               reported_at=timezone.now() - timedelta(days=60))
    login(client, world.leader)
    home = client.get(reverse("home")).content.decode()
    section = home[home.index("Open for more than 30 days"):]
    for incident, shown in ((old, True), (recent, False), (closed, False), (about_me, False)):
        link = reverse("staff_conduct:incident", args=[incident.pk])
        assert (f'href="{link}"' in section) is shown, incident
    assert "2 waiting for an investigator" in home.replace("</span>", "").replace('<span class="state-no">', "")


def test_an_acknowledgement_signed_with_another_name_is_refused_on_the_form(world, client, staff_policy):
    login(client, world.practitioner)
    response = client.post(reverse("staff_conduct:acknowledge", args=["staff"]),
                           {"signature": "Mickey Mouse", "version": staff_policy.pk})
    assert response.status_code == 400
    assert "Please sign with your full name as the nursery has it: Chloe Bennett" in response.content.decode()
    assert not Acknowledgement.objects.exists()


def test_the_service_refuses_another_name_too(world, staff_policy):
    from nursery.errors import ServiceError
    from staff_conduct.services import acknowledge_policy

    with pytest.raises(ServiceError, match="Chloe Bennett"):
        acknowledge_policy(world.practitioner, version=staff_policy, signature="Priya Shah")
