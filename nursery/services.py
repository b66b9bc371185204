import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from nursery import bulk, outbox
from nursery.audit import acting_as
from nursery.models import Child, Guardianship, Membership, Notification, Nursery, Role

logger = logging.getLogger(__name__)


def notify(
    users: Iterable,
    subject: str,
    template: str,
    context: dict | None = None,
    *,
    nursery: Nursery | None = None,
    url: str = "",
) -> list[int]:
    """Tell people something: an in-app notification each, and an email sent through the outbox after commit.

    ``template`` is a plain-text template rendered once per recipient with ``recipient`` in its context.
    Returns the ids of the notifications written.
    """
    recipients = {user.pk: user for user in users if user is not None}.values()
    return notify_each(Message(user, subject, template, context or {}, nursery=nursery, url=url) for user in recipients)


@dataclass(frozen=True)
class Message:
    """One person's notification, for ``notify_each``. ``body``, when given, is the text already rendered
    (a sweep that renders its template once and fills in each name); otherwise ``template`` is rendered."""

    recipient: object
    subject: str
    template: str
    context: dict = field(default_factory=dict)
    nursery: Nursery | None = None
    url: str = ""
    body: str | None = None


EMAILS_PER_TASK = 200  # notifications one outbox row emails (a sweep's 20,000 emails are 100 rows, not 20,000)
EMAIL_TIME_BUDGET = 40.0  # seconds a batch sends for before handing the rest on: inside the 60 s soft limit


def notify_each(messages: Iterable[Message]) -> list[int]:
    """Tell each person their own message, in one INSERT of notifications and one of outbox rows however
    many there are: what a sweep uses, so its number of queries does not grow with the people it tells.

    The emails go out through the outbox, one row per ``EMAILS_PER_TASK`` notifications: the row carries
    the notifications' ids and its task emails each one not emailed yet (``email_notifications``)."""
    rows = [
        (
            message.nursery.pk if message.nursery is not None else None,
            message.recipient.pk,
            message.subject[:200],
            (message.body if message.body is not None else render_to_string(
                message.template, {**message.context, "recipient": message.recipient, "url": message.url}
            )).strip(),
            message.url,
        )
        for message in messages
        if message.recipient is not None and message.recipient.is_active
    ]
    if not rows:
        return []
    from nursery.tasks import send_notification_emails

    with transaction.atomic():
        written = bulk.insert(Notification, ["nursery_id", "recipient_id", "subject", "body", "url"], rows,
                              same={"created_at": timezone.now()}, returning=["id"])
        ids = [pk for (pk,) in written]
        # The emails are outbox rows in this same transaction: a broker outage delays them, never loses them.
        outbox.enqueue_many(send_notification_emails,
                            [(ids[i:i + EMAILS_PER_TASK],) for i in range(0, len(ids), EMAILS_PER_TASK)])
    return ids


def mark_notifications_read(*, user, ids: Iterable[int] | None = None, now=None) -> int:
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=list(ids))
    return unread.update(read_at=now or timezone.now())


class EmailsNotSent(Exception):
    """Some emails of a batch failed; the others were sent. The outbox tries the batch again later, and
    the retry sends only those still not emailed."""


def email_notification(*, notification_id: int, now=None) -> bool:
    """Send the email copy of one notification once, however often the task runs."""
    return email_notifications(notification_ids=[notification_id], now=now) == 1


def email_notifications(*, notification_ids: Sequence[int], now=None, budget: float = EMAIL_TIME_BUDGET) -> int:
    """Email each of these notifications that has not been emailed, once however often this runs; return
    how many were sent.

    Each email is claimed (``emailed_at``, a conditional UPDATE) and sent inside one transaction, so a mail
    server that refuses rolls the claim back, and a second worker running the same batch skips it. One
    failure does not stop the rest: the batch raises at the end (``EmailsNotSent``) and the outbox runs it
    again after a backoff, sending only what is left. Past ``budget`` seconds the rest is handed to a new
    outbox row, so the task keeps inside its time limit however slow the mail server is."""
    from django.core import mail

    from nursery.tasks import send_notification_emails

    started = time.monotonic()
    ids = list(notification_ids)
    wanted = {
        n.pk: n for n in Notification.objects.filter(pk__in=ids, emailed_at__isnull=True)
        .select_related("recipient").only("subject", "body", "url", "recipient__email")
    }
    sent, failed = 0, []
    with mail.get_connection() as connection:  # one connection to the mail server for the whole batch
        for position, pk in enumerate(ids):
            notification = wanted.get(pk)
            if notification is None:
                continue
            if time.monotonic() - started > budget:
                with transaction.atomic():
                    outbox.enqueue(send_notification_emails, [p for p in ids[position:] if p in wanted])
                break
            try:
                sent += _email_one(notification, now=now or timezone.now(), connection=connection)
            except Exception as exc:  # noqa: BLE001 - one refused address must not stop the others
                logger.warning("Email for notification %s failed: %s", pk, exc)
                failed.append((pk, exc))
    if failed:
        raise EmailsNotSent(f"{len(failed)} of {len(ids)} emails not sent, {sent} sent; notifications "
                            f"{[pk for pk, _ in failed[:20]]}; first error: {failed[0][1]!r}")
    return sent


def _email_one(notification: Notification, *, now, connection) -> bool:
    from django.conf import settings
    from django.core.mail import EmailMessage

    with transaction.atomic():
        claimed = Notification.objects.filter(pk=notification.pk, emailed_at__isnull=True).update(emailed_at=now)
        if not claimed or not notification.recipient.email:
            return False
        link = f"\n\n{settings.SITE_URL.rstrip('/')}{notification.url}" if notification.url else ""
        # Sending inside the transaction: if the mail server refuses, the claim rolls back and a retry sends.
        EmailMessage(notification.subject, notification.body + link, None, [notification.recipient.email],
                     connection=connection).send()
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
    from consent.services import announce_withdrawal
    from nursery.permissions import users_with_role

    after = consent_states([child.pk])
    ended = [state.scope for key, state in before.items() if state.effective and not after[key].effective]
    for scope in ended:  # the withdrawal seam, written with this change and run after it commits
        announce_withdrawal(None, withdrawn_by=user, child_id=child.pk, scope=scope)
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
