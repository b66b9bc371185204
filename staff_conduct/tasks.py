from celery import shared_task
from django.utils import timezone

from staff_conduct import services


@shared_task(acks_late=True)
def chase_acknowledgements_task(nursery_id: int | None = None) -> dict:
    return services.chase_acknowledgements(now=timezone.now(), nursery_id=nursery_id)


@shared_task(acks_late=True)
def escalate_incidents_task() -> int:
    return services.escalate_incidents(now=timezone.now())
