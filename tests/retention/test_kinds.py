"""Consent, comments, concerns and conduct incidents: each boundary of the schedule, and holds per kind."""

from datetime import date, timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from consent.models import ConsentDecision, ConsentRequest, Method
from moderation.models import Action, Comment, CommentVersion, Concern, ItemAction, ModerationItem
from retention.kinds import months_before
from retention.services import place_legal_hold, run_retention
from staff_conduct.models import Evidence, Incident, InvestigationNote
from tests.factories import ConsentDecisionFactory, GuardianshipFactory
from tests.moderation.factories import CommentFactory, ItemFactory
from tests.retention.conftest import NOW
from tests.retention.factories import closed_incident, leaver, raised_concern, resolved_item, today
from tests.staff_conduct.factories import IncidentFactory, png_bytes

pytestmark = pytest.mark.django_db


def test_months_before_keeps_the_day_or_takes_the_months_last():
    assert months_before(date(2027, 3, 31), 1) == date(2027, 2, 28)
    assert months_before(date(2028, 2, 29), 12) == date(2027, 2, 28)
    assert months_before(date(2027, 1, 13), 12) == date(2026, 1, 13)
    assert months_before(date(2027, 1, 13), 13) == date(2025, 12, 13)


# --- consent ---------------------------------------------------------------------------------------


def _paper_decision(child, world):
    decision = ConsentDecisionFactory.build(child=child, method=Method.PAPER, recorded_by=world.practitioner)
    decision.guardian.save()
    decision.paper_scan.save("scan.png", ContentFile(png_bytes()), save=False)
    decision.save()
    return decision


def test_consent_records_go_six_years_after_the_child_leaves_with_the_scans(world, now):
    gone_child = leaver(world.nursery, left_on=months_before(today(now), 72))
    kept_child = leaver(world.nursery, left_on=months_before(today(now), 72) + timedelta(days=1))
    gone = _paper_decision(gone_child, world)
    kept = ConsentDecisionFactory(child=kept_child)
    on_roll = ConsentDecisionFactory(child=world.child)
    ConsentRequest.objects.create(nursery=world.nursery, child=gone_child, scope="closed", kind="first_ask",
                                  recipient=gone.guardian, cycle="x", sent_at=now - timedelta(days=3000))
    scan = gone.paper_scan.name
    assert default_storage.exists(scan)

    run = run_retention(now=now)

    assert set(ConsentDecision.objects.values_list("pk", flat=True)) == {kept.pk, on_roll.pk}
    assert not ConsentRequest.objects.exists()
    assert not default_storage.exists(scan)
    assert not ConsentDecision.history.filter(id=gone.pk).exists()
    assert {c.kind: (c.count, c.files) for c in run.counts.all()} == {
        "consent_decisions": (1, 1), "consent_requests": (1, 0)}


def test_a_hold_on_the_child_or_the_guardian_keeps_the_consent_ledger(world, now):
    long_ago = months_before(today(now), 120)
    held_child = leaver(world.nursery, left_on=long_ago)
    by_held_guardian = leaver(world.nursery, left_on=long_ago)
    a = ConsentDecisionFactory(child=held_child)
    b = ConsentDecisionFactory(child=by_held_guardian)
    place_legal_hold(world.leader, nursery=world.nursery, child=held_child, reason="Claim by the family")
    place_legal_hold(world.leader, nursery=world.nursery, person=b.guardian, reason="Subject access dispute")
    run_retention(now=now)
    assert set(ConsentDecision.objects.values_list("pk", flat=True)) == {a.pk, b.pk}


# --- comments and concerns -------------------------------------------------------------------------


def test_comments_go_twelve_months_after_resolution_with_their_moderation(world, now):
    gone = resolved_item(world, resolved_at=now.replace(year=2026)).comment
    CommentVersion.objects.create(comment=gone, number=1, text="Lovely", seen_at=now)
    kept = resolved_item(world, resolved_at=now.replace(year=2026) + timedelta(seconds=1)).comment
    still_open = ItemFactory(comment=CommentFactory(channel__nursery=world.nursery),
                             opened_at=now - timedelta(days=900)).comment
    run_retention(now=now)
    assert set(Comment.objects.values_list("pk", flat=True)) == {kept.pk, still_open.pk}
    assert not CommentVersion.objects.exists()
    assert ItemAction.objects.count() == 1  # the kept item's: the ledger goes only with its comment
    assert not ModerationItem.history.filter(comment_id=gone.pk).exists()


