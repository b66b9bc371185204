"""People, rooms and children, managed by leadership in the app: every change is one function here."""

import hashlib
import secrets
from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from nursery import outbox
from nursery.audit import acting_as
from nursery.errors import ServiceError
from nursery.models import Child, Guardianship, Membership, Nursery, Role, Room
from nursery.permissions import is_leader
from nursery.services import drop_parent_access_if_last, notify
from nursery.signals import child_left
from people.models import Invitation


def require_leader(user, nursery: Nursery, what: str = "do this") -> None:
    # The superuser is the auditing administrator: the admin routes its changes through these services.
    if not (getattr(user, "is_superuser", False) or is_leader(user, nursery)):
        raise ServiceError(f"Only the leadership team can {what}.")


def _reason(reason: str, what: str) -> str:
    reason = " ".join((reason or "").split())
    if not reason:
        raise ServiceError(f"Say why you {what}: it is kept on the record.")
    return reason


# --- Leavers ------------------------------------------------------------------------------------------


def mark_child_leaving(
    user, *, child: Child, left_on: date | None, reason: str, now: datetime | None = None,
) -> Child:
    """Set (or, before it comes, cancel) the day a child leaves: from that day they are off roll.

    On a date today or in the past the follow-up runs at once; a future date is picked up by the hourly
    ``retire_leavers`` on the day.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    require_leader(user, child.nursery, "mark a child as leaving")
    reason = _reason(reason, "are changing the leaving date")
    with transaction.atomic():
        child = Child.objects.select_for_update().select_related("nursery").get(pk=child.pk)
        if child.left_on is not None and child.left_on <= today and child.left_processed_on is not None:
            raise ServiceError(f"{child.full_name} has already left; add them again if they come back.")
        if left_on is not None and left_on < child.joined_on:
            raise ServiceError(f"The leaving date cannot be before {child.first_name} joined "
                               f"({child.joined_on:%-d %B %Y}).")
        if left_on == child.left_on:
            raise ServiceError("Nothing changed: that is already the leaving date.")
        words = f"leaves on {left_on:%-d %B %Y}" if left_on else "is no longer leaving"
        with acting_as(user, f"{child.full_name} {words}: {reason}"):
            child.left_on, child.left_processed_on = left_on, None
            child.save(update_fields=["left_on", "left_processed_on"])
            if left_on is not None and left_on <= today:
                _retire(child, now)
    return child


def retire_leaver(child_id: int, *, now: datetime | None = None) -> bool:
    """The follow-up of a leaving date that has come, once: consent has ended (``consent.queries`` counts
    only children on roll), parents with no other child on roll lose access, and after commit posts
    picturing the child stop and published ones get takedowns. Returns whether it ran."""
    now = now or timezone.now()
    with transaction.atomic(), acting_as(None, "Left the nursery"):
        child = Child.objects.select_for_update().select_related("nursery").filter(pk=child_id).first()
        if child is None:
            return False
        return _retire(child, now)


def _retire(child: Child, now: datetime) -> bool:
    today = timezone.localdate(now)
    if child.left_on is None or child.left_on > today or child.left_processed_on == child.left_on:
        return False
    child.left_processed_on = child.left_on
    child.save(update_fields=["left_processed_on"])
    for guardianship in child.guardianships.select_related("user"):
        drop_parent_access_if_last(guardianship.user, child.nursery, on=today)
    transaction.on_commit(
        lambda: child_left.send(sender=Child, child_id=child.pk, left_on=child.left_on, now=now)
    )
    return True


def retire_leavers(*, now: datetime | None = None) -> int:
    """Every child whose leaving date has come and whose follow-up has not run: safe to run any time."""
    now = now or timezone.now()
    due = (
        Child.objects.filter(left_on__lte=timezone.localdate(now))
        .exclude(left_processed_on=F("left_on"))
        .values_list("pk", flat=True)
    )
    return sum(retire_leaver(pk, now=now) for pk in list(due))


# --- Invitations --------------------------------------------------------------------------------------

INVITATION_VALID = timedelta(days=7)
STAFF_ROLES_INVITED = (Role.LEADERSHIP, Role.SAFEGUARDING_LEAD, Role.STAFF)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def clean_email(email: str) -> str:
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise ServiceError(f"“{email}” is not an email address.") from exc
    return email


def user_for_email(email: str, *, first_name: str = "", last_name: str = ""):
    """The one account with this email, created when there is none: an invitation never makes a duplicate."""
    User = get_user_model()
    matches = list(User.objects.filter(email__iexact=email)[:2])
    if len(matches) > 1:
        raise ServiceError(f"Two accounts share {email}; ask the administrator to merge them first.")
    if matches:
        return matches[0]
    username, n = email[:150], 1
    while User.objects.filter(username__iexact=username).exists():
        n += 1
        username = f"{email[:140]}-{n}"
    user = User(username=username, email=email, first_name=first_name.strip()[:150], last_name=last_name.strip()[:150])
    user.set_unusable_password()  # nobody knows a password until the invited person sets one
    user.save()
    return user


def invite_person(
    user, *, nursery: Nursery, email: str, first_name: str = "", last_name: str = "", role: str,
    child: Child | None = None, relationship: str = "", parental_responsibility: bool = True,
    now: datetime | None = None,
) -> Invitation | None:
    """Give a person a role at the nursery (a parent: a guardianship of ``child``) and email them a link to
    set their password. Someone who already has a password is told by notification instead, and ``None``
    is returned. Never emails a password; never creates a second account for the same email."""
    now = now or timezone.now()
    require_leader(user, nursery, "invite people")
    email = clean_email(email)
    if role not in Role.values:
        raise ServiceError("Choose a role.")
    if role == Role.PARENT:
        if child is None or child.nursery_id != nursery.pk:
            raise ServiceError("Choose the child this parent or carer is for.")
        relationship = " ".join((relationship or "").split())[:50]
        if not relationship:
            raise ServiceError("Say how they are related to the child, for example mother or grandparent.")
    who = " ".join(p for p in (first_name.strip(), last_name.strip()) if p) or email
    with transaction.atomic(), acting_as(user, f"Invited {who} as {Role(role).label}"):
        person = user_for_email(email, first_name=first_name, last_name=last_name)
        if role == Role.PARENT:
            Guardianship.objects.get_or_create(user=person, child=child, defaults={
                "relationship": relationship, "has_parental_responsibility": parental_responsibility,
            })
        Membership.objects.get_or_create(user=person, nursery=nursery, role=role)
        if person.has_usable_password():
            notify([person], f"You now have access to {nursery.name} on Safe Sharing", "nursery/email/message.txt",
                   {"message": f"{user.get_full_name() or user.username} added you to {nursery.name} as "
                               f"{Role(role).label.lower()}. Sign in with your usual password."},
                   nursery=nursery, url=landing_url(role))
            return None
        if Invitation.objects.filter(nursery=nursery, user=person, accepted_at=None, revoked_at=None).exists():
            raise ServiceError(f"{who} already has an invitation waiting: resend it from the invitations list.")
        invitation = Invitation.objects.create(
            nursery=nursery, user=person, email=email, role=role, invited_by=user, created_at=now,
        )
        _send_again(invitation)
        return invitation


def _send_again(invitation: Invitation) -> None:
    from people.tasks import send_invitation

    invitation.send_pending, invitation.token_hash = True, ""  # the old link stops working at once
    invitation.sends += 1
    invitation.save()
    outbox.enqueue(send_invitation, invitation.pk, key=f"people.invitation:{invitation.pk}:{invitation.sends}")


def _open_invitation(user, invitation: Invitation, what: str) -> Invitation:
    require_leader(user, invitation.nursery, f"{what} invitations")
    invitation = Invitation.objects.select_for_update(of=("self",)).select_related("nursery", "user").get(
        pk=invitation.pk
    )
    if invitation.accepted_at:
        raise ServiceError("This invitation was already accepted.")
    if invitation.revoked_at:
        raise ServiceError("This invitation was revoked; invite the person again.")
    return invitation


def resend_invitation(user, *, invitation: Invitation) -> Invitation:
    """A new link, valid for another 7 days from sending; the previous link stops working."""
    with transaction.atomic(), acting_as(user, f"Resent the invitation to {invitation.email}"):
        invitation = _open_invitation(user, invitation, "resend")
        _send_again(invitation)
        return invitation


def revoke_invitation(user, *, invitation: Invitation, now: datetime | None = None) -> Invitation:
    """The link stops working. The person keeps their role or guardianship (remove those separately)."""
    now = now or timezone.now()
    with transaction.atomic(), acting_as(user, f"Revoked the invitation to {invitation.email}"):
        invitation = _open_invitation(user, invitation, "revoke")
        invitation.revoked_at, invitation.revoked_by = now, user
        invitation.token_hash, invitation.send_pending = "", False
        invitation.save()
        return invitation


def send_invitation_email(*, invitation_id: int, now: datetime | None = None) -> bool:
    """Email a new link, once per send however often the task runs (the outbox delivers at least once).

    The token is made here and only its hash stored, so it exists nowhere but in the email.
    """
    now = now or timezone.now()
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update(of=("self",)).select_related("nursery", "user", "invited_by")
            .filter(pk=invitation_id, send_pending=True, accepted_at=None, revoked_at=None).first()
        )
        if invitation is None:
            return False
        token = secrets.token_urlsafe(32)
        invitation.token_hash, invitation.send_pending = _hash(token), False
        invitation.sent_at, invitation.expires_at = now, now + INVITATION_VALID
        with acting_as(None, "Invitation emailed"):
            invitation.save()
        link = settings.SITE_URL.rstrip("/") + reverse("people:invitation", args=[token])
        body = render_to_string("people/email/invitation.txt", {"invitation": invitation, "link": link})
        # Sent inside the transaction: if the mail server refuses, the send rolls back and the retry sends.
        send_mail(f"Your invitation to {invitation.nursery.name} on Safe Sharing", body, None, [invitation.email])
    return True


def invitation_for_token(token: str, *, now: datetime | None = None, lock: bool = False) -> Invitation:
    """The open invitation a link names, or ServiceError saying why the link no longer works."""
    now = now or timezone.now()
    found = Invitation.objects.select_related("nursery", "user").filter(token_hash=_hash(token or ""))
    invitation = (found.select_for_update(of=("self",)) if lock else found).first() if token else None
    if invitation is None or invitation.accepted_at or invitation.revoked_at:
        raise ServiceError("This invitation link is no longer valid. If you have set your password, sign in; "
                           "otherwise ask the nursery to send a new invitation.")
    if invitation.expires_at is None or invitation.expires_at <= now:
        raise ServiceError("This invitation link has expired. Please ask the nursery to send a new one.")
    # Removed since (the guardian taken off the child, the staff role removed): the link opens nothing.
    if not Membership.objects.filter(user=invitation.user_id, nursery=invitation.nursery_id,
                                     role=invitation.role).exists():
        raise ServiceError("This invitation link is no longer valid. Please ask the nursery.")
    return invitation


def accept_invitation(*, token: str, password: str, now: datetime | None = None) -> Invitation:
    """The invited person sets their password; the link is used up."""
    now = now or timezone.now()
    with transaction.atomic():
        invitation = invitation_for_token(token, now=now, lock=True)
        person = invitation.user
        with acting_as(person, "Accepted the invitation and set a password"):
            person.set_password(password)
            person.is_active = True
            person.save()
            invitation.accepted_at, invitation.token_hash = now, ""
            invitation.save()
    return invitation


def landing_url(role: str) -> str:
    """Where an invited person starts: a parent at their children's photo consent, staff at the policy."""
    if role == Role.PARENT:
        return reverse("consent:mine")
    return reverse("staff_conduct:policy", kwargs={"kind": "staff"})


