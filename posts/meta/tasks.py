"""Workers for Graph API publishing: thin, take ids, safe to run twice (the delivery is claimed first).

The tasks keep the names they had before the Meta integration became one package (``posts.graph_tasks``),
so messages already queued, and beat entries already stored, still reach them.
"""

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from nursery import outbox
from posts.meta import publishing


@shared_task(name="posts.graph_tasks.deliver_to_platform", acks_late=True)
def deliver_to_platform(delivery_id: int) -> str:
    outcome = publishing.deliver(delivery_id)
    if outcome.retry_in is not None:
        # The delivery records when it is due too, so the sweep restarts it if this message is lost.
        outbox.enqueue_at(timezone.now() + timedelta(seconds=outcome.retry_in), deliver_to_platform, delivery_id)
    return outcome.state


@shared_task(acks_late=True)
def remove_from_platform(delivery_id: int) -> str:
    outcome = publishing.remove(delivery_id)
    if outcome.retry_in is not None:
        # The delivery records when it is due too, so the sweep restarts it if this message is lost.
        outbox.enqueue_at(timezone.now() + timedelta(seconds=outcome.retry_in), remove_from_platform, delivery_id)
    return outcome.state


@shared_task(name="posts.graph_tasks.restart_due_deliveries", acks_late=True)
def restart_due_deliveries() -> int:
    return publishing.sweep_due()


@shared_task(name="posts.graph_tasks.note_refused_token", acks_late=True)
def note_refused_token(connection_id: int, why: str) -> None:
    publishing.mark_reconnect_needed(connection_id, why=why)
