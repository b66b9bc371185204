from celery import shared_task
from django.utils import timezone

from inspection import services

# A large nursery's pack takes tens of seconds: more than the project's default task limits (60 s soft).
BUILD_SOFT_LIMIT_SECONDS = 600


@shared_task(acks_late=True)
def start_inspection_pack(pack_id: int) -> None:
    """Run by the outbox (whose tasks must be short): hands the long build to its own task."""
    build_inspection_pack.apply_async((pack_id,))


@shared_task(acks_late=True, soft_time_limit=BUILD_SOFT_LIMIT_SECONDS, time_limit=BUILD_SOFT_LIMIT_SECONDS + 60)
def build_inspection_pack(pack_id: int) -> bool:
    return services.build_pack(pack_id=pack_id, now=timezone.now())


@shared_task(acks_late=True)
def sweep_inspection_packs() -> dict:
    """Every 10 minutes: packs whose build was lost (broker, dead worker) are built; expired files deleted."""
    now = timezone.now()
    waiting = services.waiting_packs(now=now)
    for pack_id in waiting:
        build_inspection_pack.apply_async((pack_id,))  # each build claims its pack: a duplicate does nothing
    return {"restarted": len(waiting), "expired": services.expire_packs(now=now)}
