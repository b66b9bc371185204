"""The transactional outbox: every side effect is a row written in the transaction that causes it.

    from nursery import outbox
    outbox.enqueue(send_notification_email, notification.pk)           # inside the service's atomic block

``enqueue`` stores the task call as an ``OutboxMessage`` in the caller's transaction, so the call exists if
and only if the change that caused it committed. After commit it tries to hand the row to the broker at once
(the fast path); a broker error is logged and swallowed, never raised into a request, a service or a sweep.
``dispatch_outbox`` (beat, every minute) sends again every row still waiting whose lease ran out, so a broker
outage or a killed worker delays work and never loses it.

The broker carries only the row's id. The worker's ``run_outbox_message`` claims the row with a conditional
UPDATE (a lease), runs the task in-process and marks the row done; the row's state, not the broker, decides,
so a message delivered twice runs once. A failure is counted and retried with backoff; after
``OUTBOX_MAX_ATTEMPTS`` the row is ``dead`` and shows in the admin with its last error. Delivery is at least
once (a worker killed after the side effect but before marking the row done runs it again when its lease
runs out), so every task behind the outbox stays idempotent too. docs/outbox.md has the design.
"""

import logging
import time
import traceback
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Max, Min, Q
from django.utils import timezone

from nursery.models import OutboxMessage

logger = logging.getLogger(__name__)

State = OutboxMessage.State

# The fast path gives up quickly: a request must not hang on a broker that is down; the dispatcher retries.
PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}


HERE_GRACE = timedelta(minutes=1)  # how long a row run ``here`` is left to the process that wrote it


def lease() -> timedelta:
    return timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)


def backoff(attempts: int) -> timedelta:
    """Wait before the next try after ``attempts`` failures: 1, 2, 4 ... minutes, at most an hour."""
    return timedelta(seconds=min(60 * 2 ** max(attempts - 1, 0), 3600))


def enqueue(task, *args, key: str | None = None, here: bool = False, **kwargs) -> OutboxMessage:
    """Record ``task(*args, **kwargs)`` in the current transaction; it runs once the transaction commits.

    ``key`` makes the call idempotent: if a message with that key was ever written, nothing new is written
    and that message is returned. Arguments must be JSON (ids, strings, numbers), as for any Celery task.

    ``here=True`` runs the row in this process straight after commit instead of handing it to the broker
    (for a follow-up the person acting expects at once, such as a withdrawal stopping posts); if this process
    dies first, the row is still due and the dispatcher hands it to a worker.
    """
    return _write(task, args, kwargs, key=key, due_at=None, here=here)


def enqueue_at(due_at: datetime, task, *args, key: str | None = None, **kwargs) -> OutboxMessage:
    """Like ``enqueue`` but not before ``due_at`` (a retry later): the dispatcher sends it when it is due."""
    return _write(task, args, kwargs, key=key, due_at=due_at)


def enqueue_many(task, calls: Iterable[Sequence], *, now: datetime | None = None) -> list[OutboxMessage]:
    """Record ``task(*call)`` for each call in one INSERT: for sweeps that decide thousands at once.

    A few are handed to the broker after commit; a large batch is left to one run of the dispatcher, which
    publishes in batches, so the transaction's after-commit work stays short."""
    now = now or timezone.now()
    calls = list(calls)
    fast = len(calls) <= settings.OUTBOX_FAST_PATH_MAX
    rows = [
        OutboxMessage(task_name=task.name, args=list(call), kwargs={}, created_at=now, due_at=now,
                      sent_at=now if fast else None)
        for call in calls
    ]
    if not rows:
        return []
    created = OutboxMessage.objects.bulk_create(rows, batch_size=1000)
    if fast:
        ids = [(row.pk, task.name) for row in created]
        transaction.on_commit(lambda: send_now(ids), robust=True)
    else:
        transaction.on_commit(_wake_the_dispatcher, robust=True)
    return created


