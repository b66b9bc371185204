"""Daily requests, reminders, renewals and expiry notices: each sent once, however often the task runs."""

from datetime import date, timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone

from consent.models import ConsentRequest, Decision, RequestKind, Scope
from consent.services import MAX_REMINDERS, publish_wording, send_consent_requests
from nursery.models import Notification
from tests.consent.conftest import at
from tests.factories import ChildFactory, ConsentDecisionFactory, GuardianshipFactory

pytestmark = pytest.mark.django_db
JOINED = date(2026, 3, 2)


@pytest.fixture
def newcomer(world, wording):
    child = ChildFactory(nursery=world.nursery, room=world.child.room, first_name="Nia", joined_on=JOINED)
    mum = GuardianshipFactory(child=child, relationship="mother").user
    dad = GuardianshipFactory(child=child, relationship="father").user
    granny = GuardianshipFactory(child=child, relationship="grandmother", has_parental_responsibility=False).user
    return child, mum, dad, granny


@pytest.fixture
def amara(world, wording):
    """The world's child, on roll since January 2025 (the tests look back to 2025)."""
    world.child.joined_on = date(2025, 1, 6)
    world.child.save()
    return world.child


def day(n: int, hour=8):
    """n days after the newcomer joined, at 08:00 London time."""
    moment = JOINED + timedelta(days=n)
    return at(moment.year, moment.month, moment.day, hour, 30)


def sent_to(user, **filters):
    return list(ConsentRequest.objects.filter(recipient=user, **filters).order_by("round", "scope"))


def test_nobody_is_asked_on_the_day_a_child_joins(newcomer):
    child, mum, _, _ = newcomer
    send_consent_requests(now=day(0))
    assert not sent_to(mum, child=child)


def test_guardians_with_parental_responsibility_are_asked_a_day_after_joining(newcomer, world):
    child, mum, dad, granny = newcomer
    send_consent_requests(now=day(1))
    for parent in (mum, dad):
        requests = sent_to(parent, child=child)
        assert [(r.kind, r.scope, r.round) for r in requests] == [
            (RequestKind.FIRST_ASK, Scope.CLOSED, 1), (RequestKind.FIRST_ASK, Scope.PUBLIC, 1)]
        notes = Notification.objects.filter(recipient=parent)
        assert notes.count() == 1, "one message per child, covering both scopes"
        assert "Nia" in notes.get().subject
    assert not sent_to(granny)


def test_running_twice_on_the_same_day_sends_nothing_twice(newcomer, django_capture_on_commit_callbacks):
    child, mum, _, _ = newcomer
    with django_capture_on_commit_callbacks(execute=True):
        first = send_consent_requests(now=day(1, hour=7))
        second = send_consent_requests(now=day(1, hour=19))
    assert first >= 2 and second == 0
    assert len(sent_to(mum, child=child)) == 2
    assert len([m for m in mail.outbox if mum.email in m.to]) == 1


def test_reminders_come_every_seven_days_at_most_three_times(newcomer):
    child, mum, _, _ = newcomer
    rounds_by_day = {}
    for n in range(0, 40):
        send_consent_requests(now=day(n))
        rounds_by_day[n] = len(sent_to(mum, child=child, scope=Scope.CLOSED))
    sent_on = sorted({n for n in range(1, 40) if rounds_by_day[n] > rounds_by_day[n - 1]})
    assert sent_on == [1, 8, 15, 22]
    assert rounds_by_day[39] == 1 + MAX_REMINDERS
    assert Notification.objects.filter(recipient=mum, subject__startswith="Reminder").count() == MAX_REMINDERS


def test_a_missed_day_sends_one_reminder_not_a_backlog(newcomer):
    child, mum, _, _ = newcomer
    send_consent_requests(now=day(1))
    send_consent_requests(now=day(30))
    assert [r.round for r in sent_to(mum, child=child, scope=Scope.CLOSED)] == [1, 2]


def test_a_decision_in_one_scope_stops_the_requests_for_it(newcomer):
    child, mum, dad, _ = newcomer
    send_consent_requests(now=day(1))
    ConsentDecisionFactory(child=child, guardian=dad, scope=Scope.PUBLIC, decision=Decision.WITHDRAWN,
                           signature="", decided_at=day(3))
    send_consent_requests(now=day(8))
    assert [(r.scope, r.round) for r in sent_to(mum, child=child)] == [
        (Scope.CLOSED, 1), (Scope.PUBLIC, 1), (Scope.CLOSED, 2)]


