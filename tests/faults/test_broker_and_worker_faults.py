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
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
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
    app.close()
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