def _write(task, args, kwargs, *, key: str | None, due_at: datetime | None, here: bool = False) -> OutboxMessage:
    now = timezone.now()
    at_once = due_at is None or due_at <= now
    message = OutboxMessage(
        task_name=task.name, args=list(args), kwargs=kwargs, key=key, created_at=now, due_at=due_at or now,
        # Sent after commit by the fast path, so the dispatcher leaves it alone for a lease; a later due time
        # is left to the dispatcher alone.
        sent_at=now if at_once else None,
    )
    if at_once and here:
        # Run by this process after commit, never queued: the dispatcher takes it only if that has not
        # happened a minute later (the process died), and then at once rather than a lease later.
        message.due_at, message.sent_at = now + HERE_GRACE, None
    if key is None:
        message.save(force_insert=True)
    else:
        try:
            with transaction.atomic():  # a savepoint: a duplicate key must not break the caller's transaction
                message.save(force_insert=True)
        except IntegrityError:
            return OutboxMessage.objects.get(key=key)
    if at_once:
        pk = message.pk
        transaction.on_commit((lambda: run(pk)) if here else (lambda: send_now([(pk, task.name)])), robust=True)
    return message


def send_now(messages: Sequence[tuple[int, str]]) -> int:
    """Hand these rows (id, task name) to the broker; on the first broker error leave the rest due for the
    dispatcher. A task that declares its own time limits runs under them (see ``limits``).

    Never raises: this runs after commit, in a request or a task whose own work is already saved."""
    from nursery.tasks import run_outbox_message

    for sent, (pk, task_name) in enumerate(messages):
        try:
            run_outbox_message.apply_async((pk,), retry_policy=PUBLISH_RETRY_POLICY, **limits(task_name))
        except Exception:  # noqa: BLE001 - kombu OperationalError, redis/socket errors: any of them means "later"
            logger.warning("Broker unavailable: %d outbox message(s) left for the dispatcher", len(messages) - sent,
                           exc_info=True)
            _not_sent([pk for pk, _ in messages[sent:]])
            return sent
    return len(messages)


def limits(task_name: str) -> dict:
    """The time limits a task declared itself (``@shared_task(time_limit=...)``) where they differ from the
    project's, for the ``run_outbox_message`` that carries it: without them it would run under the project's
    defaults (``CELERY_TASK_SOFT_TIME_LIMIT`` 60 s, ``CELERY_TASK_TIME_LIMIT`` 90 s) whatever it declared."""
    from nursery.celery import app

    task = app.tasks.get(task_name)
    defaults = {"time_limit": app.conf.task_time_limit, "soft_time_limit": app.conf.task_soft_time_limit}
    declared = {name: getattr(task, name, None) for name in defaults}
    return {name: value for name, value in declared.items() if value and value != defaults[name]}


def lease_for(task_name: str) -> timedelta:
    """A worker's lease on a row: ``OUTBOX_LEASE_SECONDS``, or longer for a task whose own time limit is longer,
    so the dispatcher never starts a second copy of a task that is still within its limits."""
    hard = limits(task_name).get("time_limit")
    return max(lease(), timedelta(seconds=hard + 60)) if hard else lease()


def send_best_effort(task, *args, **kwargs) -> bool:
    """Publish a task now, outside any transaction's fate, and never raise: for the rare call that must
    survive its caller's rollback and that repeats itself if lost. Everything else uses ``enqueue``."""
    try:
        task.apply_async(args, kwargs, retry_policy=PUBLISH_RETRY_POLICY)
    except Exception:  # noqa: BLE001 - best effort by definition
        logger.warning("Broker unavailable: %s not sent", task.name, exc_info=True)
        return False
    return True


def _wake_the_dispatcher() -> None:
    """A sweep's thousands of rows are published by one dispatcher run rather than after its commit."""
    from nursery.tasks import dispatch_outbox

    send_best_effort(dispatch_outbox)  # if the broker is down, beat runs the dispatcher within a minute anyway


