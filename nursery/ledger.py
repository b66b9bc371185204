"""Records that are evidence: written once, never updated or deleted, by anyone, through any path.

The model refuses ``save()`` of an existing row and ``delete()``; its queryset refuses bulk
``update()`` and ``delete()``. The admin shows such records read-only (``ReadOnlyAdminMixin``).
"""

from django.db import models


class ImmutableRowError(Exception):
    pass


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ImmutableRowError(f"{self.model._meta.verbose_name_plural} are a record: add a new one instead.")

    def delete(self):
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
        raise ImmutableRowError(f"A {self._meta.verbose_name} is a record and is never deleted.")
