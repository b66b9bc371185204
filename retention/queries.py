"""What the leadership page reads: the schedule with what it will remove, holds and the last runs."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Prefetch, QuerySet

from nursery.models import Nursery
from retention.kinds import KINDS, Kind
from retention.models import LegalHold, RetentionCount, RetentionRun
from retention.services import active_holds, schedule_for

LOOK_AHEAD = timedelta(days=30)


@dataclass
class Upcoming:
    kind: Kind
    period: int
    due_now: int
    within_30_days: int


def upcoming(nursery: Nursery, now: datetime) -> list[Upcoming]:
    """Per kind: rows due at the next run, and rows due within 30 days (those included). Two counts each."""
    schedule, holds = schedule_for(nursery), active_holds(nursery)
    rows = []
    for kind in KINDS:
        if not kind.nursery_pass:
            continue
        period = kind.period(schedule)
        rows.append(Upcoming(
            kind, period,
            due_now=kind.candidates(nursery, now, period, holds).count(),
            within_30_days=kind.candidates(nursery, now + LOOK_AHEAD, period, holds).count(),
        ))
    return rows


def recent_runs(nursery: Nursery, limit: int = 10) -> list[RetentionRun]:
    """The last runs, each with what it removed in this nursery (``run.ours``)."""
    return list(
        RetentionRun.objects.prefetch_related(
            Prefetch("counts", queryset=RetentionCount.objects.filter(nursery=nursery), to_attr="ours")
        )[:limit]
    )


def holds_of(nursery: Nursery) -> QuerySet[LegalHold]:
    return LegalHold.objects.filter(nursery=nursery).select_related(
        "child", "person", "incident", "placed_by", "released_by"
    ).order_by("released_at", "-placed_at")
