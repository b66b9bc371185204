"""Invitations: one account per email, a single-use link that expires after 7 days, resend and revoke."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from nursery.errors import ServiceError
from nursery.models import Guardianship, Membership, Role
from people.models import Invitation
from people.services import (
    accept_invitation,
    invitation_for_token,
    invite_person,
    resend_invitation,
    revoke_invitation,
    send_invitation_email,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
User = get_user_model()


def invite_parent(world, email="kemi@example.org", **kwargs):
    return invite_person(world.leader, nursery=world.nursery, email=email, first_name="Kemi", last_name="Okafor",
                         role=Role.PARENT, child=world.child, relationship="aunt", **kwargs)


def link_in(message) -> str:
    return re.search(r"http://\S+/invitation/(\S+)/", message.body).group(1)


def test_inviting_a_parent_creates_the_account_guardianship_and_role_and_emails_a_link(world, drain_outbox):
    invitation = invite_parent(world)
    person = invitation.user
    assert person.email == "kemi@example.org" and not person.has_usable_password()
    assert Guardianship.objects.filter(user=person, child=world.child, relationship="aunt").exists()
    assert Membership.objects.filter(user=person, nursery=world.nursery, role=Role.PARENT).exists()
    drain_outbox()
    [message] = mail.outbox
    assert message.to == ["kemi@example.org"] and "Kids Count" in message.subject
    assert "password" in message.body and "pw-" not in message.body
    token = link_in(message)
    invitation.refresh_from_db()
    assert invitation.token_hash and token not in invitation.token_hash  # only the hash is stored
    assert invitation.expires_at == invitation.sent_at + timedelta(days=7)
    assert invitation_for_token(token) == invitation


def test_an_existing_user_with_that_email_is_linked_never_duplicated(world, drain_outbox):
    existing = UserFactory(username="kemi", email="Kemi@Example.org")
    existing.set_unusable_password()
    existing.save()
    invitation = invite_parent(world, email="kemi@example.org")
    assert invitation.user == existing and User.objects.filter(email__iexact="kemi@example.org").count() == 1


def test_a_person_who_already_has_a_password_is_told_not_invited(world, drain_outbox):
    invitation = invite_person(world.leader, nursery=world.nursery, email=world.parent.email, role=Role.STAFF)
    assert invitation is None
    assert Membership.objects.filter(user=world.parent, nursery=world.nursery, role=Role.STAFF).exists()
    assert world.parent.notifications.filter(subject__contains="You now have access").exists()


def test_the_link_works_once(world, drain_outbox):
    invite_parent(world)
    drain_outbox()
    token = link_in(mail.outbox[0])
    accept_invitation(token=token, password="a-long-Passphrase-42")
    person = User.objects.get(email="kemi@example.org")
    assert person.check_password("a-long-Passphrase-42")
    with pytest.raises(ServiceError, match="no longer valid"):
        accept_invitation(token=token, password="another-Passphrase-43")


def test_the_link_expires_after_seven_days(world, drain_outbox):
    invite_parent(world)
    drain_outbox()
    token = link_in(mail.outbox[0])
    sent = Invitation.objects.get().sent_at
    assert invitation_for_token(token, now=sent + timedelta(days=7) - timedelta(seconds=1))
    with pytest.raises(ServiceError, match="expired"):
        invitation_for_token(token, now=sent + timedelta(days=7))


def test_resending_replaces_the_link(world, drain_outbox):
    invitation = invite_parent(world)
    drain_outbox()
    old = link_in(mail.outbox[0])
    resend_invitation(world.leader, invitation=invitation)
    with pytest.raises(ServiceError):
        invitation_for_token(old)
    drain_outbox()
    assert len(mail.outbox) == 2
    assert invitation_for_token(link_in(mail.outbox[1])) == invitation


def test_a_revoked_link_stops_working_and_cannot_be_resent(world, drain_outbox):
    invitation = invite_parent(world)
    drain_outbox()
    token = link_in(mail.outbox[0])
    revoke_invitation(world.leader, invitation=invitation)
    with pytest.raises(ServiceError):
        invitation_for_token(token)
    with pytest.raises(ServiceError, match="revoked"):
        resend_invitation(world.leader, invitation=invitation)


def test_sending_twice_sends_one_email(world):
    invitation = invite_parent(world)
    assert send_invitation_email(invitation_id=invitation.pk)
    assert not send_invitation_email(invitation_id=invitation.pk)
    assert len(mail.outbox) == 1


@pytest.mark.parametrize("actor", ["practitioner", "dsl", "parent", "outsider"])
def test_only_leadership_invites(world, actor):
    with pytest.raises(ServiceError):
        invite_person(world.actor(actor), nursery=world.nursery, email="x@example.org", role=Role.STAFF)
    assert not User.objects.filter(email="x@example.org").exists()


def test_a_second_open_invitation_for_the_same_person_is_refused(world):
    invite_parent(world)
    with pytest.raises(ServiceError, match="already has an invitation"):
        invite_person(world.leader, nursery=world.nursery, email="kemi@example.org", role=Role.STAFF)


def test_the_invited_parent_sets_a_password_and_lands_on_their_childs_consent(world, client, drain_outbox):
    invite_parent(world)
    drain_outbox()
    token = link_in(mail.outbox[0])
    response = client.get(reverse("people:invitation", args=[token]))
    assert response.status_code == 302 and response["Location"] == reverse("people:invitation_accept")
    page = client.get(response["Location"])
    assert token not in page.content.decode() and "Welcome to Kids Count" in page.content.decode()
    response = client.post(reverse("people:invitation_accept"), {
        "new_password1": "a-long-Passphrase-42", "new_password2": "a-long-Passphrase-42",
    })
    assert response.status_code == 302 and response["Location"] == reverse("consent:mine")
    assert "Amara" in client.get(reverse("consent:mine")).content.decode()
    assert client.get(reverse("people:invitation", args=[token])).status_code == 410


def test_invited_staff_land_on_the_staff_policy(world, client, drain_outbox):
    invite_person(world.leader, nursery=world.nursery, email="sam@example.org", first_name="Sam", role=Role.STAFF)
    drain_outbox()
    client.get(reverse("people:invitation", args=[link_in(mail.outbox[0])]))
    response = client.post(reverse("people:invitation_accept"), {
        "new_password1": "a-long-Passphrase-42", "new_password2": "a-long-Passphrase-42",
    })
    assert response["Location"] == reverse("staff_conduct:policy", kwargs={"kind": "staff"})


def test_the_invitations_page_lists_searches_and_acts(world, client, django_assert_max_num_queries):
    for n in range(30):
        invite_person(world.leader, nursery=world.nursery, email=f"p{n}@example.org", first_name=f"Person{n}",
                      role=Role.STAFF)
    client.force_login(world.leader)
    with django_assert_max_num_queries(15):
        page = client.get(reverse("people:invitations")).content.decode()
    assert "Page 1 of 2" in page
    page = client.get(reverse("people:invitations"), {"q": "Person7"}).content.decode()
    assert "p7@example.org" in page and "p8@example.org" not in page
    invitation = Invitation.objects.get(email="p7@example.org")
    assert client.post(reverse("people:invitation_revoke", args=[invitation.pk])).status_code == 302
    invitation.refresh_from_db()
    assert invitation.revoked_at and invitation.revoked_by == world.leader


def test_the_invite_page(world, client, drain_outbox):
    client.force_login(world.leader)
    url = reverse("people:invite")
    assert "Amara" in client.get(url, {"child": world.child.pk}).content.decode()
    response = client.post(url, {"email": "new@example.org", "first_name": "New", "role": Role.PARENT,
                                 "child": world.child.pk, "relationship": "father", "parental_responsibility": "on"})
    assert response.status_code == 302
    assert Guardianship.objects.get(user__email="new@example.org").has_parental_responsibility
    response = client.post(url, {"email": "bad@example.org", "first_name": "Bad", "role": Role.PARENT})
    assert response.status_code == 200 and "Choose the child" in response.content.decode()


def test_an_expired_link_is_a_410_page(world, client, drain_outbox):
    invite_parent(world)
    drain_outbox()
    token = link_in(mail.outbox[0])
    Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.get(reverse("people:invitation", args=[token]))
    assert response.status_code == 410 and "expired" in response.content.decode()


def test_the_link_stops_working_once_the_person_is_removed(world, drain_outbox):
    from nursery.services import remove_guardian

    invitation = invite_parent(world)
    drain_outbox()
    token = link_in(mail.outbox[0])
    remove_guardian(world.leader, guardianship=world.child.guardianships.get(user=invitation.user),
                    reason="Added by mistake")
    with pytest.raises(ServiceError, match="no longer valid"):
        invitation_for_token(token)
