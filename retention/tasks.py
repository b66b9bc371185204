from celery import shared_task
from django.conf import settings

from retention.services import run_retention


# The time budget stops the sweep between batches; the limits only catch a batch that hangs.
@shared_task(acks_late=True, soft_time_limit=settings.RETENTION_TIME_BUDGET_SECONDS + 120,
             time_limit=settings.RETENTION_TIME_BUDGET_SECONDS + 180)
def run_retention_task() -> int:
    return run_retention().pk


@shared_task(acks_late=True)
def build_subject_access_export_task(request_id: int) -> int:
    from retention.services import build_subject_access_export

    return build_subject_access_export(request_id=request_id).pk
