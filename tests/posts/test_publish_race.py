"""The publish race, on PostgreSQL with two real connections: a withdrawal committed first always wins."""

import threading
import time

import pytest
from django.db import connection, transaction

from consent.models import Scope
from consent.services import withdraw_consent
from nursery.errors import ServiceError
from posts import services
from posts.models import PostStatus, Publication, Takedown
from tests.factories import grant

pytestmark = [pytest.mark.postgres]


def in_thread(target, results, name):
    def run():
        try:
            results[name] = target()
        except Exception as error:  # noqa: BLE001 - the test reads what each side ended with
            results[name] = error
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.fixture
def approved_post(postgres, transactional_db, world, make_post):
    grant(world.child, Scope.CLOSED, guardian=world.parent)
    post = services.submit_post(world.practitioner, post=make_post()).post
    return services.approve_post(world.leader, post=post, version=post.version)


def test_a_withdrawal_committed_a_moment_before_publishing_wins(world, approved_post):
    withdrawing, publishing = threading.Event(), threading.Event()
    results = {}

    def withdraw():
        with transaction.atomic():
            decision = withdraw_consent(world.parent, child=world.child, scope=Scope.CLOSED)
            withdrawing.set()
            publishing.wait(5)
            time.sleep(0.3)  # the leader's publish is now waiting on the child's row lock
        return decision

    def publish():
        withdrawing.wait(5)
        publishing.set()
        return services.publish_post(world.leader, post=approved_post)

    threads = [in_thread(withdraw, results, "withdraw"), in_thread(publish, results, "publish")]
    for thread in threads:
        thread.join(20)
    assert isinstance(results["publish"], ServiceError), results["publish"]
    assert "Amara Okafor has no closed" in results["publish"].message
    assert not Publication.objects.exists()
    approved_post.refresh_from_db()
    assert approved_post.status == PostStatus.DRAFT  # and the withdrawal's follow-up sent it back


def test_a_publication_committed_first_is_caught_by_a_takedown(world, approved_post):
    locked, results = threading.Event(), {}

    def publish():
        with transaction.atomic():
            publications = services.publish_post(world.leader, post=approved_post)
            locked.set()
            time.sleep(0.3)  # the parent's withdrawal is now waiting on the child's row lock
        return publications

    def withdraw():
        locked.wait(5)
        return withdraw_consent(world.parent, child=world.child, scope=Scope.CLOSED)

    threads = [in_thread(publish, results, "publish"), in_thread(withdraw, results, "withdraw")]
    for thread in threads:
        thread.join(20)
    assert not isinstance(results["publish"], Exception), results["publish"]
    assert not isinstance(results["withdraw"], Exception), results["withdraw"]
    assert Takedown.objects.filter(post=approved_post, child=world.child, confirmed_at__isnull=True).count() == 1
