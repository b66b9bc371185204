"""The consent register, the photo list, the CSV export and the per-child evidence page."""

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from consent.models import Decision, Scope
from consent.queries import CHUNK, REGISTER_PAGE_SIZE, State
from tests.factories import ChildFactory, ConsentDecisionFactory, GuardianshipFactory, RoomFactory, grant

pytestmark = pytest.mark.django_db


@pytest.fixture
def rooms(world, wording):
    """Preschool: Amara (closed only). Babies: Ben (both), Cara (withdrawn public), Dev (not asked), Eve (left)."""
    babies = RoomFactory(nursery=world.nursery, name="Babies")
    grant(world.child, Scope.CLOSED, guardian=world.parent)
    ben = ChildFactory(nursery=world.nursery, room=babies, first_name="Ben", last_name="Ashworth")
    grant(ben, Scope.CLOSED, Scope.PUBLIC)
    cara = ChildFactory(nursery=world.nursery, room=babies, first_name="Cara", last_name="Bell")
    mum = GuardianshipFactory(child=cara, user__first_name="Maria", user__last_name="Bell").user
    grant(cara, Scope.CLOSED, guardian=mum)
    ConsentDecisionFactory(child=cara, guardian=mum, scope=Scope.PUBLIC, decision=Decision.WITHDRAWN, signature="")
    ChildFactory(nursery=world.nursery, room=babies, first_name="Dev", last_name="Chana")
    ChildFactory(nursery=world.nursery, room=babies, first_name="Eve", last_name="Dunn",
                 left_on=timezone.localdate() - timedelta(days=1),
                 joined_on=timezone.localdate() - timedelta(days=100))
    ChildFactory(nursery=world.other_nursery, first_name="Faraway")
    return babies


def get(client, user, name, **params):
    client.force_login(user)
    return client.get(reverse(f"consent:{name}"), params)


def test_the_register_lists_every_child_on_roll_by_room_with_counts(client, world, rooms):
    page = get(client, world.leader, "register").content.decode()
    for name in ("Amara Okafor", "Ben Ashworth", "Cara Bell", "Dev Chana"):
        assert name in page
    assert "Eve Dunn" not in page, "children who left are not on the register"
    assert "Faraway" not in page, "another nursery's children never appear"
    assert "Babies (3 on roll)" in page, "the room filter says how many children each room has"
    assert "Maria Bell" in page, "leadership sees who decided"


def test_the_register_counts_children_without_consent_by_room(client, world, rooms):
    page = get(client, world.leader, "register").content.decode()
    assert reverse("consent:register_counts") in page, "the counts follow the rows (htmx), or are a link"
    client.force_login(world.practitioner)
    response = client.get(reverse("consent:register_counts"), HTTP_HX_REQUEST="true")
    assert "<html" not in response.content.decode(), "htmx gets the table alone"
    by_room = {room.name: room for room in response.context["rooms"]}
    babies, preschool = by_room["Babies"], by_room["Preschool"]
    # Babies: Ben (both), Cara (public withdrawn), Dev (never asked); Eve has left and is not counted.
    assert (babies.on_roll, babies.closed_lacking, babies.public_lacking, babies.no_photos, babies.attention) == (
        3, 1, 2, 1, 1)
    assert (preschool.on_roll, preschool.closed_lacking, preschool.public_lacking, preschool.no_photos) == (1, 0, 1, 0)
    assert response.context["totals"]["public_lacking"] == 3
    assert "Faraway" not in str(by_room)
    full = client.get(reverse("consent:register_counts")).content.decode()
    assert "<html" in full and "Consent by room" in full, "without JavaScript, a page of its own"


def test_staff_see_a_reduced_register_without_guardian_details(client, world, rooms):
    page = get(client, world.practitioner, "register").content.decode()
    assert "Cara Bell" in page and "Maria Bell" not in page
    assert "Download CSV" not in page and reverse("consent:evidence", args=[world.child.pk]) not in page


