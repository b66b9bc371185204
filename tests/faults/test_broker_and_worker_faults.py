"""Fault injection: a Redis of our own stopped and restarted, a real Celery worker killed with SIGKILL.

Each test starts its own redis-server on a free port (never the machine's shared one) and a real worker
process on PostgreSQL's test database, then checks the outbox's promise: every email sent exactly once.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from email import message_from_bytes
from pathlib import Path

import pytest
from django.db import connection
from django.urls import reverse

from consent.models import ConsentDecision, Decision, Scope
from nursery import outbox
from nursery.celery import app
from nursery.models import Notification, OutboxMessage
from nursery.services import notify
from posts.models import PostStatus
from tests.conftest import require
from tests.consent.factories import wordings
from tests.factories import UserFactory, grant
from tests.posts.factories import ChannelFactory, PostFactory, PostImageFactory

pytestmark = [pytest.mark.services, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]
LEASE = 3  # seconds: the outbox sends again this soon after a message was lost


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition, timeout: float, what: str, every: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(every)
    pytest.fail(f"timed out after {timeout} s waiting for {what}")


class Redis:
    """A redis-server of our own: no persistence, so a restart loses whatever it held, as a crash would."""

    def __init__(self, tmp: Path):
        self.port, self.dir, self.process = free_port(), tmp, None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.dir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_for(self._answers, 10, "redis-server to start")

    def stop(self):
        self.process.terminate()
        self.process.wait(10)
        wait_for(lambda: not self._answers(), 5, "redis-server to stop")

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False


class Worker:
    """``celery worker --pool=solo`` in its own process, on the test database and our Redis."""

    def __init__(self, redis: Redis, mail_dir: Path, delay: float):
        db = connection.settings_dict
        self.env = {
            **os.environ,
            "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:"
                            f"{db['PORT'] or 5432}/{db['NAME']}",
            "CELERY_BROKER_URL": redis.url,
            "CELERY_VISIBILITY_TIMEOUT": "5",
            "OUTBOX_LEASE_SECONDS": str(LEASE),
            "EMAIL_BACKEND": "tests.faults.mail_backend.RecordingBackend",
            "FAULT_MAIL_DIR": str(mail_dir),
            "FAULT_MAIL_DELAY": str(delay),
            "PYTHONPATH": str(ROOT),
        }
        self.log = mail_dir.parent / "worker.log"
        self.process = None

    def start(self):
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "nursery", "worker", "--pool=solo", "--loglevel=INFO",
                 "--without-heartbeat", "--without-gossip", "--without-mingle"],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            )

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self):
        # After the test nothing it does matters, and a warm shutdown takes seconds: end it at once (its
        # database session ends with it, so no lock it held outlives it into the next test's flush).
        if self.process and self.process.poll() is None:
            self.kill()


@pytest.fixture
def faults(postgres, transactional_db, tmp_path, settings, monkeypatch):
    require(shutil.which("redis-server") is not None, "redis-server (apt-get install redis-server)")
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    redis = Redis(tmp_path)
    redis.start()
    settings.OUTBOX_LEASE_SECONDS = LEASE
    keys = ("broker_url", "task_always_eager", "broker_transport_options")
    previous = {key: app.conf[key] for key in keys}
    app.conf.update(broker_url=redis.url, task_always_eager=False, broker_transport_options={})
    # Celery reads CELERY_BROKER_URL from the environment before its own setting (make test-postgres sets it).
    monkeypatch.setenv("CELERY_BROKER_URL", redis.url)
    # Every task module imported now, with the app on Celery's list of live apps (an app.close() anywhere
    # earlier takes it off, and a shared task imported after that would be missing from its registry).
    from celery import _state

    _state._register_app(app)
    app.loader.import_default_modules()
    _drop_cached_connections()
    workers = []

    class Faults:
        def worker(self, delay: float = 0.0) -> Worker:
            worker = Worker(redis, mail_dir, delay)
            worker.start()
            workers.append(worker)
            return worker

        def sent(self) -> list[tuple[str, str]]:
            return sorted(
                (message["To"], message["Subject"])
                for message in (message_from_bytes(path.read_bytes()) for path in mail_dir.glob("*.eml"))
            )

        def deliver_everything(self, timeout: float = 90):
            """Beat's part: run the dispatcher until every outbox row is done."""
            def done():
                _drop_cached_connections()
                outbox.dispatch()
                return not OutboxMessage.objects.exclude(state=OutboxMessage.State.DONE).exists()
            try:
                wait_for(done, timeout, "the outbox to be delivered", every=1)
            except pytest.fail.Exception:
                print(workers[-1].log.read_text()[-4000:])
                raise

    faults = Faults()
    faults.redis = redis
    try:
        yield faults
    finally:
        for worker in workers:
            worker.stop()
        if redis.process.poll() is None:
            redis.stop()
        app.conf.update(previous)
        _drop_cached_connections()


