"""People, rooms and children, managed by leadership in the app: every change is one function here."""

from datetime import date, datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from nursery.audit import acting_as
from nursery.errors import ServiceError
from nursery.models import Child, Nursery
from nursery.permissions import is_leader
from nursery.services import drop_parent_access_if_last
from nursery.signals import child_left


def require_leader(user, nursery: Nursery, what: str = "do this") -> None:
    # The superuser is the auditing administrator: the admin routes its changes through these services.
    if not (getattr(user, "is_superuser", False) or is_leader(user, nursery)):
        raise ServiceError(f"Only the leadership team can {what}.")


def _reason(reason: str, what: str) -> str:
    reason = " ".join((reason or "").split())
    if not reason:
        raise ServiceError(f"Say why you {what}: it is kept on the record.")
    return reason


# --- Leavers ------------------------------------------------------------------------------------------


def mark_child_leaving(
    user, *, child: Child, left_on: date | None, reason: str, now: datetime | None = None,
) -> Child:
    """Set (or, before it comes, cancel) the day a child leaves: from that day they are off roll.

    On a date today or in the past the follow-up runs at once; a future date is picked up by the hourly
    ``retire_leavers`` on the day.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    require_leader(user, child.nursery, "mark a child as leaving")
    reason = _reason(reason, "are changing the leaving date")
    with transaction.atomic():
        child = Child.objects.select_for_update().select_related("nursery").get(pk=child.pk)
        if child.left_on is not None and child.left_on <= today and child.left_processed_on is not None:
            raise ServiceError(f"{child.full_name} has already left; add them again if they come back.")
        if left_on is not None and left_on < child.joined_on:
            raise ServiceError(f"The leaving date cannot be before {child.first_name} joined "
                               f"({child.joined_on:%-d %B %Y}).")
        if left_on == child.left_on:
            raise ServiceError("Nothing changed: that is already the leaving date.")
        words = f"leaves on {left_on:%-d %B %Y}" if left_on else "is no longer leaving"
        with acting_as(user, f"{child.full_name} {words}: {reason}"):
            child.left_on, child.left_processed_on = left_on, None
            child.save(update_fields=["left_on", "left_processed_on"])
            if left_on is not None and left_on <= today:
                _retire(child, now)
    return child


def retire_leaver(child_id: int, *, now: datetime | None = None) -> bool:
    """The follow-up of a leaving date that has come, once: consent has ended (``consent.queries`` counts
    only children on roll), parents with no other child on roll lose access, and after commit posts
    picturing the child stop and published ones get takedowns. Returns whether it ran."""
    now = now or timezone.now()
    with transaction.atomic(), acting_as(None, "Left the nursery"):
        child = Child.objects.select_for_update().select_related("nursery").filter(pk=child_id).first()
        if child is None:
            return False
        return _retire(child, now)


def _retire(child: Child, now: datetime) -> bool:
    today = timezone.localdate(now)
    if child.left_on is None or child.left_on > today or child.left_processed_on == child.left_on:
        return False
    child.left_processed_on = child.left_on
    child.save(update_fields=["left_processed_on"])
    for guardianship in child.guardianships.select_related("user"):
        drop_parent_access_if_last(guardianship.user, child.nursery, on=today)
    transaction.on_commit(
        lambda: child_left.send(sender=Child, child_id=child.pk, left_on=child.left_on, now=now)
    )
    return True


def retire_leavers(*, now: datetime | None = None) -> int:
    """Every child whose leaving date has come and whose follow-up has not run: safe to run any time."""
    now = now or timezone.now()
    due = (
        Child.objects.filter(left_on__lte=timezone.localdate(now))
        .exclude(left_processed_on=F("left_on"))
        .values_list("pk", flat=True)
    )
    return sum(retire_leaver(pk, now=now) for pk in list(due))