def test_a_comment_escalated_as_safeguarding_is_kept_twenty_five_years(world, now):
    escalated = resolved_item(world, resolved_at=now.replace(year=2010), action=Action.ESCALATE).comment
    ancient = resolved_item(world, resolved_at=now.replace(year=2002), action=Action.ESCALATE).comment
    run = run_retention(now=now)
    assert list(Comment.objects.values_list("pk", flat=True)) == [escalated.pk]
    assert not Comment.objects.filter(pk=ancient.pk).exists()
    assert {c.kind for c in run.counts.all()} == {"safeguarding_comments"}


def test_concerns_go_three_years_after_resolution_with_the_screenshot(world, now):
    gone = raised_concern(world)
    resolved_item(world, concern=gone, resolved_at=now.replace(year=2024))
    kept = raised_concern(world)
    resolved_item(world, concern=kept, resolved_at=now.replace(year=2024) + timedelta(seconds=1))
    shot = gone.screenshot.name
    run_retention(now=now)
    assert list(Concern.objects.values_list("pk", flat=True)) == [kept.pk]
    assert not default_storage.exists(shot)
    assert default_storage.exists(kept.screenshot.name)


def test_a_hold_on_the_person_who_raised_it_keeps_a_concern(world, now):
    concern = raised_concern(world)
    resolved_item(world, concern=concern, resolved_at=now.replace(year=2020))
    place_legal_hold(world.leader, nursery=world.nursery, person=world.parent, reason="Complaint")
    run_retention(now=now)
    assert Concern.objects.filter(pk=concern.pk).exists()


def test_a_hold_on_a_child_keeps_comments_on_posts_picturing_them(world, now):
    from tests.retention.factories import photo

    image = photo(world.nursery, world.child)
    comment = CommentFactory(channel__nursery=world.nursery, post=image.post)
    resolved_item(world, comment=comment, resolved_at=now.replace(year=2020))
    place_legal_hold(world.leader, nursery=world.nursery, child=world.child, reason="Police request")
    run_retention(now=now)
    assert Comment.objects.filter(pk=comment.pk).exists()


# --- staff conduct ---------------------------------------------------------------------------------


def test_incidents_go_six_years_after_closing_with_notes_and_evidence_files(world, now):
    gone = closed_incident(world, closed_at=now.replace(year=2021))
    kept = closed_incident(world, closed_at=now.replace(year=2021) + timedelta(seconds=1))
    still_open = IncidentFactory(nursery=world.nursery, subject=world.practitioner,
                                 reported_at=now.replace(year=2015))
    evidence_file = gone.evidence.get().file
    run = run_retention(now=now)
    assert set(Incident.objects.values_list("pk", flat=True)) == {kept.pk, still_open.pk}
    assert not evidence_file.storage.exists(evidence_file.name)
    assert InvestigationNote.objects.get().incident_id == kept.pk
    assert not Incident.history.filter(id=gone.pk).exists()
    assert not Evidence.history.filter(incident_id=gone.pk).exists()
    assert {c.kind: (c.count, c.files) for c in run.counts.all()} == {"incidents": (1, 1)}


@pytest.mark.parametrize("hold_on", ["incident", "subject", "reporter"])
def test_a_hold_keeps_an_incident(world, now, hold_on):
    incident = closed_incident(world, closed_at=now.replace(year=2012), reported_by=world.dsl)
    target = {"incident": {"incident": incident}, "subject": {"person": world.practitioner},
              "reporter": {"person": world.dsl}}[hold_on]
    place_legal_hold(world.leader, nursery=world.nursery, reason="Employment tribunal", **target)
    run_retention(now=now)
    assert Incident.objects.filter(pk=incident.pk).exists()