# --- Rooms --------------------------------------------------------------------------------------------


def _room_name(nursery: Nursery, name: str, *, exclude: int | None = None) -> str:
    name = " ".join((name or "").split())[:100]
    if not name:
        raise ServiceError("Give the room a name.")
    if Room.objects.filter(nursery=nursery, name__iexact=name).exclude(pk=exclude).exists():
        raise ServiceError(f"There is already a room called {name}.")
    return name


def add_room(user, *, nursery: Nursery, name: str) -> Room:
    require_leader(user, nursery, "manage rooms")
    with transaction.atomic(), acting_as(user, "Added a room"):
        return Room.objects.create(nursery=nursery, name=_room_name(nursery, name))


def rename_room(user, *, room: Room, name: str) -> Room:
    require_leader(user, room.nursery, "manage rooms")
    with transaction.atomic(), acting_as(user, f"Renamed the room {room.name}"):
        room = Room.objects.select_for_update().get(pk=room.pk)
        room.name = _room_name(room.nursery, name, exclude=room.pk)
        room.save(update_fields=["name"])
        return room


def archive_room(user, *, room: Room, now: datetime | None = None) -> Room:
    """An archived room takes no new children; it keeps its history and its name on past records."""
    now = now or timezone.now()
    require_leader(user, room.nursery, "manage rooms")
    with transaction.atomic(), acting_as(user, f"Archived the room {room.name}"):
        room = Room.objects.select_for_update().get(pk=room.pk)
        if room.archived_at:
            raise ServiceError("This room is already archived.")
        if Child.objects.on_roll(timezone.localdate(now)).filter(room=room).exists():
            raise ServiceError(f"Move the children in {room.name} to another room first.")
        room.archived_at = now
        room.save(update_fields=["archived_at"])
        return room


