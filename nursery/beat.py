"""Beat once across machines: run ``celery beat`` on every machine; only one of them schedules.

``SingleBeatScheduler`` is django-celery-beat's database scheduler that sends tasks only while it holds a
PostgreSQL advisory lock, taken on a connection of its own and held for as long as that connection lives.
The other beats tick idle, trying for the lock every ``max_interval`` seconds; when the leader's process or
machine dies, PostgreSQL ends its session, the lock goes with it, and the next beat to try takes over. On
SQLite (one machine) there is nothing to share and the scheduler always leads.
"""

import contextlib
import logging

from django.db import DatabaseError, connections
from django_celery_beat.schedulers import DatabaseScheduler

logger = logging.getLogger(__name__)

# pg_try_advisory_lock's key: any constant shared by every beat of the deployment ("beat" in ASCII).
LOCK_KEY = 0x62656174


class BeatLock:
    """The advisory lock on a connection of its own (Django's connections are closed and reopened freely)."""

    def __init__(self, alias: str = "default"):
        self.alias = alias
        self.connection = None

    def held(self) -> bool:
        """Whether this process holds the lock now, taking it if it is free."""
        if connections[self.alias].vendor != "postgresql":
            return True
        try:
            if self.connection is None:
                self.connection = connections.create_connection(self.alias)
            with self.connection.cursor() as cursor:
                # Re-entrant within the session: asking again while holding it answers true.
                cursor.execute("SELECT pg_try_advisory_lock(%s)", [LOCK_KEY])
                return bool(cursor.fetchone()[0])
        except DatabaseError:
            logger.warning("Beat lock: database unreachable; not scheduling until it is back", exc_info=True)
            self.release()
            return False

    def release(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(DatabaseError):
                self.connection.close()
            self.connection = None


class SingleBeatScheduler(DatabaseScheduler):
    def __init__(self, *args, **kwargs):
        self.lock = BeatLock()
        self.leading = False
        super().__init__(*args, **kwargs)

    def tick(self, *args, **kwargs):
        leading = self.lock.held()
        if leading != self.leading:
            logger.info("Beat %s", "now schedules for the deployment" if leading else "stands by: another leads")
            self.leading = leading
            if leading:  # read every entry again: the last leader recorded when each task last ran
                self._initial_read, self._heap = True, None
        if not leading:
            return self.max_interval
        return super().tick(*args, **kwargs)

    def close(self):
        self.lock.release()
        super().close()
