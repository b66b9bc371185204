"""A real Celery worker on Redis delivers a notification email enqueued after commit."""

import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail
from django.db import transaction

from nursery.celery import app
from nursery.services import notify

pytestmark = pytest.mark.services


def _drop_cached_connections():
    # Earlier tests may have cached a producer bound to the default (filesystem) broker.
    # Not app.close(): it also takes the app off Celery's list of live apps, and a shared task imported
    # after that would be missing from its registry (NotRegistered in a later test).
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def redis_worker(redis_url, transactional_db):
    keys = ("broker_url", "task_always_eager", "broker_transport_options")
    previous = {key: app.conf[key] for key in keys}
    app.conf.update(broker_url=redis_url, task_always_eager=False, broker_transport_options={})
    _drop_cached_connections()
    app.loader.import_default_modules()  # register the autodiscovered tasks before the worker starts
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            yield
    finally:
        app.conf.update(previous)
        _drop_cached_connections()


def test_a_worker_sends_the_notification_email(redis_worker, django_user_model):
    user = django_user_model.objects.create_user("dsl_on_call", email="dsl@example.org", password="x")
    with transaction.atomic():
        notify([user], "Comment needs review", "nursery/email/message.txt", {"message": "A flagged comment."})
        assert not mail.outbox
    deadline = time.monotonic() + 20
    while not mail.outbox and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [m.subject for m in mail.outbox] == ["Comment needs review"]
    assert mail.outbox[0].to == ["dsl@example.org"]
    assert user.notifications.get().emailed_at is not None