def test_renewal_requests_start_thirty_days_before_expiry(world, amara):
    granted = at(2025, 5, 1, 10, 0)  # expires 1 May 2026
    ConsentDecisionFactory(child=world.child, guardian=world.parent, decided_at=granted)
    send_consent_requests(now=at(2026, 3, 31, 8, 0))
    assert not sent_to(world.parent, kind=RequestKind.RENEWAL)
    send_consent_requests(now=at(2026, 4, 1, 10, 30))
    send_consent_requests(now=at(2026, 4, 1, 18, 0))
    renewals = sent_to(world.parent, kind=RequestKind.RENEWAL)
    assert [(r.scope, r.round, r.cycle) for r in renewals] == [(Scope.CLOSED, 1, "2026-05-01")]
    assert Notification.objects.filter(recipient=world.parent, subject__contains="renew").count() == 1


def test_a_renewed_grant_ends_the_renewal_reminders(world, amara):
    ConsentDecisionFactory(child=world.child, guardian=world.parent, decided_at=at(2025, 5, 1, 10, 0))
    send_consent_requests(now=at(2026, 4, 2, 8, 0))
    ConsentDecisionFactory(child=world.child, guardian=world.parent, decided_at=at(2026, 4, 3, 10, 0))
    send_consent_requests(now=at(2026, 4, 9, 8, 0))
    assert len(sent_to(world.parent, kind=RequestKind.RENEWAL)) == 1


def test_leadership_is_told_once_which_childrens_consent_expired(world, amara):
    ConsentDecisionFactory(child=world.child, guardian=world.parent, decided_at=at(2025, 5, 1, 10, 0))
    send_consent_requests(now=at(2026, 4, 30, 8, 0))
    assert not Notification.objects.filter(recipient=world.leader).exists()
    send_consent_requests(now=at(2026, 5, 1, 12, 0))
    send_consent_requests(now=at(2026, 5, 2, 8, 0))
    notes = Notification.objects.filter(recipient=world.leader)
    assert notes.count() == 1
    assert "Amara Okafor" in notes.get().body and "private parents' pages" in notes.get().body
    assert Notification.objects.filter(recipient=world.deputy).count() == 1
    assert not Notification.objects.filter(recipient=world.practitioner).exists()


def test_a_new_wording_asks_those_who_granted_the_old_one_again(world, wording,
                                                                  django_capture_on_commit_callbacks):
    dad = GuardianshipFactory(child=world.child, relationship="father").user
    ConsentDecisionFactory(child=world.child, guardian=world.parent, decided_at=timezone.now() - timedelta(days=9))
    ConsentDecisionFactory(child=world.child, guardian=dad, scope=Scope.PUBLIC, decided_at=timezone.now()
                           - timedelta(days=9), wording=wording[Scope.PUBLIC])
    text = wording[Scope.CLOSED].text + " We now also share photos in our printed newsletter."
    with django_capture_on_commit_callbacks(execute=True):
        publish_wording(world.leader, nursery=world.nursery, scope=Scope.CLOSED, text=text)
    asked = sent_to(world.parent, kind=RequestKind.NEW_WORDING)
    assert [(r.scope, r.cycle) for r in asked] == [(Scope.CLOSED, "v2")]
    assert not sent_to(dad, kind=RequestKind.NEW_WORDING), "dad granted only the public wording, unchanged"
    assert send_consent_requests() == 0, "asked once, not again the same day"


def test_children_who_left_are_not_chased(newcomer):
    child, mum, _, _ = newcomer
    child.left_on = JOINED + timedelta(days=1)
    child.save()
    send_consent_requests(now=day(1))
    assert not sent_to(mum)


def test_the_task_runs_the_service(newcomer):
    from consent.tasks import send_consent_requests as task

    assert task.delay().get() >= 0
    assert ConsentRequest.objects.filter(kind=RequestKind.FIRST_ASK).exists()


def test_it_is_scheduled_daily():
    entry = settings.CELERY_BEAT_SCHEDULE["consent-requests-and-renewals"]
    assert entry["task"] == "consent.tasks.send_consent_requests"
    assert entry["schedule"].hour == {7} and entry["schedule"].minute == {30}


def test_reminders_keep_to_local_days_across_the_clock_change(world, wording):
    """Clocks go forward on 29 March 2026; beat runs at 07:30 UTC, which is 07:30 then 08:30 in London."""
    from datetime import UTC, datetime

    child = ChildFactory(nursery=world.nursery, room=world.child.room, joined_on=date(2026, 3, 14))
    mum = GuardianshipFactory(child=child).user
    sent_days = []
    for n in range(0, 28):
        moment = datetime(2026, 3, 14, 7, 30, tzinfo=UTC) + timedelta(days=n)
        before = len(sent_to(mum, child=child, scope=Scope.CLOSED))
        send_consent_requests(now=moment)
        if len(sent_to(mum, child=child, scope=Scope.CLOSED)) > before:
            sent_days.append(timezone.localdate(moment))
    assert sent_days == [date(2026, 3, 15), date(2026, 3, 22), date(2026, 3, 29), date(2026, 4, 5)]


