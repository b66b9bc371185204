from celery import shared_task

from people import services


@shared_task(acks_late=True)
def retire_leavers() -> int:
    """Hourly: the day's leavers are retired within an hour of midnight in London, whatever the clocks."""
    return services.retire_leavers()
