"""Workers for Graph API publishing: thin, take ids, safe to run twice (the delivery is claimed first)."""

from celery import shared_task

from posts import graph_publishing


@shared_task(acks_late=True)
def deliver_to_platform(delivery_id: int) -> str:
    outcome = graph_publishing.deliver(delivery_id)
    if outcome.retry_in is not None:
        # The delivery records when it is due too, so the sweep restarts it if this message is lost.
        deliver_to_platform.apply_async((delivery_id,), countdown=outcome.retry_in)
    return outcome.state


@shared_task(acks_late=True)
def restart_due_deliveries() -> int:
    return graph_publishing.sweep_due()


@shared_task(acks_late=True)
def note_refused_token(connection_id: int, why: str) -> None:
    graph_publishing.mark_reconnect_needed(connection_id, why=why)