def _children_with_two_parents(world, count):
    for n in range(count):
        child = ChildFactory(nursery=world.nursery, room=world.child.room, first_name=f"Kid{n}", joined_on=JOINED)
        GuardianshipFactory(child=child, relationship="mother")
        GuardianshipFactory(child=child, relationship="father")


def test_the_sweep_takes_the_same_queries_for_six_guardians_or_fifty(world, wording):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for more_children in (3, 22):
        ConsentRequest.objects.all().delete()  # everyone is due again
        _children_with_two_parents(world, more_children)
        with CaptureQueriesContext(connection) as queries:
            assert send_consent_requests(now=day(1)) >= 2 * more_children
        counts.append(len(queries.captured_queries))
    # 44 more guardians, once five queries each; now the same queries (SQLite splits a long INSERT in two).
    assert counts[1] <= counts[0] + 2, f"queries grew with the guardians: {counts}"


def test_a_broker_outage_during_the_sweep_asks_everyone_and_emails_them_later(
        world, wording, monkeypatch, django_capture_on_commit_callbacks):
    from kombu.exceptions import OperationalError

    from nursery import outbox
    from nursery.tasks import dispatch_outbox, run_outbox_message

    _children_with_two_parents(world, 3)

    def refuse(*args, **kwargs):
        raise OperationalError("Connection refused")

    monkeypatch.setattr(run_outbox_message, "apply_async", refuse)
    monkeypatch.setattr(dispatch_outbox, "apply_async", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        assert send_consent_requests(now=day(1)) == 6
    assert ConsentRequest.objects.count() == 12 and not mail.outbox
    monkeypatch.undo()
    outbox.dispatch()
    assert len(mail.outbox) == 6


def test_each_request_text_reads_as_the_template_rendered_for_that_guardian(world, wording):
    """The sweep renders the request once per shape and fills in the names: it must read the same."""
    from django.template.loader import render_to_string

    from consent.services import REQUEST_TEMPLATE, _Due

    _children_with_two_parents(world, 3)
    child = ChildFactory(nursery=world.nursery, room=world.child.room, first_name="Zoë", joined_on=JOINED)
    nameless = GuardianshipFactory(child=child, user__first_name="", user__last_name="").user
    send_consent_requests(now=day(1))
    notes = list(Notification.objects.select_related("recipient"))
    assert len(notes) >= 7 and nameless in [n.recipient for n in notes]
    for note in notes:
        asked = ConsentRequest.objects.filter(recipient=note.recipient).select_related("child").order_by("scope")
        items = [_Due(r.child, r.scope, r.kind, r.cycle, r.round) for r in asked]
        expected = render_to_string(REQUEST_TEMPLATE, {
            "child": items[0].child, "items": items, "nursery": world.nursery, "MAX_REMINDERS": MAX_REMINDERS,
            "recipient": note.recipient, "url": note.url}).strip()
        assert note.body == expected
        assert (note.recipient.get_full_name() or note.recipient.username) in note.body
        assert items[0].child.first_name in note.subject


def test_a_request_template_using_more_than_the_names_is_rendered_for_each_guardian(world, wording, settings):
    text = "Dear {{ recipient.first_name }}, about {{ child.first_name }} {{ child.last_name }} ({{ items|length }})"
    settings.TEMPLATES = [{
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "OPTIONS": {"loaders": [("django.template.loaders.locmem.Loader", {"consent/email/request.txt": text})]},
    }]
    _children_with_two_parents(world, 2)
    send_consent_requests(now=day(1))
    for note in Notification.objects.select_related("recipient"):
        child = ConsentRequest.objects.filter(recipient=note.recipient).select_related("child").first().child
        assert note.body == f"Dear {note.recipient.first_name}, about {child.first_name} {child.last_name} (2)"


def test_every_request_sent_is_in_the_audit_history(newcomer):
    child, mum, dad, _ = newcomer
    send_consent_requests(now=day(1))
    requests = ConsentRequest.objects.filter(child=child)
    history = ConsentRequest.history.filter(child=child)
    assert requests.count() == 4
    assert sorted(history.values_list("id", "scope", "round", "recipient_id")) == sorted(
        requests.values_list("id", "scope", "round", "recipient_id"))
    assert {(h.history_type, h.history_change_reason, h.history_user_id) for h in history} == {
        ("+", "Daily photo consent requests", None)}
