from celery import shared_task

from consent.services import send_consent_requests as send_requests


@shared_task(acks_late=True)
def send_consent_requests(nursery_id: int | None = None) -> int:
    """Daily (and after a new wording is published): requests, reminders, renewals and expiry notices."""
    return send_requests(nursery_ids=None if nursery_id is None else [nursery_id])


@shared_task(acks_late=True)
def announce_consent_withdrawn(child_id: int, scope: str, decision_id: int | None = None,
                               withdrawn_by_id: int | None = None) -> None:
    """The withdrawal seam, through the outbox: written with the withdrawal, run after its commit."""
    from consent.services import send_withdrawal_signal

    send_withdrawal_signal(child_id=child_id, scope=scope, decision_id=decision_id, withdrawn_by_id=withdrawn_by_id)
