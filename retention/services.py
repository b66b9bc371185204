"""Retention: the one path that removes personal data past its period, ledger rows included.

``run_retention`` sweeps every kind (``retention.kinds``) for every nursery, in batches. Each batch is
one transaction: lock the rows, delete them (and their history rows, which copy their content), delete
their files, add to the run's counts. Files are deleted inside the transaction, after the rows: if the
process dies before the commit, the rows are still there and still due, so the next run deletes them
again (deleting a missing file is a no-op); a file is never left behind by a row that is gone.
"""

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from nursery import outbox
from nursery.audit import acting_as
from nursery.ledger import retention_removal
from nursery.models import Nursery, Role
from nursery.permissions import require_role
from retention.kinds import KINDS, Holds, Kind
from retention.models import (
    ErasureRequest,
    LegalHold,
    RetentionCount,
    RetentionRun,
    RetentionSchedule,
    SubjectAccessRequest,
)

log = logging.getLogger(__name__)

REMOVAL_REASON = "Past its retention period"


def schedule_for(nursery: Nursery | None) -> RetentionSchedule:
    """The nursery's schedule, or the defaults (unsaved) for a nursery without one or for no nursery."""
    if nursery is not None:
        found = RetentionSchedule.objects.filter(nursery=nursery).first()
        if found is not None:
            return found
    return RetentionSchedule(nursery=nursery)


def active_holds(nursery: Nursery | None) -> Holds:
    """What active legal holds protect: in one nursery, or (for records of no nursery) in any."""
    holds = LegalHold.objects.filter(released_at__isnull=True)
    if nursery is not None:
        holds = holds.filter(nursery=nursery)
    rows = list(holds.values_list("child_id", "person_id", "incident_id"))
    return Holds(
        children=frozenset(c for c, _, _ in rows if c),
        people=frozenset(p for _, p, _ in rows if p),
        incidents=frozenset(i for _, _, i in rows if i),
    )


# --- legal holds -----------------------------------------------------------------------------------


def place_legal_hold(user, *, nursery: Nursery, reason: str, child=None, person=None, incident=None,
                     now: datetime | None = None) -> LegalHold:
    require_role(user, nursery, Role.LEADERSHIP)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why deletion must wait."})
    if sum(x is not None for x in (child, person, incident)) != 1:
        raise ValidationError("A legal hold is on one child, one person or one incident.")
    if (child and child.nursery_id != nursery.pk) or (incident and incident.nursery_id != nursery.pk) or (
        person and not person.memberships.filter(nursery=nursery).exists()
    ):
        raise ValidationError("That is not part of this nursery.")
    with transaction.atomic(), acting_as(user, "Placed a legal hold"):
        return LegalHold.objects.create(
            nursery=nursery, child=child, person=person, incident=incident, reason=reason,
            placed_by=user, placed_at=now or timezone.now(),
        )


def release_legal_hold(user, *, hold: LegalHold, reason: str, now: datetime | None = None) -> LegalHold:
    require_role(user, hold.nursery, Role.LEADERSHIP)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"release_reason": "Say why the hold is no longer needed."})
    with transaction.atomic(), acting_as(user, "Released a legal hold"):
        hold = LegalHold.objects.select_for_update().get(pk=hold.pk)
        if not hold.is_active:
            raise ValidationError("This hold was already released.")
        hold.released_at = now or timezone.now()
        hold.released_by = user
        hold.release_reason = reason
        hold.save()
    return hold


# --- the sweep -------------------------------------------------------------------------------------