def test_a_guardian_of_another_child_is_not_swept_with_this_one(world, now):
    """Only rows about the child who left: their guardian's decisions about a sibling on roll stay."""
    sibling_left = leaver(world.nursery, left_on=months_before(today(now), 100))
    GuardianshipFactory(child=sibling_left, user=world.parent)
    ConsentDecisionFactory(child=sibling_left, guardian=world.parent)
    on_roll = ConsentDecisionFactory(child=world.child, guardian=world.parent)
    run_retention(now=now)
    assert list(ConsentDecision.objects.values_list("pk", flat=True)) == [on_roll.pk]


def test_safeguarding_records_go_on_the_day_25_years_after_resolution(world, now):
    from tests.retention.conftest import NOW

    due = resolved_item(world, resolved_at=NOW.replace(year=2002), action=Action.ESCALATE).comment
    kept = resolved_item(world, resolved_at=NOW.replace(year=2002) + timedelta(seconds=1),
                         action=Action.ESCALATE).comment
    run_retention(now=now)
    assert list(Comment.objects.values_list("pk", flat=True)) == [kept.pk]
    assert not Comment.objects.filter(pk=due.pk).exists()


def test_a_hold_on_the_reviewer_keeps_the_comments_they_resolved(world, now):
    comment = resolved_item(world, resolved_at=now.replace(year=2020)).comment
    place_legal_hold(world.leader, nursery=world.nursery, person=world.dsl, reason="Grievance about moderation")
    run_retention(now=now)
    assert Comment.objects.filter(pk=comment.pk).exists()


def test_a_hold_on_a_withdrawn_child_keeps_the_taken_down_photos(world, now):
    from tests.factories import ChildFactory
    from tests.retention.factories import confirmed_takedown, photo

    child = ChildFactory(nursery=world.nursery)
    image = photo(world.nursery, child)
    confirmed_takedown(image, child, confirmed_at=now - timedelta(days=60), confirmed_by=world.leader)
    place_legal_hold(world.leader, nursery=world.nursery, child=child, reason="Complaint about the post")
    run_retention(now=now)
    from posts.models import PostImage

    assert PostImage.objects.filter(pk=image.pk).exists()


# --- invitations -----------------------------------------------------------------------------------


def _invitation(world, user, **fields):
    from people.models import Invitation

    return Invitation.objects.create(nursery=world.nursery, user=user, email=user.email, role="parent",
                                     invited_by=world.leader, created_at=NOW - timedelta(days=400),
                                     send_pending=False, **fields)


def test_invitations_go_90_days_after_they_were_answered_or_expired_and_open_ones_stay(world, now):
    from people.models import Invitation
    from tests.factories import UserFactory

    accepted = _invitation(world, UserFactory(), accepted_at=now - timedelta(days=90))
    revoked = _invitation(world, UserFactory(), revoked_at=now - timedelta(days=120))
    expired = _invitation(world, UserFactory(), expires_at=now - timedelta(days=91))
    recent = _invitation(world, UserFactory(), accepted_at=now - timedelta(days=90) + timedelta(seconds=1))
    still_open = _invitation(world, UserFactory(), expires_at=now + timedelta(days=3))
    waiting = _invitation(world, UserFactory(), expires_at=now - timedelta(days=200))
    Invitation.objects.filter(pk=waiting.pk).update(send_pending=True)  # a new link is waiting to be sent
    run = run_retention(now=now)
    assert set(Invitation.objects.values_list("pk", flat=True)) == {recent.pk, still_open.pk, waiting.pk}
    assert not Invitation.history.filter(id__in=[accepted.pk, revoked.pk, expired.pk]).exists()
    assert {c.kind: c.count for c in run.counts.all()} == {"invitations": 3}


def test_a_hold_on_the_person_keeps_their_invitation(world, now):
    from people.models import Invitation

    invitation = _invitation(world, world.parent, accepted_at=now - timedelta(days=400))
    place_legal_hold(world.leader, nursery=world.nursery, person=world.parent, reason="Access dispute")
    run_retention(now=now)
    assert Invitation.objects.filter(pk=invitation.pk).exists()
