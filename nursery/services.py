from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from nursery import outbox
from nursery.audit import acting_as
from nursery.models import Child, Guardianship, Membership, Notification, Nursery, Role


def notify(
    users: Iterable,
    subject: str,
    template: str,
    context: dict | None = None,
    *,
    nursery: Nursery | None = None,
    url: str = "",
) -> list[Notification]:
    """Tell people something: an in-app notification each, and an email sent through the outbox after commit.

    ``template`` is a plain-text template rendered once per recipient with ``recipient`` in its context.
    """
    recipients = {user.pk: user for user in users if user is not None}.values()
    return notify_each(Message(user, subject, template, context or {}, nursery=nursery, url=url) for user in recipients)


@dataclass(frozen=True)
class Message:
    """One person's notification, for ``notify_each``."""

    recipient: object
    subject: str
    template: str
    context: dict = field(default_factory=dict)
    nursery: Nursery | None = None
    url: str = ""


def notify_each(messages: Iterable[Message]) -> list[Notification]:
    """Tell each person their own message, in one INSERT of notifications and one of outbox rows however
    many there are: what a sweep uses, so its number of queries does not grow with the people it tells."""
    notifications = [
        Notification(
            nursery=message.nursery,
            recipient=message.recipient,
            subject=message.subject[:200],
            body=render_to_string(
                message.template, {**message.context, "recipient": message.recipient, "url": message.url}
            ).strip(),
            url=message.url,
        )
        for message in messages
        if message.recipient is not None and message.recipient.is_active
    ]
    if not notifications:
        return []
    from nursery.tasks import send_notification_email

    with transaction.atomic():
        created = Notification.objects.bulk_create(notifications, batch_size=1000)
        # The emails are outbox rows in this same transaction: a broker outage delays them, never loses them.
        outbox.enqueue_many(send_notification_email, [(n.pk,) for n in created])
    return created


def mark_notifications_read(*, user, ids: Iterable[int] | None = None, now=None) -> int:
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=list(ids))
    return unread.update(read_at=now or timezone.now())


def email_notification(*, notification_id: int, now=None) -> bool:
    """Send the email copy of one notification once, however often the task runs."""
    from django.conf import settings
    from django.core.mail import send_mail

    now = now or timezone.now()
    with transaction.atomic():
        claimed = Notification.objects.filter(pk=notification_id, emailed_at__isnull=True).update(emailed_at=now)
        if not claimed:
            return False
        notification = Notification.objects.select_related("recipient").get(pk=notification_id)
        if not notification.recipient.email:
            return False
        link = f"\n\n{settings.SITE_URL.rstrip('/')}{notification.url}" if notification.url else ""
        # Sending inside the transaction: if the mail server refuses, the claim rolls back and a retry sends.
        send_mail(
            notification.subject,
            notification.body + link,
            None,
            [notification.recipient.email],
        )
    return True


# --- Guardians ----------------------------------------------------------------------------------------


def _require_leader(user, nursery: Nursery) -> None:
    from nursery.errors import ServiceError
    from nursery.permissions import is_leader

    # The superuser is the auditing administrator: the admin routes its changes through these services.
    if not (getattr(user, "is_superuser", False) or is_leader(user, nursery)):
        raise ServiceError("Only the leadership team can change a child's parents and carers.")


def reevaluate_consent(user, child: Child, before: dict, reason: str) -> list[str]:
    """After a change of guardians: the scopes whose consent stopped holding are treated as withdrawn.

    The rule in ``consent.queries`` already makes sure no scope can start holding because of such a
    change (a withdrawal stands until a new grant answers it); a grant that stops counting, though, can
    end consent, and then posts picturing the child stop and published ones come down, as for a withdrawal.
    """
    from consent.queries import consent_states
    from consent.signals import consent_withdrawn
    from nursery.permissions import users_with_role

    after = consent_states([child.pk])
    ended = [state.scope for key, state in before.items() if state.effective and not after[key].effective]
    for scope in ended:
        transaction.on_commit(
            lambda scope=scope: consent_withdrawn.send(
                sender=Guardianship, decision=None, child_id=child.pk, scope=scope, withdrawn_by=user,
            )
        )
    if ended:
        notify(
            users_with_role(child.nursery, Role.LEADERSHIP),
            f"Photo consent for {child.full_name} no longer holds",
            "nursery/email/message.txt",
            {"message": f"{reason}. {child.first_name}'s photo consent no longer holds for: "
                        f"{', '.join(ended)}. Posts picturing {child.first_name} there are stopped and "
                        "published ones must come down."},
            nursery=child.nursery, url=reverse("consent:evidence", args=[child.pk]),
        )
    return ended


def drop_parent_access_if_last(guardian, nursery: Nursery, *, on=None) -> bool:
    """A parent with no child on roll at the nursery (on the day ``on``, today by default) loses access to it."""
    still_a_parent = Guardianship.objects.filter(
        user=guardian, child__in=Child.objects.on_roll(on).filter(nursery=nursery)
    ).exists()
    if still_a_parent:
        return False
    return bool(Membership.objects.filter(user=guardian, nursery=nursery, role=Role.PARENT).delete()[0])


def remove_guardian(user, *, guardianship: Guardianship, reason: str) -> list[str]:
    """Remove a parent or carer from a child. Their past decisions stay in the ledger, and a withdrawal
    of theirs keeps standing until a guardian with parental responsibility grants again.

    Returns the scopes whose consent stopped holding because of the removal.
    """
    from consent.queries import consent_states
    from nursery.errors import ServiceError

    reason = " ".join((reason or "").split())
    if not reason:
        raise ServiceError("Say why this parent or carer is being removed: it is kept on the child's record.")
    child = guardianship.child
    _require_leader(user, child.nursery)
    guardian = guardianship.user
    why = f"Removed {guardian.get_full_name() or guardian.username} as {guardianship.relationship}: {reason}"
    with transaction.atomic(), acting_as(user, why):
        child = Child.objects.select_for_update().select_related("nursery").get(pk=child.pk)
        before = consent_states([child.pk])
        deleted, _ = Guardianship.objects.filter(pk=guardianship.pk).delete()
        if not deleted:
            raise ServiceError("This parent or carer was already removed.")
        drop_parent_access_if_last(guardian, child.nursery)
        return reevaluate_consent(user, child, before, why)


def set_parental_responsibility(user, *, guardianship: Guardianship, value: bool, reason: str) -> list[str]:
    """Record that a guardian has, or no longer has, parental responsibility.

    Returns the scopes whose consent stopped holding because of the change.
    """
    from consent.queries import consent_states
    from nursery.errors import ServiceError

    reason = " ".join((reason or "").split())
    if not reason:
        raise ServiceError("Say why parental responsibility changed: it is kept on the child's record.")
    child = guardianship.child
    _require_leader(user, child.nursery)
    guardian = guardianship.user
    name = guardian.get_full_name() or guardian.username
    why = f"{name} {'has' if value else 'no longer has'} parental responsibility: {reason}"
    with transaction.atomic(), acting_as(user, why):
        child = Child.objects.select_for_update().select_related("nursery").get(pk=child.pk)
        before = consent_states([child.pk])
        changed = Guardianship.objects.filter(pk=guardianship.pk).exclude(has_parental_responsibility=value)
        current = changed.select_for_update().first()
        if current is None:
            raise ServiceError("Nothing changed: parental responsibility was already recorded so.")
        current.has_parental_responsibility = value
        current.save(update_fields=["has_parental_responsibility"])
        guardianship.has_parental_responsibility = value
        return reevaluate_consent(user, child, before, why)