# --- Children -----------------------------------------------------------------------------------------


def _check_room(nursery: Nursery, room: Room | None) -> None:
    if room is not None and (room.nursery_id != nursery.pk or room.archived_at):
        raise ServiceError("Choose one of the nursery's open rooms.")


def _check_child(*, first_name: str, last_name: str, date_of_birth: date, joined_on: date) -> tuple[str, str]:
    first_name, last_name = " ".join((first_name or "").split()), " ".join((last_name or "").split())
    if not first_name or not last_name:
        raise ServiceError("Give the child's first and last name.")
    if date_of_birth > joined_on:
        raise ServiceError("A child cannot join before they are born: check the dates.")
    return first_name[:100], last_name[:100]


def add_child(
    user, *, nursery: Nursery, first_name: str, last_name: str, date_of_birth: date, joined_on: date,
    room: Room | None,
) -> Child:
    require_leader(user, nursery, "add children")
    _check_room(nursery, room)
    first_name, last_name = _check_child(first_name=first_name, last_name=last_name, date_of_birth=date_of_birth,
                                         joined_on=joined_on)
    with transaction.atomic(), acting_as(user, "Added a child to the roll"):
        if Child.objects.filter(nursery=nursery, first_name__iexact=first_name, last_name__iexact=last_name,
                                date_of_birth=date_of_birth).exists():
            raise ServiceError(f"{first_name} {last_name}, born {date_of_birth:%-d %B %Y}, is already on the roll.")
        return Child.objects.create(nursery=nursery, first_name=first_name, last_name=last_name,
                                    date_of_birth=date_of_birth, joined_on=joined_on, room=room)


