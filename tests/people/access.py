from tests.access import Access, everyone, expect, leadership_page


def an_invitation(world):
    """One open invitation of the world's nursery, made once per test."""
    from django.utils import timezone

    from people.models import Invitation
    from tests.factories import UserFactory

    invitation = world.extra.get("invitation")
    if invitation is None:
        invitation = Invitation.objects.create(
            nursery=world.nursery, user=UserFactory(username="invitee"), email="invitee@example.org",
            role="staff", invited_by=world.leader, created_at=timezone.now(), send_pending=False,
        )
        world.extra["invitation"] = invitation
    return {"pk": invitation.pk}


def guardianship(world):
    return {"pk": world.child.guardianships.get(user=world.parent).pk}


def membership(world):
    return {"pk": world.practitioner.memberships.get(nursery=world.nursery).pk}


ACCESS = [
    Access("people:child_leaving", leadership_page(outsider=404), kwargs=lambda w: {"pk": w.child.pk}),
    Access("people:children", leadership_page()),
    Access("people:child_new", leadership_page()),
    Access("people:child", leadership_page(outsider=404), kwargs=lambda w: {"pk": w.child.pk}),
    Access("people:guardian_remove", expect(leader=302), method="post", kwargs=guardianship,
           note="without a reason the leader is refused with a message"),
    Access("people:guardian_responsibility", expect(leader=302), method="post", kwargs=guardianship),
    Access("people:roll_import", leadership_page()),
    Access("people:roll_import_preview", expect(leader=302, outsider=302),
           note="without an uploaded file in the session the leader is sent to the upload page"),
    Access("people:rooms", leadership_page()),
    Access("people:room_rename", expect(leader=302), method="post", kwargs=lambda w: {"pk": w.child.room_id}),
    Access("people:room_archive", expect(leader=302), method="post", kwargs=lambda w: {"pk": w.child.room_id},
           note="refused for the leader: Amara is on roll in it"),
    Access("people:staff", leadership_page()),
    Access("people:staff_role", expect(leader=302), method="post", kwargs=membership),
    Access("people:staff_remove", expect(leader=302), method="post", kwargs=membership),
    Access("people:invitations", leadership_page()),
    Access("people:invite", leadership_page()),
    Access("people:invitation_resend", expect(leader=302), method="post", kwargs=an_invitation),
    Access("people:invitation_revoke", expect(leader=302), method="post", kwargs=an_invitation,
           note="revoked by the leader's request; later actors get the 'already revoked' message, still 302"),
    Access("people:invitation", everyone(410, anonymous=410), kwargs=lambda w: {"token": "not-a-token"},
           note="the emailed link; anyone may open it, a wrong or used token is 410"),
    Access("people:invitation_accept", everyone(410, anonymous=410), note="without a valid link in the session"),
]
