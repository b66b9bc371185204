"""Leadership downloads the audit trail of governance records for a period, as CSV."""

import csv
import io
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from inspection.audit import Period, audit_rows
from nursery.audit import acting_as
from nursery.exports import safe_cell
from staff_conduct.models import Source
from tests.factories import ChildFactory

pytestmark = pytest.mark.django_db


def download(client, user, **period) -> list[dict]:
    client.force_login(user)
    today = timezone.localdate()
    query = {"start": period.get("start", today - timedelta(days=1)), "end": period.get("end", today)}
    response = client.get(reverse("inspection:audit_csv"), query)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.streaming
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def test_it_lists_who_changed_what_when_and_why(client, world):
    with acting_as(world.leader, "Moved to the pre-school room"):
        world.child.first_name = "Amarachi"
        world.child.save()
    rows = download(client, world.leader)
    change = next(r for r in rows if r["Record"] == "Child" and r["Action"] == "Changed")
    assert change["Who"] == "Helen Marsh"
    assert change["Record id"] == str(world.child.pk)
    assert change["Changes"] == "first name: Amara → Amarachi"
    assert change["Reason"] == "Moved to the pre-school room"
    created = next(r for r in rows if r["Record"] == "Child" and r["Action"] == "Created")
    assert "first name: Amara" in created["Changes"] and "room: #" in created["Changes"]


def test_it_keeps_to_the_period_in_local_days(client, world):
    rows = download(client, world.leader, start=timezone.localdate() - timedelta(days=10),
                    end=timezone.localdate() - timedelta(days=1))
    assert not [r for r in rows if r["Record"] == "Child"]
    clocks_forward = Period(date(2026, 3, 29), date(2026, 3, 29))
    assert clocks_forward.end_at.timestamp() - clocks_forward.start_at.timestamp() == 23 * 3600


def test_rows_come_oldest_first_across_record_types(client, world):
    rows = download(client, world.leader)
    times = [r["When (Europe/London)"] for r in rows]
    assert times == sorted(times)
    assert {"Nursery", "Membership", "Child", "Room", "Guardianship"} <= {r["Record"] for r in rows}


def test_it_shows_nothing_of_another_nursery(client, world):
    ChildFactory(nursery=world.other_nursery, first_name="Zebedee")
    rows = download(client, world.leader)
    assert not any("Zebedee" in r["Changes"] for r in rows)
    rows = download(client, world.outsider)
    assert any("Zebedee" in r["Changes"] for r in rows)
    assert not any("Amara" in r["Changes"] for r in rows)


def whistleblowing_report(world):
    from staff_conduct import services
    from tests.staff_conduct.factories import png_upload

    # The practitioner blows the whistle on the leader.
    return services.report_incident(
        world.practitioner, nursery=world.nursery, subject=world.dsl, source=Source.WHISTLEBLOWING,
        occurred_on=timezone.localdate(), description="Shared a child's photo in a private group.",
        evidence=png_upload(),
    )


def test_a_whistleblowers_name_is_left_out_for_leaders_not_entitled(client, world):
    whistleblowing_report(world)
    rows = download(client, world.leader)
    incident_rows = [r for r in rows if r["Record"] in ("Incident", "Evidence")]
    assert [r["Who"] for r in incident_rows] == ["Confidential (whistleblowing)"] * 2
    # The practitioner is named elsewhere (their membership), never beside the report.
    reported = [r for r in rows if r["Reason"] == "Conduct concern reported"]
    assert reported and all(world.practitioner.get_full_name() not in ",".join(r.values()) for r in reported)


def test_the_whistleblowing_officer_sees_who_reported(client, world):
    whistleblowing_report(world)
    rows = download(client, world.deputy)
    created = next(r for r in rows if r["Record"] == "Incident")
    assert created["Who"] == f"{world.practitioner.get_full_name()} (whistleblowing reporter)"


def test_anonymous_reports_name_nobody(client, world):
    from staff_conduct import services

    services.report_incident(world.practitioner, nursery=world.nursery, subject=world.dsl, source=Source.ANONYMOUS,
                             occurred_on=timezone.localdate(), description="Swore at a parent online.")
    for user in (world.leader, world.deputy):
        created = next(r for r in download(client, user) if r["Record"] == "Incident")
        assert created["Who"] == "Anonymous"