def update_child(
    user, *, child: Child, first_name: str, last_name: str, date_of_birth: date, joined_on: date,
    room: Room | None, reason: str = "",
) -> Child:
    """Correct a child's details or move them to another room; the history says who and why."""
    require_leader(user, child.nursery, "change a child's details")
    _check_room(child.nursery, room)
    first_name, last_name = _check_child(first_name=first_name, last_name=last_name, date_of_birth=date_of_birth,
                                         joined_on=joined_on)
    if child.left_on and joined_on > child.left_on:
        raise ServiceError("The joining date cannot be after the leaving date.")
    moved = room != child.room
    why = " ".join((reason or "").split()) or ("Moved to another room" if moved else "Details corrected")
    with transaction.atomic(), acting_as(user, why):
        child = Child.objects.select_for_update().get(pk=child.pk)
        child.first_name, child.last_name = first_name, last_name
        child.date_of_birth, child.joined_on, child.room = date_of_birth, joined_on, room
        child.save()
        return child


# --- Staff --------------------------------------------------------------------------------------------


def _last_leader(membership: Membership) -> bool:
    return membership.role == Role.LEADERSHIP and not Membership.objects.filter(
        nursery=membership.nursery_id, role=Role.LEADERSHIP,
    ).exclude(pk=membership.pk).exists()


