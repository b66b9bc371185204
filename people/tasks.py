from celery import shared_task

from people import services


@shared_task(acks_late=True)
def retire_leavers() -> int:
    """Hourly: the day's leavers are retired within an hour of midnight in London, whatever the clocks."""
    return services.retire_leavers()


@shared_task
def send_invitation(invitation_id: int) -> bool:
    """Sent through the outbox: a failure is retried with backoff; a second delivery sends nothing."""
    return services.send_invitation_email(invitation_id=invitation_id)
