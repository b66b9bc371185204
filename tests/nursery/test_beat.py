"""Beat runs on every machine and schedules on one: the holder of a PostgreSQL advisory lock."""

import time

import pytest
from django.conf import settings
from django.db import connection

from nursery.beat import BeatLock, SingleBeatScheduler


def test_the_project_uses_the_single_beat_scheduler():
    assert settings.CELERY_BEAT_SCHEDULER == "nursery.beat:SingleBeatScheduler"


class Lock:
    def __init__(self, held):
        self.answers = list(held)

    def held(self):
        return self.answers.pop(0)


def standby(*held):
    scheduler = SingleBeatScheduler.__new__(SingleBeatScheduler)  # no app, no database: only tick's choice
    scheduler.lock, scheduler.leading, scheduler.max_interval = Lock(held), False, 5
    return scheduler


def test_a_beat_without_the_lock_sends_nothing_and_tries_again_later(monkeypatch):
    sent = []
    monkeypatch.setattr("django_celery_beat.schedulers.DatabaseScheduler.tick",
                        lambda self, *a, **k: sent.append(1) or 1)
    scheduler = standby(False, False, True)
    assert scheduler.tick() == 5 and scheduler.tick() == 5 and sent == []
    assert scheduler.tick() == 1 and sent == [1], "it schedules once the lock is free"
    assert scheduler._initial_read is True, "and reads every entry again, as the last leader left them"


@pytest.mark.django_db
def test_on_sqlite_the_one_beat_always_leads():
    if connection.vendor == "postgresql":
        pytest.skip("SQLite only")
    assert BeatLock().held()


@pytest.mark.postgres
def test_on_postgresql_one_beat_holds_the_lock_until_its_session_ends(postgres, transactional_db):
    first, second = BeatLock(), BeatLock()
    try:
        assert first.held() and first.held(), "the leader keeps it"
        assert not second.held(), "a second beat stands by"
        first.release()  # the leader's process or machine died: PostgreSQL ends its session
        # The server ends the session a moment after the client hangs up; a standby simply tries again.
        deadline = time.monotonic() + 10
        while not second.held() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert second.held(), "the next beat to try takes over"
        assert not first.held()
    finally:
        first.release()
        second.release()
