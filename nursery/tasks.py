from celery import shared_task

from nursery import outbox
from nursery.services import email_notification, email_notifications


@shared_task
def send_notification_emails(notification_ids: list[int]) -> int:
    """Sent through the outbox (``notify``): emails each notification not emailed yet. A failure is retried by
    the outbox with backoff, and the retry sends only what is left."""
    return email_notifications(notification_ids=notification_ids)


@shared_task
def send_notification_email(notification_id: int) -> bool:
    """One notification's email. ``notify`` now writes ``send_notification_emails``; this stays for the rows
    an older version wrote."""
    return email_notification(notification_id=notification_id)


@shared_task(acks_late=True)
def run_outbox_message(message_id: int) -> bool:
    """The broker's copy of an outbox row: runs it unless it is done or another worker holds it."""
    return outbox.run(message_id)


@shared_task(acks_late=True)
def dispatch_outbox() -> int:
    """Beat, every minute: send again every outbox row still waiting whose lease ran out."""
    return outbox.dispatch()
