"""The leadership dashboard: 12 monthly trends, checked against data built by hand."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from consent.models import Decision, Scope
from inspection.charts import Chart, Series, _nice_max
from inspection.trends import last_months, trends
from moderation.models import Comment, ModerationItem, Priority
from moderation.models import ItemStatus as ModerationStatus
from posts.models import Platform, Takedown
from staff_conduct.models import Acknowledgement, PolicyKind, Status
from tests.consent.factories import wordings
from tests.factories import ConsentDecisionFactory
from tests.posts.factories import ChannelFactory, PostFactory
from tests.staff_conduct.factories import IncidentFactory, policy

pytestmark = pytest.mark.django_db

NOW = timezone.now()
MONTHS = last_months(timezone.localdate(NOW))


def mid(i: int):
    """The 10th of month ``i`` (0 = eleven months ago, 11 = this month), or earlier this month if need be."""
    return min(MONTHS[i].start + timedelta(days=9, hours=12), NOW - timedelta(hours=1))


def comment(world, channel, when):
    return Comment.objects.create(nursery=world.nursery, channel=channel, platform=Platform.FACEBOOK,
                                  text="Lovely", received_at=when)


def reviewed(world, channel, opened, minutes, priority=Priority.HIGH):
    return ModerationItem.objects.create(
        nursery=world.nursery, comment=comment(world, channel, opened), priority=priority,
        status=ModerationStatus.RESOLVED, opened_at=opened, resolved_at=opened + timedelta(minutes=minutes),
        action="no_concern",
    )


def spread(world, months):
    """The same hand-built story, with its events in the given months (indexes into MONTHS)."""
    a, b, c, d = months
    world.child.joined_on = date(2020, 1, 1)
    world.child.save()
    texts = wordings(world.nursery)
    ConsentDecisionFactory(child=world.child, guardian=world.parent, scope=Scope.CLOSED, wording=texts["closed"],
                           decided_at=mid(a))
    ConsentDecisionFactory(child=world.child, guardian=world.parent, scope=Scope.CLOSED, wording=texts["closed"],
                           decision=Decision.WITHDRAWN, signature="", decided_at=mid(c))
    channel = ChannelFactory(nursery=world.nursery)
    comment(world, channel, mid(d))
    reviewed(world, channel, mid(b), 30)
    reviewed(world, channel, mid(b), 120)
    post = PostFactory(nursery=world.nursery, author=world.leader)
    for opened, confirmed_after in ((mid(b), 2), (mid(b), 30), (mid(d), None)):
        Takedown.objects.create(
            nursery=world.nursery, post=post, child=world.child, scope=Scope.PUBLIC, reason="Withdrawn",
            opened_at=opened, deadline=opened + timedelta(hours=24), next_escalation_at=opened,
            confirmed_at=opened + timedelta(hours=confirmed_after) if confirmed_after else None,
        )
    version = policy(world.nursery, PolicyKind.STAFF, effective_on=date(2020, 1, 1))
    Acknowledgement.objects.create(nursery=world.nursery, version=version, user=world.leader, signature="Helen",
                                   acknowledged_at=mid(a))
    Acknowledgement.objects.create(nursery=world.nursery, version=version, user=world.deputy, signature="Daniel",
                                   acknowledged_at=mid(c))
    IncidentFactory(nursery=world.nursery, subject=world.practitioner, reported_at=mid(a), status=Status.CLOSED,
                    closed_at=mid(c))


def test_the_figures_match_the_data_built_by_hand(world):
    spread(world, (2, 5, 8, 11))
    t = trends(world.nursery, now=NOW)
    assert [m.first.day for m in t.months] == [1] * 12 and t.months[-1].first.month == timezone.localdate().month
    assert t.coverage["closed"] == [0.0, 0.0, 100.0, 100.0, 100.0, 100.0, 100.0, 100.0, 0.0, 0.0, 0.0, 0.0]
    assert t.coverage["public"] == [0.0] * 12
    assert t.comments[11] == 1 and t.comments[5] == 2 and sum(t.comments) == 3
    assert t.reviewed[5] == 2 and t.within_target[5] == 50.0 and t.review_median[5] == 75.0
    assert t.within_target[4] is None and t.review_median[4] is None
    assert (t.takedowns_opened[5], t.takedowns_on_time[5], t.takedowns_late[5]) == (2, 1, 1)
    assert (t.takedowns_opened[11], t.takedowns_late[11]) == (1, 0), "open, not yet past its deadline"
    # Staff audience: the leader, the deputy, the safeguarding lead and the practitioner.
    assert t.acknowledgements["staff"][:3] == [0.0, 0.0, 25.0] and t.acknowledgements["staff"][8:] == [50.0] * 4
    assert t.acknowledgements["parents"] == [None] * 12, "no parents' rules published"
    assert t.incidents_opened[2] == 1 and t.incidents_closed[8] == 1
    assert sum(t.incidents_opened) == sum(t.incidents_closed) == 1


def test_an_open_takedown_past_its_deadline_counts_as_late(world):
    spread(world, (2, 5, 8, 9))
    t = trends(world.nursery, now=NOW)
    assert t.takedowns_late[9] == 1


def test_nothing_before_the_twelve_months_is_counted(world):
    old = MONTHS[0].start - timedelta(days=40)
    IncidentFactory(nursery=world.nursery, subject=world.practitioner, reported_at=old)
    channel = ChannelFactory(nursery=world.nursery)
    comment(world, channel, old)
    t = trends(world.nursery, now=NOW)
    assert sum(t.incidents_opened) == 0 and sum(t.comments) == 0


def page_queries(client, world, django_assert_max_num_queries, budget):
    client.force_login(world.leader)
    with django_assert_max_num_queries(budget):
        response = client.get(reverse("inspection:dashboard"))
    assert response.status_code == 200
    return response


QUERY_BUDGET = 17  # the same at one month of data and at twelve


def test_the_page_costs_the_same_queries_for_one_month_or_twelve(client, world, django_assert_max_num_queries):
    spread(world, (11, 11, 11, 11))
    page_queries(client, world, django_assert_max_num_queries, QUERY_BUDGET)


def test_the_page_costs_the_same_queries_for_twelve_months(client, world, django_assert_max_num_queries):
    spread(world, (0, 3, 7, 11))
    for i in range(12):  # more of everything, in every month
        IncidentFactory(nursery=world.nursery, subject=world.practitioner, reported_at=mid(i))
        reviewed(world, ChannelFactory(nursery=world.nursery), mid(i), 10 * i, Priority.MEDIUM)
    page_queries(client, world, django_assert_max_num_queries, QUERY_BUDGET)


def test_each_chart_is_an_accessible_svg_with_its_table(client, world, django_assert_max_num_queries):
    spread(world, (2, 5, 8, 11))
    html = page_queries(client, world, django_assert_max_num_queries, QUERY_BUDGET).content.decode()
    assert html.count('role="img"') == 7
    assert html.count("<title id=") == 7 and html.count("<desc id=") == 7
    assert html.count("<table") == 7
    assert "style=" not in html and "<script>" not in html
    assert f"<th scope=\"row\">{MONTHS[5].label}</th><td>2</td><td>2</td>" in html, "comments chart's table"


def test_chart_geometry():
    chart = Chart("c", "Comments", "", ["Jan", "Feb"], ["Jan 2026", "Feb 2026"],
                  [Series("Received", [3, 0], "series-1"), Series("Reviewed", [None, 5], "series-2")])
    assert [t["label"] for t in chart.ticks] == ["0", "2", "4", "6", "8"]
    assert len(chart.bars) == 2, "no bar for zero or nothing"
    assert chart.bars[0]["h"] == pytest.approx(160 * 3 / 8, abs=0.1)
    assert chart.rows == [["Jan 2026", "3", "—"], ["Feb 2026", "0", "5"]]
    line = Chart("p", "Coverage", "", ["Jan", "Feb"], ["Jan 2026", "Feb 2026"],
                 [Series("Private", [None, 50.0], "series-1")], kind="line", unit="%", ceiling=100)
    assert len(line.lines[0]["dots"]) == 1 and line.ticks[-1]["label"] == "100%"
    assert [_nice_max(v) for v in (0, 3, 5, 9, 17, 150)] == [4, 4, 8, 20, 20, 200]


def test_the_leadership_home_leads_to_the_trends_and_nobody_else_sees_it(client, world):
    client.force_login(world.leader)
    assert reverse("inspection:dashboard").encode() in client.get(reverse("home")).content
    for user in (world.dsl, world.practitioner, world.parent):
        client.force_login(user)
        assert reverse("inspection:dashboard").encode() not in client.get(reverse("home")).content