def test_a_leader_never_reads_the_record_of_an_incident_about_them(client, world):
    from staff_conduct import services

    incident = services.report_incident(
        world.dsl, nursery=world.nursery, subject=world.leader, source=Source.NAMED,
        occurred_on=timezone.localdate(), description="Posted a photo from the garden.",
    )
    services.add_investigation_note(world.deputy, incident=incident, text="Spoke to the manager.")
    mine = download(client, world.leader)
    assert not [r for r in mine if r["Record"] in ("Incident", "Investigation note", "Evidence")]
    theirs = download(client, world.deputy)
    assert {"Incident", "Investigation note"} <= {r["Record"] for r in theirs}


def test_cells_that_a_spreadsheet_would_run_are_neutralised(client, world):
    with acting_as(world.leader, "=HYPERLINK(\"http://evil.example\")"):
        world.child.last_name = "+SUM(A1:A9)"
        world.child.save()
    change = next(r for r in download(client, world.leader) if r["Record"] == "Child" and r["Action"] == "Changed")
    assert change["Reason"].startswith("'=")
    assert safe_cell("-1") == "'-1" and safe_cell("@x") == "'@x" and safe_cell("\tx") == "'\tx"
    assert safe_cell("Amara") == "Amara" and safe_cell(None) == ""


def test_a_bad_period_is_refused_with_the_form(client, world):
    client.force_login(world.leader)
    response = client.get(reverse("inspection:audit_csv"), {"start": "2026-05-02", "end": "2026-05-01"})
    assert response.status_code == 400
    assert b"must start on or before" in response.content


def test_the_page_offers_the_last_twelve_months(client, world):
    client.force_login(world.leader)
    response = client.get(reverse("inspection:audit"))
    assert response.status_code == 200
    today = timezone.localdate()
    assert response.context["form"].initial == {"start": Period.last_months(12).start, "end": today}
    # A date input only understands ISO dates: a British 02/12/2026 would show as empty and submit nothing.
    assert f'type="date" name="end" value="{today:%Y-%m-%d}"' in response.content.decode()


def test_period_of_the_last_twelve_months():
    assert Period.last_months(12, today=date(2026, 12, 2)) == Period(date(2025, 12, 2), date(2026, 12, 2))
    assert Period.last_months(12, today=date(2028, 2, 29)) == Period(date(2027, 2, 28), date(2028, 2, 29))
    assert Period.last_months(1, today=date(2026, 3, 31)) == Period(date(2026, 2, 28), date(2026, 3, 31))


def test_the_export_costs_the_same_queries_for_many_rows(world):
    period = Period(timezone.localdate(), timezone.localdate())

    def count():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            rows = list(audit_rows(user=world.leader, nursery=world.nursery, period=period))
        return len(queries), len(rows)

    def edit(times):
        for n in range(times):
            with acting_as(world.leader, f"Edit {n}"):
                world.child.last_name = f"Okafor{n}"
                world.child.save()

    edit(5)
    few_queries, few_rows = count()
    edit(120)
    many_queries, many_rows = count()
    assert many_rows >= few_rows + 120
    assert many_queries == few_queries


def test_children_tagged_in_a_photo_are_named_and_their_changes_shown(client, world):
    from tests.posts.factories import PostImageFactory

    isla = ChildFactory(nursery=world.nursery, first_name="Isla", last_name="Hughes")
    with acting_as(world.practitioner, "Photo tagged"):
        image = PostImageFactory(post__nursery=world.nursery, children=[world.child])
    with acting_as(world.practitioner, "Tag corrected"):
        image.children.set([isla])
    rows = [r for r in download(client, world.leader) if r["Record"] == "Post image"]
    # simple-history records each change of the set as its own row, with the reason of the moment.
    tagged = [r for r in rows if r["Reason"] == "Photo tagged"]
    assert any(f"children: added Amara Okafor (#{world.child.pk})" in r["Changes"] for r in tagged)
    corrected = [r for r in rows if r["Reason"] == "Tag corrected" and "children:" in r["Changes"]]
    assert corrected, rows
    assert any(f"added Isla Hughes (#{isla.pk})" in r["Changes"] for r in corrected)
    assert any(f"removed Amara Okafor (#{world.child.pk})" in r["Changes"] for r in corrected)