def _drop_cached_connections():
    # A producer pool bound to a Redis that was stopped would be reused; start from a fresh connection.
    # Not app.close(): it also takes the app off Celery's list of live apps, and a shared task imported
    # after that would be missing from its registry (NotRegistered in a later test).
    app._pool = None
    app.amqp._producer_pool = None


def test_a_withdrawal_and_a_post_while_the_broker_is_down_are_saved_and_emailed_once_it_returns(
        faults, world, client):
    faults.worker()
    texts = wordings(world.nursery)
    grant(world.child, Scope.PUBLIC, guardian=world.parent, wording=texts[Scope.PUBLIC])
    post = PostFactory(nursery=world.nursery, author=world.practitioner,
                       channels=[ChannelFactory(nursery=world.nursery, audience=Scope.CLOSED)])
    PostImageFactory(post=post, children=[], no_identifiable_child=True)
    faults.redis.stop()

    client.force_login(world.parent)
    response = client.post(reverse("consent:withdraw", args=[world.child.pk, Scope.PUBLIC]),
                           {"seen": ConsentDecision.objects.get().pk})
    assert response.status_code == 302, "the parent sees the confirmation, not an error"
    assert ConsentDecision.objects.latest("pk").decision == Decision.WITHDRAWN
    client.force_login(world.practitioner)
    response = client.post(reverse("posts:submit", args=[post.pk]))
    assert response.status_code == 302, "the practitioner's post is submitted, not an error"
    post.refresh_from_db()
    assert post.status == PostStatus.SUBMITTED
    expected = sorted((n.recipient.email, n.subject) for n in Notification.objects.select_related("recipient"))
    assert expected and world.parent.email in [to for to, _ in expected]
    assert not faults.sent()

    faults.redis.start()
    faults.deliver_everything()
    assert faults.sent() == expected, "every email exactly once"


def test_a_worker_killed_mid_run_has_its_work_done_once_by_the_next(faults, world):
    worker = faults.worker(delay=0.3)
    people = [UserFactory(email=f"person{n}@example.org") for n in range(12)]
    notify(people, "Please read the new staff policy", "nursery/email/message.txt", {"message": "x"},
           nursery=world.nursery)  # committed at once (autocommit): twelve outbox rows, sent to the broker
    wait_for(lambda: len(faults.sent()) >= 3, 60, "the worker to send a few emails")
    worker.kill()
    assert len(faults.sent()) < 12, "killed mid-run"

    faults.worker()
    faults.deliver_everything()
    assert faults.sent() == sorted((p.email, "Please read the new staff policy") for p in people)


def test_a_webhook_delivery_while_the_broker_is_down_is_answered_and_screened_once_it_returns(
        faults, world, client, settings):
    from moderation.models import Comment, ModerationItem, WebhookDelivery
    from moderation.tasks import drain_webhook_deliveries
    from posts.meta.webhooks import sign
    from posts.models import Channel, Platform
    from tests.moderation.factories import body, feed_change, page_delivery, published_post

    settings.META_APP_SECRET = "fault-secret"
    page = "100000000000002"
    channel = Channel.objects.create(nursery=world.nursery, name="Public Facebook Page", platform=Platform.FACEBOOK,
                                     audience="public", external_id=page)
    published_post(world, channel, external_id=f"{page}_4001")
    faults.worker()
    faults.redis.stop()

    payload = body(page_delivery(page, feed_change(
        comment_id="4001_77", message="Amara Okafor was brilliant, call me on 07700 900456", post_id=f"{page}_4001")))
    response = client.post("/webhooks/meta/", data=payload, content_type="application/json",
                           HTTP_X_HUB_SIGNATURE_256=sign(payload, "fault-secret"))
    assert response.status_code == 200, "Meta is answered: the delivery is stored, nothing needs the broker"
    assert WebhookDelivery.objects.get().status == WebhookDelivery.Status.RECEIVED
    assert not Comment.objects.exists()

    faults.redis.start()
    _drop_cached_connections()
    for _ in range(2):  # beat's drain (every 5 s) once the broker is back: twice, as a backlog would
        drain_webhook_deliveries.apply_async()
    wait_for(lambda: not WebhookDelivery.objects.filter(status=WebhookDelivery.Status.RECEIVED).exists(), 60,
             "the drain to process the delivery")
    faults.deliver_everything()
    assert Comment.objects.count() == 1 and ModerationItem.objects.count() == 1, "screened exactly once"
    assert ModerationItem.objects.get().hits.exists()
    expected = sorted((n.recipient.email, n.subject) for n in Notification.objects.select_related("recipient"))
    assert faults.sent() == expected, "the safeguarding lead is told exactly once"