def run_retention(
    *, now: datetime | None = None, batch_size: int | None = None, time_budget: float | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> RetentionRun:
    """Remove everything past its period, in batches, within a time budget; log kinds and counts.

    Idempotent: what is due is worked out afresh for each batch, so a rerun finds nothing left, and a
    run stopped halfway (time budget, a killed worker) leaves only whole batches done.
    """
    now = now or timezone.now()
    batch_size = batch_size or settings.RETENTION_BATCH_SIZE
    budget = settings.RETENTION_TIME_BUDGET_SECONDS if time_budget is None else time_budget
    started = clock()
    run = RetentionRun.objects.create(started_at=now)
    status = RetentionRun.Status.COMPLETED
    passes: list[Nursery | None] = [None, *Nursery.objects.order_by("pk")]
    for nursery in passes:
        schedule, holds = schedule_for(nursery), active_holds(nursery)
        for kind in KINDS:
            if not (kind.deployment_pass if nursery is None else kind.nursery_pass):
                continue
            if not _sweep(run, kind, nursery, schedule, holds, now=now, batch_size=batch_size,
                          out_of_time=lambda: clock() - started > budget):
                status = RetentionRun.Status.PAUSED
                break
        if status == RetentionRun.Status.PAUSED:
            break
    elapsed = timedelta(seconds=clock() - started)
    RetentionRun.objects.filter(pk=run.pk).update(status=status, finished_at=now + elapsed)
    run.refresh_from_db()
    log.info("Retention run %s: %s, %s rows removed", run.pk, status, run.total)
    return run


def _sweep(run, kind: Kind, nursery, schedule, holds, *, now, batch_size, out_of_time) -> bool:
    """Remove one kind's due rows of one nursery, batch by batch. False when the time budget ran out."""
    period = kind.period(schedule)
    while True:
        if out_of_time():
            return False
        with transaction.atomic():
            due = kind.candidates(nursery, now, period, holds).order_by("pk").values_list("pk", flat=True)
            pks = list(due[:batch_size])
            if not pks:
                return True
            locked = kind.model._default_manager.filter(pk__in=pks).order_by("pk")
            if connection.features.has_select_for_update_skip_locked:
                # A second run at the same moment takes other rows, never the same ones twice.
                locked = locked.select_for_update(skip_locked=True)
            rows = list(locked)
            if not rows:
                return True
            files = _remove(kind, rows)
            _count(run, nursery, kind, len(rows), files)


def _files(rows, fields) -> list:
    return [(getattr(row, name).storage, getattr(row, name).name) for row in rows for name in fields
            if getattr(row, name)]


def _remove(kind: Kind, rows: list) -> int:
    """Delete the rows (and their parts), the history rows that copy them, then their files.

    Returns how many files were removed.
    """
    pks = [row.pk for row in rows]
    stored = _files(rows, kind.file_fields)
    if kind.clears:
        kind.model._default_manager.filter(pk__in=pks).update(**dict(kind.clears))
        for storage, name in stored:
            storage.delete(name)
        return len(stored)
    with acting_as(None, REMOVAL_REASON), retention_removal(f"{REMOVAL_REASON}: {kind.name}"):
        for part in kind.parts:
            part_rows = part.model._default_manager.filter(**{f"{part.lookup}__in": pks})
            stored += _files(part_rows, part.file_fields)
            part_rows.delete()
        kind.model._default_manager.filter(pk__in=pks).delete()
        # History rows copy the content (the deletion itself has just written one more of each).
        for model, lookup in kind.histories:
            model.history.model._default_manager.filter(**{f"{lookup}__in": pks}).delete()
    for storage, name in stored:
        storage.delete(name)
    return len(stored)


def _count(run: RetentionRun, nursery, kind: Kind, count: int, files: int) -> None:
    row, _ = RetentionCount.objects.get_or_create(run=run, nursery=nursery, kind=kind.name)
    RetentionCount.objects.filter(pk=row.pk).update(count=F("count") + count, files=F("files") + files)
    RetentionRun.objects.filter(pk=run.pk).update(total=F("total") + count)


# --- the schedule ----------------------------------------------------------------------------------


def update_schedule(user, *, nursery: Nursery, values: dict) -> RetentionSchedule:
    """Change the nursery's periods, each within its limits (the model's validators)."""
    require_role(user, nursery, Role.LEADERSHIP)
    with transaction.atomic(), acting_as(user, "Changed the retention schedule"):
        schedule = RetentionSchedule.objects.select_for_update().filter(nursery=nursery).first() or RetentionSchedule(
            nursery=nursery
        )
        for name, value in values.items():
            setattr(schedule, name, value)
        schedule.full_clean()
        schedule.save()
    return schedule


# --- subject access --------------------------------------------------------------------------------


def request_subject_access(user, *, nursery: Nursery, subject, received_on, notes: str = "",
                           now: datetime | None = None) -> SubjectAccessRequest:
    """Record a person's request and have the worker build their ZIP (through the outbox)."""
    require_role(user, nursery, Role.LEADERSHIP)
    if not subject.memberships.filter(nursery=nursery).exists():
        raise ValidationError("That person is not part of this nursery.")
    with transaction.atomic(), acting_as(user, "Recorded a subject access request"):
        sar = SubjectAccessRequest.objects.create(
            nursery=nursery, subject=subject, received_on=received_on, notes=notes.strip(),
            requested_by=user, requested_at=now or timezone.now(),
        )
        _enqueue_build(sar.pk)
    return sar


def retry_subject_access(user, *, sar: SubjectAccessRequest) -> SubjectAccessRequest:
    require_role(user, sar.nursery, Role.LEADERSHIP)
    with transaction.atomic(), acting_as(user, "Asked to build the subject access export again"):
        if not SubjectAccessRequest.objects.filter(pk=sar.pk, status=SubjectAccessRequest.Status.FAILED).update(
            status=SubjectAccessRequest.Status.QUEUED, error=""
        ):
            raise ValidationError("Only a failed export can be built again.")
        _enqueue_build(sar.pk)
    sar.refresh_from_db()
    return sar


def _enqueue_build(pk: int) -> None:
    # An outbox row in the caller's transaction: a broker outage delays the build, never loses it.
    from retention.tasks import build_subject_access_export_task

    outbox.enqueue(build_subject_access_export_task, pk)


def build_subject_access_export(*, request_id: int, now: datetime | None = None) -> SubjectAccessRequest:
    """Build the ZIP once, however often the task runs; a failure is recorded and the requester told.

    The row stays locked while the ZIP is built, so a second delivery of the task waits, then finds it
    ready and does nothing.
    """
    from nursery.services import notify
    from retention.subject_access import build_zip

    now = now or timezone.now()
    Status = SubjectAccessRequest.Status
    with transaction.atomic():
        sar = SubjectAccessRequest.objects.select_for_update().select_related("nursery", "subject").get(pk=request_id)
        if sar.status not in (Status.QUEUED, Status.BUILDING):
            return sar
        try:
            upload = build_zip(nursery=sar.nursery, subject=sar.subject, received_on=sar.received_on, built_at=now)
        except Exception as exc:  # noqa: BLE001 - recorded on the request and shown to leadership
            log.exception("Subject access export %s failed", sar.pk)
            sar.status, sar.error = Status.FAILED, f"{exc.__class__.__name__}: {exc}"[:1000]
        else:
            sar.file.save("export.zip", upload, save=False)
            sar.size, sar.sha256 = sar.file.size, upload.sha256
            sar.status, sar.built_at = Status.READY, now
        with acting_as(None, "Built the subject access export" if sar.status == Status.READY else "Export failed"):
            sar.save()
        failed = sar.status == Status.FAILED
        notify([sar.requested_by], f"Subject access export #{sar.pk} {'failed' if failed else 'ready'}",
               "retention/email/export_ready.txt",
               {"request": sar, "failed": failed, "days": schedule_for(sar.nursery).access_exports_days,
                "subject_name": sar.subject.get_full_name() or sar.subject.username},
               nursery=sar.nursery, url=reverse("retention:access"))
    return sar


def record_download(user, *, sar: SubjectAccessRequest, now: datetime | None = None) -> None:
    require_role(user, sar.nursery, Role.LEADERSHIP)
    with transaction.atomic(), acting_as(user, "Downloaded the subject access export"):
        sar = SubjectAccessRequest.objects.select_for_update().get(pk=sar.pk)
        sar.downloads += 1
        sar.last_downloaded_at, sar.last_downloaded_by = now or timezone.now(), user
        sar.save()


# --- erasure ---------------------------------------------------------------------------------------


def record_erasure_request(user, *, nursery: Nursery, subject, received_on, notes: str = "",
                           now: datetime | None = None) -> ErasureRequest:
    require_role(user, nursery, Role.LEADERSHIP)
    if not (subject.memberships.filter(nursery=nursery).exists()
            or subject.guardianships.filter(child__nursery=nursery).exists()):
        raise ValidationError("That person is not part of this nursery.")
    with transaction.atomic(), acting_as(user, "Recorded an erasure request"):
        return ErasureRequest.objects.create(
            nursery=nursery, subject=subject, received_on=received_on, notes=notes.strip(), requested_by=user,
            requested_at=now or timezone.now(),
        )


def carry_out_erasure(user, *, erasure: ErasureRequest, now: datetime | None = None) -> ErasureRequest:
    """Erase and anonymise what the assessment says may go now, keep the rest, and record every line."""
    from retention.erasure import ANONYMISE, ERASE, assess

    require_role(user, erasure.nursery, Role.LEADERSHIP)
    now = now or timezone.now()
    why = f"Erasure request #{erasure.pk}"
    with transaction.atomic(), acting_as(user, why), retention_removal(why):
        erasure = ErasureRequest.objects.select_for_update().select_related("nursery", "subject").get(pk=erasure.pk)
        if erasure.status == ErasureRequest.Status.CARRIED_OUT:
            raise ValidationError("This erasure request was already carried out.")
        lines = assess(erasure.nursery, erasure.subject, now)
        for line in lines:
            if line.action == ERASE:
                _erase(user, line, why)
            elif line.action == ANONYMISE:
                _anonymise(erasure.subject)
        erasure.outcome = [line.as_record() for line in lines]
        erasure.status, erasure.carried_out_at, erasure.carried_out_by = (
            ErasureRequest.Status.CARRIED_OUT, now, user,
        )
        erasure.save()
    return erasure


def _erase(user, line, why: str) -> None:
    from nursery.services import remove_guardian

    rows = line.rows
    model = rows.model
    if model is SubjectAccessRequest:
        stored = _files(list(rows), ("file",))
        rows.update(file="", status=SubjectAccessRequest.Status.EXPIRED)
        for storage, name in stored:
            storage.delete(name)
    elif line.key == "guardianships_left":
        # Through the service that owns guardianships: it also ends parent access with no child left.
        for guardianship in list(rows.select_related("child", "user")):
            remove_guardian(user, guardianship=guardianship, reason=why)
    else:
        pks = list(rows.values_list("pk", flat=True))
        model._default_manager.filter(pk__in=pks).delete()
        history = getattr(model, "history", None)
        if history is not None and line.key != "parent_role":  # a role's history is the audit of access
            history.model._default_manager.filter(id__in=pks).delete()


def _anonymise(subject) -> None:
    subject.username = f"erased-{subject.pk}"
    subject.first_name = subject.last_name = subject.email = ""
    subject.is_active = False
    subject.set_unusable_password()
    subject.save()
