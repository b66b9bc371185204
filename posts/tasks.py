"""Thin tasks: periodic ones (scheduled in settings.CELERY_BEAT_SCHEDULE) and the face search after an
upload (through the outbox). Each is safe to run twice."""

from celery import shared_task
from django.utils import timezone

from posts import services


@shared_task(acks_late=True)
def publish_due_posts() -> int:
    """Publish approved posts whose time has come; hold the rest and tell leadership why."""
    now = timezone.now()
    due = services.due_scheduled_posts(now=now)
    published = sum(services.publish_scheduled_post(post_id=pk, now=now) for pk in due)
    services.hold_unapproved_schedules(now=now)
    return published


@shared_task(acks_late=True)
def escalate_overdue_takedowns() -> int:
    """Open any takedown the withdrawal follow-up missed, then remind leadership of overdue ones."""
    now = timezone.now()
    services.open_missed_takedowns(now=now)
    return services.escalate_overdue_takedowns(now=now)


@shared_task(acks_late=True)
def remind_waiting_approvals() -> int:
    return services.remind_waiting_approvals()


@shared_task(acks_late=True)
def find_faces(image_id: int) -> int | None:
    return services.find_faces(image_id=image_id)