def _not_sent(ids: Sequence[int]) -> None:
    try:
        OutboxMessage.objects.filter(pk__in=list(ids), state=State.PENDING).update(sent_at=None)
    except Exception:  # noqa: BLE001 - the rows are sent again anyway once their lease runs out
        logger.warning("Could not mark %d outbox message(s) as not sent", len(ids), exc_info=True)


def _waiting(now: datetime, *, requeue_before: datetime | None = None):
    """Rows to send: due, not handed to the broker within a lease, not running under a worker's lease.

    ``requeue_before``: a row handed to the broker that no worker has started yet is sent again only if it
    was handed over before this moment (``_requeue_before`` decides it); rows never handed over, or whose
    worker's lease ran out, are sent whatever it is."""
    handed_over_long_ago = Q(sent_at__lte=now - lease())
    if requeue_before is not None:
        handed_over_long_ago &= Q(locked_until__isnull=False) | Q(sent_at__lt=requeue_before)
    return OutboxMessage.objects.filter(state=State.PENDING, due_at__lte=now).filter(
        Q(sent_at__isnull=True) | handed_over_long_ago,
        Q(locked_until__isnull=True) | Q(locked_until__lte=now),
    )


def _requeue_before(now: datetime) -> datetime | None:
    """Whether a row handed to the broker a lease ago and not started yet is lost or only waiting in a long
    queue. The broker's queue is first in, first out: once a worker has finished a message handed over
    after the row's, the row's copy was lost (a broker restart, a worker killed holding it), so rows handed
    over before the newest finished one are sent again. While the queue still holds messages and the workers
    have not got that far, the rest waits its turn: sending it again would only queue it twice. An empty
    queue (or a broker that cannot say) means nothing is waiting in it: everything a lease old is sent again.
    Returns None for "no restriction"."""
    unstarted = OutboxMessage.objects.filter(
        state=State.PENDING, due_at__lte=now, locked_until__isnull=True, sent_at__lte=now - lease())
    if not unstarted.exists() or not queued_messages():
        return None
    newest_finished = OutboxMessage.objects.filter(
        state=State.DONE, created_at__gte=now - timedelta(days=1)).aggregate(newest=Max("sent_at"))["newest"]
    return newest_finished or (now - timedelta(days=3650))


def queued_messages() -> int:
    """How many messages wait in the broker's queue for a worker (0 when the broker cannot say)."""
    from nursery.celery import app

    if app.conf.task_always_eager:
        return 0  # tasks run where they are published: nothing ever waits in a queue
    try:
        with app.connection_for_write() as connection:
            _, count, _ = connection.default_channel.queue_declare(
                queue=app.conf.task_default_queue, passive=True)
        return count
    except Exception:  # noqa: BLE001 - no such queue yet, or no broker: then nothing is known to be waiting
        return 0


def dispatch(*, now: datetime | None = None, batch_size: int | None = None, time_budget: float = 30.0) -> int:
    """Send every waiting row that is due, in bounded batches; return how many were handed to the broker.

    Each batch is claimed with SELECT ... FOR UPDATE SKIP LOCKED (PostgreSQL), so two dispatchers never send
    the same rows at once, and stamped ``sent_at`` before it is published. Stops at a broker error, when
    nothing is left, or after ``time_budget`` seconds (the next run goes on). A row handed over a lease ago
    that no worker has started is sent again only if its copy was lost, not while a long queue is still
    draining (``_requeue_before``)."""
    batch_size = batch_size or settings.OUTBOX_BATCH_SIZE
    started = time.monotonic()
    given_now = now
    _bury_the_hopeless(now=given_now or timezone.now())
    requeue_before = _requeue_before(given_now or timezone.now())
    sent = 0
    while True:
        now = given_now or timezone.now()
        with transaction.atomic():
            rows = list(
                _waiting(now, requeue_before=requeue_before).select_for_update(skip_locked=True)
                .order_by("due_at", "pk").values_list("pk", "task_name")[:batch_size]
            )
            ids = [pk for pk, _ in rows]
            OutboxMessage.objects.filter(pk__in=ids).update(sent_at=now)
        published = send_now(rows)
        sent += published
        if published < len(ids) or len(ids) < batch_size or time.monotonic() - started > time_budget:
            break
    _purge_done(now=given_now or timezone.now())
    return sent


