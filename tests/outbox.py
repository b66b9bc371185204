"""Run the outbox in tests as beat would over the coming hours."""

from datetime import timedelta

from django.utils import timezone

from nursery import outbox


def drain(max_rounds: int = 20) -> int:
    """Play the dispatcher's minutes forward until nothing is left waiting (retries due later included)."""
    later = timezone.now() + timedelta(days=1)
    total = 0
    for _ in range(max_rounds):
        sent = outbox.dispatch(now=later)
        if not sent:
            break
        total += sent
    return total
