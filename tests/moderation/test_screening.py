"""Screening categories, the child-name rules, and regular expressions that cannot stall a worker."""

import re
import time

import pytest
from django.core.exceptions import ValidationError

from moderation.models import ItemStatus, Priority, ScreeningRule
from moderation.screening import MAX_SCREENED_CHARS, check_pattern
from moderation.services import enter_comment, install_default_rules, save_rule
from nursery.errors import ServiceError
from tests.factories import ChildFactory
from tests.moderation.factories import ChannelFactory, published_post


@pytest.fixture
def channel(world):
    return ChannelFactory(nursery=world.nursery)


def categories(item):
    return {h.category for h in item.hits.all()}


@pytest.mark.parametrize("text, expected", [
    ("This is fucking ridiculous", {"foul_language"}),
    ("Amara Okafor looks so happy", {"child_named"}),
    ("amara   okafor again", {"child_named"}),
    ("Ring me on 07700 900123", {"personal_data"}),
    ("email me at jo.parker@example.com", {"personal_data"}),
    ("We live at LS6 2AB", {"personal_data"}),
    ("Chloe please accept my friend request", {"private_contact"}),
    ("Can you DM me about it", {"private_contact"}),
    ("I took a screenshot and shared it in our group", {"sharing"}),
    ("I noticed bruises on her arm", {"safeguarding"}),
])
def test_each_category_is_found(world, channel, text, expected):
    item = enter_comment(world.practitioner, channel=channel, author_name="X", text=text)
    assert categories(item) == expected
    assert item.priority > Priority.ACKNOWLEDGE


def test_a_clean_comment_goes_to_the_acknowledge_lane(world, channel):
    item = enter_comment(world.practitioner, channel=channel, author_name="X", text="What a lovely day, thank you!")
    assert item.priority == Priority.ACKNOWLEDGE
    assert item.status == ItemStatus.PENDING
    assert not item.hits.exists()


def test_a_first_name_alone_is_flagged_only_on_a_post_that_pictures_that_child(world, channel):
    isla = ChildFactory(nursery=world.nursery, first_name="Isla", last_name="Hughes")
    on_photo = published_post(world, channel, external_id="p1", children=[isla])
    other = published_post(world, channel, external_id="p2", children=[world.child])
    from moderation.models import Comment
    from moderation.services import _screen

    pictured = Comment(nursery=world.nursery, channel=channel, text="Isla is the fastest!", post=on_photo)
    not_pictured = Comment(nursery=world.nursery, channel=channel, text="Isla is the fastest!", post=other)
    no_post = Comment(nursery=world.nursery, channel=channel, text="Isla is the fastest!")
    assert [f.category for f in _screen(pictured)] == ["child_named"]
    assert _screen(not_pictured) == []
    assert _screen(no_post) == []


def test_full_names_of_every_child_of_the_nursery_are_flagged_but_not_other_nurseries(world, channel):
    ChildFactory(nursery=world.other_nursery, first_name="Willow", last_name="Ash")
    item = enter_comment(world.practitioner, channel=channel, author_name="X", text="Willow Ash and Amara Okafor")
    assert [h.matched for h in item.hits.all()] == ["Amara Okafor"]


def test_hits_keep_offsets_for_highlighting(world, channel):
    text = "Hi, Amara Okafor!"
    item = enter_comment(world.practitioner, channel=channel, author_name="X", text=text)
    hit = item.hits.get()
    assert text[hit.start:hit.end] == "Amara Okafor"


def test_inactive_rules_do_not_screen(world, channel):
    ScreeningRule.objects.filter(nursery=world.nursery, category="foul_language").update(active=False)
    item = enter_comment(world.practitioner, channel=channel, author_name="X", text="shit")
    assert item.priority == Priority.ACKNOWLEDGE


def test_a_regex_rule_screens(world, channel):
    save_rule(world.dsl, rule=ScreeningRule(nursery=world.nursery, name="Nursery name", kind="regex",
                                            category="sharing", severity=1, pattern=r"kids\s?count"))
    item = enter_comment(world.practitioner, channel=channel, author_name="X", text="I love KidsCount")
    assert categories(item) == {"sharing"}