@pytest.mark.parametrize("params, shown, hidden", [
    ({"state": State.NOT_ASKED, "scope": Scope.CLOSED}, ["Dev Chana"], ["Ben Ashworth", "Cara Bell", "Amara"]),
    ({"state": State.WITHDRAWN}, ["Cara Bell"], ["Ben Ashworth", "Dev Chana"]),
    ({"state": State.GRANTED, "scope": Scope.PUBLIC}, ["Ben Ashworth"], ["Cara Bell", "Amara Okafor"]),
])
def test_the_register_filters_by_state_and_scope(client, world, rooms, params, shown, hidden):
    page = get(client, world.leader, "register", **params).content.decode()
    assert all(name in page for name in shown)
    assert not any(name in page for name in hidden)


def test_the_register_filters_by_room(client, world, rooms):
    page = get(client, world.leader, "register", room=rooms.pk).content.decode()
    assert "Ben Ashworth" in page and "Amara Okafor" not in page


def test_nonsense_filters_are_ignored(client, world, rooms):
    response = get(client, world.leader, "register", room="x", state="<b>", scope="all")
    assert response.status_code == 200 and "Amara Okafor" in response.content.decode()


def test_the_photo_list_has_first_names_and_rooms_only_and_clear_no_photo_marks(client, world, rooms):
    page = get(client, world.practitioner, "photo_list").content.decode()
    assert "Photo list · Babies" in page and "Photo list · Preschool" in page
    assert "Dev" in page and "Chana" not in page and "Okafor" not in page
    assert page.count("NO PHOTOS</span>") == 1  # Dev: nothing anywhere
    assert "Maria" not in page


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_the_csv_export_has_a_row_per_child(client, world, rooms):
    response = get(client, world.leader, "register_csv")
    assert response["Content-Type"].startswith("text/csv") and response.streaming
    rows = csv_rows(response)
    assert rows[0][:5] == ["Room", "First name", "Last name", "Private parents' pages", "Public pages"]
    by_name = {row[1]: row for row in rows[1:]}
    assert set(by_name) == {"Amara", "Ben", "Cara", "Dev"}
    assert by_name["Cara"][3:5] == ["Granted", "Withdrawn"]
    assert by_name["Dev"][3:5] == ["Not asked", "Not asked"]


@pytest.mark.parametrize("name", ["=HYPERLINK(1)", "+1", "-1+2", "@SUM(A1)", "\t=1", "\r=1"])
def test_the_csv_export_neutralises_spreadsheet_formulas(client, world, wording, name):
    ChildFactory(nursery=world.nursery, room=world.child.room, first_name=name, last_name="X")
    rows = csv_rows(get(client, world.leader, "register_csv"))
    assert f"'{name}" in [row[1] for row in rows]


@pytest.mark.parametrize("count", [5, 500])
def test_the_register_needs_the_same_queries_for_5_and_500_children(client, world, wording, count,
                                                                      django_assert_max_num_queries):
    room = world.child.room
    children = ChildFactory.create_batch(count, nursery=world.nursery, room=room)
    for child in children[::3]:
        grant(child, Scope.CLOSED)
    client.force_login(world.leader)
    for params in ({}, {"page": 2}, {"q": "a", "room": room.pk}):
        # Rooms with their numbers on roll, the page's ids, its children, wordings and decisions; a search
        # also counts what it finds (a room's number is known from the rooms).
        with django_assert_max_num_queries(12 if "q" in params else 11):
            assert client.get(reverse("consent:register"), params).status_code == 200
    # Counting every child's consent by room: the children, the wordings, the decisions.
    with django_assert_max_num_queries(9):
        assert client.get(reverse("consent:register_counts"), HTTP_HX_REQUEST="true").status_code == 200
    # A state filter computes consent for every child matching the rest of the filter, a chunk at a time.
    with django_assert_max_num_queries(19):
        assert client.get(reverse("consent:register"), {"state": State.NOT_ASKED}).status_code == 200
    with django_assert_max_num_queries(12):
        assert client.get(reverse("consent:photo_list")).status_code == 200
    with django_assert_max_num_queries(13 if count < CHUNK else 18):  # five more a chunk of children
        assert len(csv_rows(client.get(reverse("consent:register_csv")))) == count + 2


