"""Who did what and why, for every change, whether it comes from a request, a service or a task.

Services run their writes inside ``acting_as(user, reason)``; django-simple-history then records that
user and reason on every historical row written in the block, even from a Celery task with no request.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from simple_history.models import HistoricalRecords

_actor: ContextVar = ContextVar("audit_actor", default=None)
_reason: ContextVar = ContextVar("audit_reason", default="")


@contextmanager
def acting_as(user, reason: str = "") -> Iterator[None]:
    actor_token = _actor.set(user if user is not None and user.is_authenticated else None)
    reason_token = _reason.set(reason)
    try:
        yield
    finally:
        _actor.reset(actor_token)
        _reason.reset(reason_token)


def current_actor():
    return _actor.get()


class AuditedHistory(HistoricalRecords):
    """simple-history that also knows the acting user and reason set by ``acting_as``."""

    def get_history_user(self, instance):
        if not hasattr(instance, "_history_user") and _actor.get() is not None:
            return _actor.get()
        return super().get_history_user(instance)

    def get_change_reason_for_object(self, instance, history_type, using):
        return super().get_change_reason_for_object(instance, history_type, using) or _reason.get()[:100]


def history(**kwargs) -> AuditedHistory:
    return AuditedHistory(**kwargs)