def change_staff_role(user, *, membership: Membership, role: str) -> Membership:
    require_leader(user, membership.nursery, "change staff roles")
    if role not in STAFF_ROLES_INVITED or membership.role not in STAFF_ROLES_INVITED:
        raise ServiceError("Choose a staff role.")
    with transaction.atomic(), acting_as(user, f"Role changed to {Role(role).label}"):
        membership = Membership.objects.select_for_update().select_related("nursery").get(pk=membership.pk)
        if membership.role == role:
            raise ServiceError("That is already their role.")
        if _last_leader(membership):
            raise ServiceError("The nursery needs at least one member of the leadership team.")
        if Membership.objects.filter(user=membership.user_id, nursery=membership.nursery, role=role).exists():
            raise ServiceError("They already hold that role; remove this one instead.")
        membership.role = role
        membership.save(update_fields=["role"])
        return membership


def remove_staff_role(user, *, membership: Membership, reason: str) -> None:
    require_leader(user, membership.nursery, "remove staff")
    if membership.role not in STAFF_ROLES_INVITED:
        raise ServiceError("Parents and carers are removed from their child's page.")
    reason = _reason(reason, "are removing this role")
    with transaction.atomic(), acting_as(user, f"Removed the role {Role(membership.role).label}: {reason}"):
        membership = Membership.objects.select_for_update().select_related("nursery").get(pk=membership.pk)
        if _last_leader(membership):
            raise ServiceError("The nursery needs at least one member of the leadership team.")
        membership.delete()


# --- Importing the roll -------------------------------------------------------------------------------


def preview_roll(nursery: Nursery, content: bytes | str):
    """What importing this file would do, writing nothing. Raises RollFileError for an unreadable file."""
    from people.roll import parse
    from people.roll_import import plan_roll

    rows, errors = parse(content)
    return plan_roll(nursery, rows, errors)


def import_roll(
    user, *, nursery: Nursery, content: bytes | str, invite: bool = False, valid_rows_only: bool = False,
    now: datetime | None = None,
):
    """Import a roll CSV: rooms, children, guardians, guardianships and parents' access, in one transaction.

    A file with errors writes nothing unless ``valid_rows_only``. ``invite`` emails an invitation to every
    parent or carer the import created. ``user`` None is the system (``manage.py import_roll``).
    Returns the plan that was written.
    """
    from consent.queries import consent_states
    from nursery.services import reevaluate_consent
    from people.roll_import import apply_plan

    now = now or timezone.now()
    if user is not None:
        require_leader(user, nursery, "import the roll")
    plan = preview_roll(nursery, content)
    if plan.errors and not valid_rows_only:
        raise ServiceError(f"The file has {len(plan.errors)} row(s) with errors, so nothing was imported. "
                           "Correct them, or choose to import the valid rows only.")
    reason = "Imported the roll from CSV"
    with transaction.atomic(), acting_as(user, reason):
        affected = sorted({link.child_id for link, changes in plan.changed_links.values()
                           if changes.get("has_parental_responsibility") is False})
        before = consent_states(affected, now=now) if affected else {}
        written = apply_plan(plan, user=user, reason=reason)
        for child in Child.objects.filter(pk__in=affected).select_related("nursery"):
            reevaluate_consent(user, child, {k: v for k, v in before.items() if k[0] == child.pk},
                               f"Parental responsibility removed by the roll import for {child.full_name}")
        if invite and written["new_users"]:
            _invite_imported(user, nursery, written["new_users"], now)
    return plan


def _invite_imported(user, nursery: Nursery, people: list, now: datetime) -> None:
    from simple_history.utils import bulk_create_with_history

    from people.tasks import send_invitation

    invitations = bulk_create_with_history([
        Invitation(nursery=nursery, user=person, email=person.email, role=Role.PARENT, invited_by=user,
                   created_at=now, sends=1)
        for person in people
    ], Invitation, batch_size=1000, default_user=user, default_change_reason="Invited by the roll import")
    outbox.enqueue_many(send_invitation, [(inv.pk,) for inv in invitations], now=now)