def test_the_register_shows_one_page_at_a_time_and_keeps_the_filter(client, world, wording):
    babies = RoomFactory(nursery=world.nursery, name="Babies")
    ChildFactory.create_batch(120, nursery=world.nursery, room=babies, last_name="Zed")
    page = get(client, world.leader, "register", room=babies.pk).content.decode()
    assert page.count(" Zed</a>") == REGISTER_PAGE_SIZE and "Page 1 of 3" in page
    assert f"?room={babies.pk}&amp;page=2" in page, "the next page keeps the room"
    last = get(client, world.leader, "register", room=babies.pk, page=3).content.decode()
    assert last.count(" Zed</a>") == 120 - 2 * REGISTER_PAGE_SIZE
    assert "Amara Okafor" not in last


def test_the_register_finds_a_child_by_name(client, world, rooms):
    page = get(client, world.practitioner, "register", q="bell").content.decode()
    assert "Cara Bell" in page and "Ben Ashworth" not in page and "1 match the filter" in page
    assert "No children on roll match" in get(client, world.practitioner, "register", q="nobody").content.decode()


def test_a_state_filter_pages_through_the_matching_children_only(client, world, wording):
    kids = ChildFactory.create_batch(60, nursery=world.nursery, room=world.child.room, last_name="Kid")
    for kid in kids[1::2]:
        grant(kid, Scope.CLOSED)
    page = get(client, world.leader, "register", state=State.GRANTED, scope=Scope.CLOSED).content.decode()
    assert "30 match the filter" in page and page.count(" Kid</a>") == 30


def test_the_csv_export_streams_every_row_in_register_order_and_follows_the_filter(client, world, rooms,
                                                                                    monkeypatch):
    monkeypatch.setattr("consent.queries.CHUNK", 2)
    rows = csv_rows(get(client, world.leader, "register_csv"))
    assert [row[1] for row in rows[1:]] == ["Ben", "Cara", "Dev", "Amara"], "room by room, then by name"
    rows = csv_rows(get(client, world.leader, "register_csv", state=State.WITHDRAWN))
    assert [row[1] for row in rows[1:]] == ["Cara"]
    rows = csv_rows(get(client, world.leader, "register_csv", q="ashworth"))
    assert [row[1] for row in rows[1:]] == ["Ben"]


@pytest.mark.parametrize("count", [5, 500])
def test_the_home_page_summary_keeps_its_queries(client, world, wording, count, django_assert_max_num_queries):
    ChildFactory.create_batch(count, nursery=world.nursery, room=world.child.room)
    client.force_login(world.leader)
    with django_assert_max_num_queries(30):
        assert client.get(reverse("home")).status_code == 200


def test_the_evidence_page_shows_the_full_ledger_with_wording_and_metadata(client, world, wording):
    from consent.services import grant_consent, withdraw_consent

    grant_consent(world.parent, child=world.child, scope=Scope.PUBLIC, wording_id=wording[Scope.PUBLIC].pk,
                  signature="Grace Okafor", ip_address="203.0.113.9", user_agent="Phone")
    withdraw_consent(world.parent, child=world.child, scope=Scope.PUBLIC)
    granny = GuardianshipFactory(child=world.child, has_parental_responsibility=False,
                                 user__first_name="Ada", user__last_name="Okafor").user
    client.force_login(world.leader)
    page = client.get(reverse("consent:evidence", args=[world.child.pk])).content.decode()
    assert "signed “Grace Okafor”" in page and "203.0.113.9" in page
    assert page.count("Wording version 1") == 2 and "(public, v1)" in page
    assert granny.get_full_name() in page and "no parental responsibility" in page
    assert "Withdrawn · Public marketing pages" in page


def test_the_photo_list_tells_apart_two_children_with_the_same_first_name(client, world, rooms):
    ChildFactory(nursery=world.nursery, room=rooms, first_name="Ben", last_name="Zephaniah")
    page = get(client, world.practitioner, "photo_list").content.decode()
    assert "Ben A." in page and "Ben Z." in page
    assert "Ashworth" not in page and "Zephaniah" not in page
    assert '<th scope="row">Dev<span class="no-photos-mark">' in page, "a first name alone where it is unique"