# --- Sweeps killed midway -----------------------------------------------------------------------------------


class Holder:
    """A second database session that holds a row lock (or a not yet committed row) a sweep needs for its
    second part, so the worker can be killed while the first part is committed and the second is waiting."""

    def __init__(self, sql: str, params: list):
        import psycopg

        db = connection.settings_dict
        self.session = psycopg.connect(host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"],
                                       password=db["PASSWORD"] or None, dbname=db["NAME"])
        self.session.execute(sql, params)  # inside a transaction left open

    def release(self):
        self.session.rollback()
        self.session.close()


def _someone_waits_for_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                       "AND wait_event_type = 'Lock'")
        return cursor.fetchone()[0] > 0


def _kill_midway(faults, task, first_part_done, holder: Holder, rerun):
    """Run ``task`` in a worker, SIGKILL it once its first part committed and its second waits on ``holder``,
    then release, start a new worker, run the sweep again and deliver: every email exactly once."""
    worker = faults.worker()
    try:
        task.apply_async()
        wait_for(first_part_done, 60, "the sweep's first part to commit")
        wait_for(_someone_waits_for_a_lock, 30, "the sweep's second part to wait")
        worker.kill()
    finally:
        holder.release()
    faults.worker()
    rerun()  # the next scheduled run (or the broker's redelivery of the killed one) finds the rest to do
    faults.deliver_everything()
    expected = sorted((n.recipient.email, n.subject) for n in Notification.objects.select_related("recipient"))
    assert expected and faults.sent() == expected, "every email exactly once"
    return expected


def test_the_consent_sweep_killed_midway_sends_every_request_once(faults, world):
    from datetime import timedelta

    from django.utils import timezone

    from consent.models import ConsentRequest, RequestKind, Scope
    from consent.services import send_consent_requests
    from consent.tasks import send_consent_requests as task
    from tests.factories import ChildFactory, GuardianshipFactory

    joined = timezone.localdate() - timedelta(days=3)
    families = {}
    for nursery in sorted((world.nursery, world.other_nursery), key=lambda n: n.pk):  # the sweep's order
        wordings(nursery)
        families[nursery] = []
        for n in range(3):
            child = ChildFactory(nursery=nursery, first_name=f"Kid{n}", joined_on=joined)
            families[nursery].append((child, GuardianshipFactory(child=child).user))
    first, second = families
    child, mum = families[second][0]
    holder = Holder(  # the second nursery's first request, written and not committed by someone else
        "INSERT INTO consent_consentrequest (nursery_id, child_id, scope, kind, recipient_id, cycle, round, sent_at) "
        "VALUES (%s, %s, %s, %s, %s, %s, 1, now())",
        [second.pk, child.pk, Scope.CLOSED, RequestKind.FIRST_ASK, mum.pk, joined.isoformat()])

    _kill_midway(faults, task, lambda: ConsentRequest.objects.filter(nursery=first).exists(), holder,
                 rerun=lambda: (
                     _assert_nothing_for(second), send_consent_requests()))
    asked = {(r.recipient_id, r.child_id) for r in ConsentRequest.objects.filter(round=1)}
    assert asked >= {(user.pk, child.pk) for people in families.values() for child, user in people}


def _assert_nothing_for(nursery):
    from consent.models import ConsentRequest

    assert not ConsentRequest.objects.filter(nursery=nursery).exists(), "killed midway: the second part is undone"


