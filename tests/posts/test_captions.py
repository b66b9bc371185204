"""Caption safety: names of the nursery's children block, first names and contact details warn."""

from datetime import timedelta

import pytest
from django.utils import timezone

from posts.captions import check_caption
from tests.factories import ChildFactory


@pytest.fixture
def children(world):
    """Children whose surnames are ordinary words, as real registers have."""
    names = {
        "oliver": ("Oliver", "Hall"),
        "summer": ("Summer", "Wood"),
        "noah": ("Noah", "King"),
        "james": ("James", "Thomas"),
        "thomas": ("Thomas", "Reed"),
        "hope": ("Hope", "de Souza"),
    }
    made = {key: ChildFactory(nursery=world.nursery, first_name=first, last_name=last)
            for key, (first, last) in names.items()}
    made["amara"] = world.child
    return made


def check(world, caption, *pictured):
    return check_caption(caption, nursery=world.nursery, pictured_children=list(pictured))


def test_it_blocks_the_surname_of_any_child_on_roll(world, children):
    result = check(world, "A lovely afternoon with the Okafor family", children["oliver"])

    assert not result.ok
    assert result.blocking == ["Remove the surname 'Okafor': we never name children in posts."]
    assert result.warnings == []


def test_it_blocks_a_full_name_in_any_case_and_says_so_once(world, children):
    result = check(world, "Well done amara  OKAFOR!", children["amara"])

    assert result.blocking == ["Remove the full name 'amara  OKAFOR': we never name children in posts."]
    assert result.warnings == [], "the first name inside a full name is not a second finding"


def test_it_warns_on_the_first_name_of_a_child_in_the_photos(world, children):
    result = check(world, "Amara loved the drums today", children["amara"])

    assert result.ok
    assert result.blocking == []
    assert result.warnings == [
        "'Amara' is the first name of a child in the photos. Together with the photo it can identify them: "
        "keep it only if you are sure it is needed."
    ]


def test_it_leaves_first_names_of_children_not_in_the_photos_alone(world, children):
    result = check(world, "Amara loved the drums today", children["oliver"])
    assert result.ok and result.warnings == []


def test_surnames_that_are_ordinary_words_only_count_written_as_names(world, children):
    caption = "We sang in the sports hall, walked in the wood and crowned a king. We hope Summer comes back!"
    assert check(world, caption).blocking == []

    for written in ("Hall", "HALL", "Hall's"):
        result = check(world, f"Thank you to the {written} family")
        assert result.blocking == [f"Remove the surname '{written.removesuffix(chr(39) + 's')}': we never name "
                                   "children in posts."]


def test_first_names_that_are_ordinary_words_only_count_written_as_names(world, children):
    assert check(world, "We hope you enjoyed it", children["hope"]).warnings == []
    assert len(check(world, "Hope enjoyed it", children["hope"]).warnings) == 1


def test_multi_word_surnames_block_as_recorded_or_capitalised(world, children):
    assert check(world, "Hello to the de Souza family").blocking
    assert check(world, "De Souza family day").blocking
    assert check(world, "Hope de Souza made a cake").blocking == [
        "Remove the full name 'Hope de Souza': we never name children in posts."
    ]


def test_a_first_name_of_a_child_in_the_photo_is_read_as_that_child_not_as_a_surname(world, children):
    # "Thomas" is Thomas Reed's first name and James Thomas's surname.
    pictured = check(world, "Thomas loved the drums", children["thomas"])
    assert pictured.ok and len(pictured.warnings) == 1

    not_pictured = check(world, "Thomas loved the drums", children["oliver"])
    assert not_pictured.blocking == ["Remove the surname 'Thomas': we never name children in posts."]

    full_name = check(world, "James Thomas loved the drums", children["thomas"])
    assert full_name.blocking == ["Remove the full name 'James Thomas': we never name children in posts."]


def test_children_who_left_or_belong_to_another_nursery_do_not_block(world, children):
    ChildFactory(nursery=world.nursery, first_name="Lily", last_name="Ashdown",
                 joined_on=timezone.localdate() - timedelta(days=900),
                 left_on=timezone.localdate() - timedelta(days=30))
    ChildFactory(nursery=world.other_nursery, first_name="Zara", last_name="Okonkwo")

    assert check(world, "Ashdown woods and Okonkwo Street").ok


def test_it_blocks_the_surname_of_a_child_in_the_photos_even_after_they_left(world, children):
    leaver = ChildFactory(nursery=world.nursery, first_name="Lily", last_name="Ashdown",
                          joined_on=timezone.localdate() - timedelta(days=900),
                          left_on=timezone.localdate() - timedelta(days=1))
    assert check(world, "Goodbye from the Ashdown family", leaver).blocking


def test_it_reports_each_name_once_however_often_it_appears(world, children):
    result = check(world, "Okafor, Okafor and Okafor again; Wood and Wood", children["amara"])
    assert result.blocking == [
        "Remove the surname 'Okafor': we never name children in posts.",
        "Remove the surname 'Wood': we never name children in posts.",
    ]


@pytest.mark.parametrize(
    ("caption", "kind", "found"),
    [
        ("Call Grace on 07700 900123 for tickets", "phone number", "07700 900123"),
        ("Questions to grace.okafor@mail.example.com", "email address", "grace.okafor@mail.example.com"),
        ("The fair is at LS6 2AB on Saturday", "postcode", "LS6 2AB"),
    ],
)
def test_it_warns_on_contact_details(world, children, caption, kind, found):
    result = check(world, caption)

    assert result.ok
    assert result.warnings == [
        f"The caption contains a {kind} ({found}). Posts are public to their audience: remove it unless it is "
        f"the nursery's own {kind}."
    ]


def test_the_nurserys_own_contact_details_do_not_warn(world, children):
    world.nursery.contact_email = "office@kidscount.example"
    world.nursery.address = "1 Park Lane\nLeeds LS6 2AB\nTel. 0113 496 0000"
    caption = "Book a visit: OFFICE@kidscount.example, +44 (0)113 496 0000, ls62ab. Or ring 07700 900123."

    result = check(world, caption)

    assert [hit.text for hit in result.hits] == ["07700 900123"]
    assert len(result.warnings) == 1


def test_it_gives_offsets_to_highlight_what_it_found(world, children):
    caption = "Amara and the King family, LS6 2AB"
    result = check(world, caption, children["amara"])

    assert [(hit.kind, caption[hit.start:hit.end]) for hit in result.hits] == [
        ("first name", "Amara"), ("surname", "King"), ("postcode", "LS6 2AB"),
    ]


def test_an_empty_caption_is_fine(world, children):
    result = check(world, "", children["amara"])
    assert result.ok and result.blocking == [] and result.warnings == []


@pytest.mark.parametrize("extra_children", [5, 300])
def test_it_runs_one_query_however_many_children(world, django_assert_num_queries, extra_children):
    ChildFactory.create_batch(extra_children, nursery=world.nursery)
    pictured = [world.child]

    with django_assert_num_queries(1):
        result = check(world, "Amara Okafor at the concert", *pictured)

    assert not result.ok