def _bury_the_hopeless(*, now: datetime) -> None:
    """A row claimed ``OUTBOX_MAX_ATTEMPTS`` times and never finished (its worker keeps dying) goes dead."""
    hopeless = _waiting(now).filter(attempts__gte=settings.OUTBOX_MAX_ATTEMPTS)
    count = hopeless.update(state=State.DEAD, locked_until=None,
                            last_error="Started too many times without finishing (the worker was lost each time).")
    if count:
        logger.error("%d outbox message(s) are dead after %d attempts", count, settings.OUTBOX_MAX_ATTEMPTS)


def _purge_done(*, now: datetime) -> None:
    """Done rows are kept ``OUTBOX_KEEP_DAYS`` for the admin's audit view, then deleted a batch at a time."""
    cutoff = now - timedelta(days=settings.OUTBOX_KEEP_DAYS)
    old = list(
        OutboxMessage.objects.filter(state=State.DONE, done_at__lt=cutoff).values_list("pk", flat=True)[:5000]
    )
    if old:
        OutboxMessage.objects.filter(pk__in=old).delete()


def run(message_id: int, *, now: datetime | None = None) -> bool:
    """Run one message in this worker, once: claim it, call its task, mark it done (or count the failure).

    Returns False when there was nothing to do: already done, dead, or running under another worker's lease.
    """
    from nursery.celery import app

    now = now or timezone.now()
    claimed = (
        OutboxMessage.objects.filter(pk=message_id, state=State.PENDING)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lte=now))
        .update(locked_until=now + lease(), attempts=F("attempts") + 1)
    )
    if not claimed:
        return False
    message = OutboxMessage.objects.get(pk=message_id)
    if lease_for(message.task_name) > lease():  # a task with longer limits of its own holds the row as long
        OutboxMessage.objects.filter(pk=message_id).update(locked_until=now + lease_for(message.task_name))
    try:
        task = app.tasks[message.task_name]
        task(*message.args, **message.kwargs)  # in this process: the row, not the broker, is the retry
    except Exception as exc:  # noqa: BLE001 - every failure is counted and retried, then shown as dead
        _failed(message, exc)
        return False
    OutboxMessage.objects.filter(pk=message_id).update(
        state=State.DONE, done_at=timezone.now(), locked_until=None, last_error=""
    )
    return True


def _failed(message: OutboxMessage, exc: Exception) -> None:
    dead = message.attempts >= settings.OUTBOX_MAX_ATTEMPTS
    error = "".join(traceback.format_exception(exc))[-4000:]
    OutboxMessage.objects.filter(pk=message.pk).update(
        state=State.DEAD if dead else State.PENDING, locked_until=None, sent_at=None,
        due_at=timezone.now() + backoff(message.attempts), last_error=error,
    )
    log = logger.error if dead else logger.warning
    log("Outbox message %s (%s) failed, attempt %d%s: %s", message.pk, message.task_name, message.attempts,
        " - giving up" if dead else "", exc)


def backlog(*, now: datetime | None = None) -> dict:
    """What monitoring needs: how many rows are due and not done, how long the oldest has waited past its due
    time (a stopped worker or beat makes it grow), and how many gave up."""
    now = now or timezone.now()
    due = OutboxMessage.objects.filter(state=State.PENDING, due_at__lte=now).aggregate(
        waiting=Count("pk"), oldest=Min("due_at")
    )
    oldest = due["oldest"]
    return {
        "waiting": due["waiting"],
        "oldest_seconds": int((now - oldest).total_seconds()) if oldest else 0,
        "dead": OutboxMessage.objects.filter(state=State.DEAD).count(),
    }
