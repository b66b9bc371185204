"""Two workers handed the same delivery at once (a redelivered message): only one of them sends it."""

import threading

import pytest
from django.db import connection
from django.utils import timezone

from posts.meta import publishing as meta_publishing
from posts.meta.models import DeliveryState, GraphDelivery
from tests.posts.graph.media import photo_post

pytestmark = pytest.mark.postgres


def test_only_one_of_two_racing_workers_claims_the_delivery(postgres, transactional_db, world, facebook_page):
    delivery = GraphDelivery.objects.create(post=photo_post(world, photos=0), channel=facebook_page,
                                            requested_by=world.leader, requested_at=timezone.now())
    start, claimed = threading.Barrier(2), []

    def worker():
        try:
            start.wait()
            claimed.append(meta_publishing._claim(delivery.pk, timezone.now()))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(c is not None for c in claimed) == [False, True]
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == (DeliveryState.SENDING, 1)