def test_a_new_nursery_gets_the_default_rules_once(world):
    count = ScreeningRule.objects.filter(nursery=world.nursery).count()
    assert count >= 9
    assert install_default_rules(world.leader, nursery=world.nursery) == 0
    assert ScreeningRule.objects.filter(nursery=world.nursery).count() == count


def test_only_leadership_and_the_safeguarding_lead_edit_rules(world):
    from django.core.exceptions import PermissionDenied

    rule = ScreeningRule(nursery=world.nursery, name="x", kind="words", category="sharing", words="tiktok")
    with pytest.raises(PermissionDenied):
        save_rule(world.practitioner, rule=rule)
    save_rule(world.leader, rule=rule)


@pytest.mark.parametrize("pattern, says", [
    (r"(\d+)\1", "back-references"), (r"(a)x\2", "back-references"), (r"photo(?=share)", "look-ahead"),
    (r"photo(?!s)", "look-ahead"), (r"(?<=my )number", "look-behind"), (r"(?<!no )photo", "look-behind"),
    ("x" * 201, "under 200 characters"), (r"(unclosed", "not a valid"), (r"[z-a]", "not a valid"),
    (r"a{2000}{2000}", "not a valid"),
])
def test_it_refuses_what_re2_cannot_run_with_a_plain_message(pattern, says):
    with pytest.raises(ValidationError, match=re.escape(says)):
        check_pattern(pattern)


@pytest.mark.parametrize("pattern", [
    r"kids\s?count", r"\bsnap(chat)?\b", r"[0-9]{5,}", r"photo.{0,40}share", r"(ab)+c", r"\d{3}\s?\d{3}\s?\d{4}",
    r".*b", r"(a+)+$", r"(a*)*b", r"(\w+\s?)*$", r"(a|aa)*$", r".*photo.*share", r"(x+x+)+y",
])
def test_it_accepts_ordinary_patterns_and_ones_that_backtracking_engines_choke_on(pattern):
    check_pattern(pattern)


def test_a_pattern_that_would_hang_a_backtracking_engine_runs_in_linear_time(world, channel):
    save_rule(world.dsl, rule=ScreeningRule(nursery=world.nursery, name="evil", kind="regex", category="sharing",
                                            severity=3, pattern=r"(a+)+$"))
    started = time.monotonic()
    item = enter_comment(world.practitioner, channel=channel, author_name="X", text="a" * 7999 + "!")
    assert time.monotonic() - started < 2
    assert item.priority == Priority.ACKNOWLEDGE  # no match: the text ends with "!"


def test_a_refused_pattern_is_refused_when_saved_with_a_clear_message(world):
    rule = ScreeningRule(nursery=world.nursery, name="evil", kind="regex", category="sharing", pattern=r"(a+)\1")
    with pytest.raises(ServiceError, match="cannot use back-references"):
        save_rule(world.dsl, rule=rule)
    assert not ScreeningRule.objects.filter(name="evil").exists()


def test_a_refused_pattern_put_straight_into_the_database_is_skipped_and_logged(world, channel, caplog):
    ScreeningRule.objects.create(nursery=world.nursery, name="evil", kind="regex", category="sharing",
                                 severity=3, pattern=r"(a)(?=b)")
    item = enter_comment(world.practitioner, channel=channel, author_name="X", text="ab ab")
    assert item.priority == Priority.ACKNOWLEDGE
    assert "refused and skipped" in caplog.text


def test_matches_are_case_insensitive_and_counted_in_characters(world, channel):
    save_rule(world.dsl, rule=ScreeningRule(nursery=world.nursery, name="café", kind="regex", category="sharing",
                                            severity=2, pattern=r"caf."))
    text = "Ünïcödé first: the CAFÉ photo"
    item = enter_comment(world.practitioner, channel=channel, author_name="X", text=text)
    hit = item.hits.get(rule_name="café")
    assert text[hit.start:hit.end] == hit.matched == "CAFÉ"


def test_the_slowest_allowed_pattern_on_the_longest_text_stays_fast(world, channel):
    save_rule(world.dsl, rule=ScreeningRule(nursery=world.nursery, name="one star", kind="regex",
                                            category="sharing", severity=1, pattern=r"\w+b"))
    started = time.monotonic()
    enter_comment(world.practitioner, channel=channel, author_name="X", text="a" * (MAX_SCREENED_CHARS * 2))
    assert time.monotonic() - started < 5
