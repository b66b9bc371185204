"""Thin Celery tasks: they take ids, call services and are safe to run twice."""

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from moderation import platform, services
from nursery import outbox


@shared_task(acks_late=True)
def drain_webhook_deliveries() -> int:
    return services.drain_deliveries()


@shared_task(acks_late=True)
def process_webhook_delivery(delivery_id: int) -> int:
    # Deliveries are drained in batches now; outbox rows written before that still name this task.
    return services.process_delivery(delivery_id=delivery_id)


@shared_task(acks_late=True)
def perform_platform_action(item_id: int, attempt: int = 1) -> None:
    retry_in = platform.perform_platform_action(item_id, attempt=attempt)
    if retry_in is not None:
        outbox.enqueue_at(timezone.now() + timedelta(seconds=retry_in), perform_platform_action, item_id, attempt + 1)


@shared_task(acks_late=True)
def escalate_overdue_items() -> int:
    return services.escalate_overdue()
