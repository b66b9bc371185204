from celery import shared_task
from django.utils import timezone

from inspection import services


@shared_task(acks_late=True)
def build_inspection_pack(pack_id: int) -> bool:
    return services.build_pack(pack_id=pack_id, now=timezone.now())


@shared_task(acks_late=True)
def sweep_inspection_packs() -> dict:
    now = timezone.now()
    return {"built": services.build_waiting_packs(now=now), "expired": services.expire_packs(now=now)}
