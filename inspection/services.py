"""Inspection packs: requested by leadership, built by a worker, downloaded (and recorded), then expired."""

import hashlib
import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from inspection.audit import Period
from inspection.models import InspectionPack, PackDownload, PackStatus
from nursery import outbox
from nursery.audit import acting_as
from nursery.errors import ServiceError
from nursery.models import Nursery
from nursery.permissions import is_leader
from nursery.services import notify

logger = logging.getLogger(__name__)

# A worker that died mid-build lets go of the pack after this long, and the next sweep builds it again:
# longer than the build task's hard time limit (inspection.tasks), so a build still running is never doubled.
BUILD_LEASE = timedelta(minutes=15)
LONGEST_PERIOD_DAYS = 6 * 366


def link_lifetime() -> timedelta:
    return timedelta(hours=settings.INSPECTION_PACK_LINK_HOURS)


def pack_url(pack: InspectionPack) -> str:
    return reverse("inspection:pack", kwargs={"pk": pack.pk})


def request_pack(user, *, nursery: Nursery, period: Period, now: datetime | None = None) -> InspectionPack:
    """Leadership asks for a pack of ``period``; the worker builds it after commit."""
    now = now or timezone.now()
    if not is_leader(user, nursery):
        raise ServiceError("Only the leadership team can request an inspection pack.")
    if period.start > period.end:
        raise ServiceError("The period must start on or before the day it ends.")
    if (period.end - period.start).days > LONGEST_PERIOD_DAYS:
        raise ServiceError("Choose a period of at most six years.")
    if period.start > timezone.localdate(now):
        raise ServiceError("The period cannot start in the future.")
    with transaction.atomic(), acting_as(user, "Inspection pack requested"):
        pack = InspectionPack.objects.create(
            nursery=nursery, requested_by=user, requested_at=now, period_start=period.start, period_end=period.end,
        )
        from inspection.tasks import start_inspection_pack

        # An outbox row in this transaction: the build is asked for if and only if the pack row exists.
        outbox.enqueue(start_inspection_pack, pack.pk, key=f"inspection-pack-{pack.pk}")
    return pack


def _progress(pack_id: int, percent: int, step: str) -> None:
    # Its own tiny write, committed at once, so the page shows it while the build goes on.
    InspectionPack.objects.filter(pk=pack_id, status=PackStatus.BUILDING).update(progress=percent, step=step[:200])


def build_pack(*, pack_id: int, now: datetime | None = None) -> bool:
    """Build one pack. Safe twice: only a queued pack (or one whose builder died) is claimed."""
    from inspection import pack as contents

    now = now or timezone.now()
    claimed = InspectionPack.objects.filter(pk=pack_id).filter(
        Q(status=PackStatus.QUEUED) | Q(status=PackStatus.BUILDING, started_at__lt=now - BUILD_LEASE)
    ).update(status=PackStatus.BUILDING, started_at=now, progress=1, step="Starting")
    if not claimed:
        return False
    pack = InspectionPack.objects.select_related("nursery", "requested_by").get(pk=pack_id)
    period = Period(pack.period_start, pack.period_end)
    try:
        data = contents.collect(pack.nursery, period, now=now, progress=lambda p, s: _progress(pack_id, p, s))
        archive = contents.write_zip(data, requested_by=pack.requested_by,
                                     progress=lambda p, s: _progress(pack_id, p, s))
    except Exception as exc:
        logger.exception("Inspection pack %s failed", pack_id)
        with transaction.atomic(), acting_as(None, "Inspection pack failed"):
            pack.status, pack.error, pack.step = PackStatus.FAILED, f"{type(exc).__name__}: {exc}"[:2000], ""
            pack.save(update_fields=["status", "error", "step"])
        return False
    ready_at = timezone.now()
    with transaction.atomic(), acting_as(None, "Inspection pack built"):
        pack.file.save(pack.filename, ContentFile(archive), save=False)
        pack.size, pack.sha256 = len(archive), hashlib.sha256(archive).hexdigest()
        pack.status, pack.progress, pack.step = PackStatus.READY, 100, "Ready"
        pack.ready_at, pack.expires_at = ready_at, ready_at + link_lifetime()
        pack.save()
        notify([pack.requested_by], "Your inspection pack is ready", "inspection/email/pack_ready.txt",
               {"pack": pack, "nursery": pack.nursery}, nursery=pack.nursery, url=pack_url(pack))
    return True


def waiting_packs(*, now: datetime | None = None) -> list[int]:
    """Packs whose build was lost (broker down, worker killed): the sweep starts them again."""
    now = now or timezone.now()
    return list(InspectionPack.objects.filter(
        Q(status=PackStatus.QUEUED, requested_at__lt=now - timedelta(minutes=5))
        | Q(status=PackStatus.BUILDING, started_at__lt=now - BUILD_LEASE)
    ).values_list("pk", flat=True))


def record_download(user, *, pack: InspectionPack, ip_address: str | None = None, user_agent: str = "",
                    now: datetime | None = None) -> PackDownload:
    """Who downloaded which pack, when: checked and recorded before the file is sent."""
    now = now or timezone.now()
    if not is_leader(user, pack.nursery):
        raise ServiceError("Only the leadership team can download inspection packs.")
    if not pack.is_downloadable(now):
        raise ServiceError("This link has expired: request a new pack." if pack.status in (
            PackStatus.READY, PackStatus.EXPIRED) else "This pack is not ready.")
    with transaction.atomic(), acting_as(user, "Inspection pack downloaded"):
        return PackDownload.objects.create(pack=pack, user=user, downloaded_at=now, ip_address=ip_address,
                                           user_agent=(user_agent or "")[:400])


def expire_packs(*, now: datetime | None = None) -> int:
    """Delete the files of packs whose link has expired: they hold every child's personal data."""
    now = now or timezone.now()
    expired = 0
    for pack in InspectionPack.objects.filter(status=PackStatus.READY, expires_at__lte=now):
        with transaction.atomic(), acting_as(None, "Inspection pack link expired"):
            pack.file.delete(save=False)
            pack.status, pack.step = PackStatus.EXPIRED, "Expired"
            pack.save(update_fields=["file", "status", "step"])
        expired += 1
    return expired
