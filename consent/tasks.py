from celery import shared_task

from consent.services import send_consent_requests as send_requests


@shared_task(acks_late=True)
def send_consent_requests(nursery_id: int | None = None) -> int:
    """Daily (and after a new wording is published): requests, reminders, renewals and expiry notices."""
    return send_requests(nursery_ids=None if nursery_id is None else [nursery_id])
