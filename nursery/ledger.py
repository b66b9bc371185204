"""Records that are evidence: written once, never updated or deleted, by anyone, through any path.

The model refuses ``save()`` of an existing row and ``delete()``; its queryset refuses bulk
``update()`` and ``delete()``; and a ``pre_delete`` receiver on every such model refuses the rows that
Django's collector would remove by cascade (deleting a post would otherwise take its events with it).
The admin shows such records read-only (``ReadOnlyAdminMixin``).

The one exception is retention (UK GDPR storage limitation): rows past the nursery's retention period
are removed by ``retention.services``, and only there, inside ``retention_removal(...)``. A test
(tests/retention/test_ledger_exception.py) fails if any other module calls it.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import models
from django.db.models.signals import pre_delete

_removal_reason: ContextVar[str] = ContextVar("ledger_removal_reason", default="")


class ImmutableRowError(Exception):
    pass


@contextmanager
def retention_removal(reason: str) -> Iterator[None]:
    """Allow the deletion of records inside this block: for ``retention.services`` alone."""
    if not reason:
        raise ValueError("Say why the records are removed.")
    token = _removal_reason.set(reason)
    try:
        yield
    finally:
        _removal_reason.reset(token)


def removal_permitted() -> bool:
    return bool(_removal_reason.get())


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ImmutableRowError(f"{self.model._meta.verbose_name_plural} are a record: add a new one instead.")

    def delete(self):
        if removal_permitted():
            return super().delete()
        raise ImmutableRowError(f"{self.model._meta.verbose_name_plural} are a record and are never deleted.")


class AppendOnlyModel(models.Model):
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ImmutableRowError(f"A {self._meta.verbose_name} is a record: add a new one instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if removal_permitted():
            return super().delete(*args, **kwargs)
        raise ImmutableRowError(f"A {self._meta.verbose_name} is a record and is never deleted.")


def _refuse_cascade(sender, instance, **kwargs):
    if not removal_permitted():
        raise ImmutableRowError(f"A {sender._meta.verbose_name} is a record and is never deleted.")


def guard_cascades() -> None:
    """Connect the refusal to every append-only model (called once from ``NurseryConfig.ready``).

    Connected per model, not globally: a receiver for every sender would stop Django's fast deletes
    everywhere else too.
    """
    from django.apps import apps

    for model in apps.get_models():
        if issubclass(model, AppendOnlyModel):
            pre_delete.connect(_refuse_cascade, sender=model, weak=False,
                               dispatch_uid=f"ledger-refuse-cascade-{model._meta.label_lower}")
