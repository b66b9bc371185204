from collections.abc import Iterable

from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from nursery.models import Notification, Nursery


def notify(
    users: Iterable,
    subject: str,
    template: str,
    context: dict | None = None,
    *,
    nursery: Nursery | None = None,
    url: str = "",
) -> list[Notification]:
    """Tell people something: an in-app notification each, and an email sent by the worker after commit.

    ``template`` is a plain-text template rendered once per recipient with ``recipient`` in its context.
    """
    recipients = {user.pk: user for user in users if user is not None and user.is_active}.values()
    notifications = [
        Notification(
            nursery=nursery,
            recipient=user,
            subject=subject[:200],
            body=render_to_string(template, {**(context or {}), "recipient": user, "url": url}).strip(),
            url=url,
        )
        for user in recipients
    ]
    if not notifications:
        return []
    with transaction.atomic():
        created = Notification.objects.bulk_create(notifications)
        ids = [n.pk for n in created]

        def enqueue():
            from nursery.tasks import send_notification_email

            for pk in ids:
                send_notification_email.delay(pk)

        transaction.on_commit(enqueue)
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