def test_the_acknowledgement_chase_killed_midway_sends_every_reminder_once(faults, world):
    from django.utils import timezone

    from nursery.models import Role
    from staff_conduct.models import AcknowledgementChase, PolicyKind
    from staff_conduct.services import chase_acknowledgements
    from staff_conduct.tasks import chase_acknowledgements_task as task
    from tests.factories import member
    from tests.staff_conduct.factories import policy

    first, second = sorted((world.nursery, world.other_nursery), key=lambda n: n.pk)  # the chase's order
    for nursery in (first, second):
        for n in range(2):
            member(nursery, Role.STAFF, username=f"staff{n}-{nursery.pk}")
    versions = {nursery: policy(nursery, PolicyKind.STAFF) for nursery in (first, second)}
    holder = Holder("SELECT 1 FROM staff_conduct_policyversion WHERE id = %s FOR UPDATE", [versions[second].pk])

    _kill_midway(faults, task, lambda: AcknowledgementChase.objects.filter(version=versions[first]).exists(), holder,
                 rerun=lambda: (
                     _assert_no_chase(versions[second]), chase_acknowledgements(now=timezone.now())))
    assert AcknowledgementChase.objects.filter(version=versions[second]).exists()


def _assert_no_chase(version):
    from staff_conduct.models import AcknowledgementChase

    assert not AcknowledgementChase.objects.filter(version=version).exists(), "killed midway"


def test_the_incident_escalation_killed_midway_tells_the_manager_once_per_incident(faults, world):
    from datetime import timedelta

    from django.utils import timezone

    from staff_conduct.clock import add_working_days
    from staff_conduct.models import EscalationReason, IncidentEscalation
    from staff_conduct.services import ASSIGNMENT_WORKING_DAYS, escalate_incidents
    from staff_conduct.tasks import escalate_incidents_task as task
    from tests.staff_conduct.factories import IncidentFactory

    first, second = (IncidentFactory(nursery=world.nursery, subject=world.practitioner,
                                     reported_at=timezone.now() - timedelta(days=9, minutes=n)) for n in range(2))
    deadline = add_working_days(second.reported_at, ASSIGNMENT_WORKING_DAYS)
    holder = Holder(  # the second incident's escalation, written and not committed by someone else
        "INSERT INTO staff_conduct_incidentescalation (incident_id, reason, deadline, sent_at) "
        "VALUES (%s, %s, %s, now())", [second.pk, EscalationReason.NOT_ASSIGNED, deadline])

    def rerun():
        assert not IncidentEscalation.objects.filter(incident=second).exists(), "killed midway"
        escalate_incidents(now=timezone.now())

    _kill_midway(faults, task, lambda: IncidentEscalation.objects.filter(incident=first).exists(), holder, rerun)
    assert IncidentEscalation.objects.filter(incident=second).count() == 1


def test_the_moderation_escalation_killed_midway_tells_each_person_once_per_item(faults, world):
    from datetime import timedelta

    from django.utils import timezone

    from moderation.models import Escalation, Priority
    from moderation.services import escalate_overdue
    from moderation.tasks import escalate_overdue_items as task
    from tests.moderation.factories import ItemFactory

    now = timezone.now()
    # The sweep takes priorities lowest first: the low item is its first part, the high one its second. Each
    # waited past its target (24 h, 1 h) and not twice it, so each is owed exactly one "past its target".
    first = ItemFactory(comment__channel__nursery=world.nursery, priority=Priority.LOW,
                        opened_at=now - timedelta(hours=25))
    second = ItemFactory(comment__channel__nursery=world.nursery, priority=Priority.HIGH,
                         opened_at=now - timedelta(minutes=90))
    holder = Holder(  # the second item's escalation, written and not committed by someone else
        f"INSERT INTO {Escalation._meta.db_table} (item_id, round, level, sent_at) VALUES (%s, %s, %s, now())",
        [second.pk, second.round, Escalation.Level.OVERDUE])

    def rerun():
        assert not Escalation.objects.filter(item=second).exists(), "killed midway"
        escalate_overdue(now=timezone.now())

    _kill_midway(faults, task, lambda: Escalation.objects.filter(item=first).exists(), holder, rerun)
    assert sorted(Escalation.objects.values_list("item_id", "level")) == [
        (first.pk, Escalation.Level.OVERDUE), (second.pk, Escalation.Level.OVERDUE)]

