"""Rows written in one statement without a model instance each (nursery/bulk.py), on SQLite and PostgreSQL."""

from datetime import timedelta

import pytest
from django.utils import timezone

from consent.models import ConsentRequest, RequestKind, Scope
from nursery import bulk
from nursery.models import Notification

pytestmark = pytest.mark.django_db

COLUMNS = ["recipient_id", "child_id", "scope", "kind", "cycle", "round"]


def test_it_inserts_with_constants_and_returns_what_it_wrote(world):
    now = timezone.now() - timedelta(days=3)
    written = bulk.insert(Notification, ["recipient_id", "subject", "body", "url"],
                          [(world.parent.pk, "Hello", "Line one\n“quoted” — ünïcode", ""),
                           (world.leader.pk, "S" * 200, "", "/x/")],
                          same={"nursery_id": world.nursery.pk, "created_at": now}, returning=["id", "subject"])
    assert [subject for _, subject in written] == ["Hello", "S" * 200]
    first = Notification.objects.get(pk=written[0][0])
    assert (first.recipient, first.nursery, first.created_at, first.read_at) == (world.parent, world.nursery, now, None)
    assert first.body == "Line one\n“quoted” — ünïcode"


def test_it_skips_conflicting_rows_and_returns_only_its_own(world):
    now = timezone.now()
    row = (world.parent.pk, world.child.pk, Scope.CLOSED, RequestKind.FIRST_ASK, "2026-03-02", 1)
    same = {"nursery_id": world.nursery.pk, "sent_at": now}
    first = bulk.insert(ConsentRequest, COLUMNS, [row], same=same, ignore_conflicts=True, returning=COLUMNS)
    again = bulk.insert(ConsentRequest, COLUMNS, [row, row[:2] + (Scope.PUBLIC,) + row[3:]], same=same,
                        ignore_conflicts=True, returning=COLUMNS)
    assert first == [row]
    assert again == [row[:2] + (Scope.PUBLIC,) + row[3:]], "the row another run wrote first is not returned"
    assert ConsentRequest.objects.count() == 2


def test_it_copies_the_created_history_row_of_each_record(world):
    now = timezone.now()
    ids = [pk for (pk,) in bulk.insert(
        ConsentRequest, COLUMNS, [(world.parent.pk, world.child.pk, scope, RequestKind.FIRST_ASK, "c", 1)
                                  for scope in Scope.values],
        same={"nursery_id": world.nursery.pk, "sent_at": now}, returning=["id"])]
    bulk.copy_history(ConsentRequest, ids[:1], when=now, reason="Because", user_id=world.leader.pk)
    [row] = ConsentRequest.history.all()
    assert (row.id, row.scope, row.sent_at, row.history_date, row.history_type, row.history_change_reason,
            row.history_user_id) == (ids[0], Scope.CLOSED, now, now, "+", "Because", world.leader.pk)


def test_nothing_to_write_is_no_query(world, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert bulk.insert(Notification, ["subject"], [], returning=["id"]) == []
        bulk.copy_history(ConsentRequest, [], when=timezone.now(), reason="x")
