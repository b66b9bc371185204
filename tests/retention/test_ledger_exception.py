"""The append-only records stay append-only everywhere; retention.services is the one exception."""

import re
from pathlib import Path

import pytest
from django.db import transaction

from nursery.ledger import ImmutableRowError, retention_removal
from posts.models import Post, PostEvent
from tests.posts.factories import PostFactory

ROOT = Path(__file__).resolve().parents[2]


def test_only_the_retention_service_may_remove_records():
    callers = set()
    for path in ROOT.rglob("*.py"):
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith((".venv/", "tests/", "var/")):
            continue
        if re.search(r"\bretention_removal\(", path.read_text()):
            callers.add(relative)
    assert callers == {"nursery/ledger.py", "retention/services.py"}


def _post_with_event(world):
    post = PostFactory(nursery=world.nursery, author=world.practitioner)
    PostEvent.objects.create(post=post, action="created", from_status="draft", to_status="draft", version=1,
                             actor=world.practitioner, at=post.created_at)
    return post


def test_it_refuses_to_remove_a_record_by_cascade(world):
    post = _post_with_event(world)
    with pytest.raises(ImmutableRowError), transaction.atomic():
        post.delete()
    assert PostEvent.objects.filter(post=post).exists()


def test_it_refuses_a_bulk_delete_of_posts_that_would_take_their_events(world):
    _post_with_event(world)
    with pytest.raises(ImmutableRowError), transaction.atomic():
        Post.objects.all().delete()
    assert PostEvent.objects.count() == 1


def test_inside_the_retention_exception_records_can_be_removed(world):
    post = _post_with_event(world)
    with retention_removal("Past its retention period"):
        post.delete()
    assert not PostEvent.objects.exists()


def test_the_exception_needs_a_reason():
    with pytest.raises(ValueError), retention_removal(""):
        pass  # pragma: no cover
