"""Thin Celery tasks: they take ids, call services and are safe to run twice."""

from celery import shared_task

from moderation import platform, services


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=8)
def process_webhook_delivery(delivery_id: int) -> int:
    return services.process_delivery(delivery_id=delivery_id)


@shared_task(acks_late=True)
def perform_platform_action(item_id: int, attempt: int = 1) -> None:
    retry_in = platform.perform_platform_action(item_id, attempt=attempt)
    if retry_in is not None:
        perform_platform_action.apply_async((item_id, attempt + 1), countdown=retry_in)


@shared_task(acks_late=True)
def escalate_overdue_items() -> int:
    return services.escalate_overdue()
