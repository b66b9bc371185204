"""The safeguarding lead and leadership on a 390 px phone: the queue (with an image comment, a visitor post, long
addresses and long rule names), an item, resolved items and the takedown pages never scroll sideways; and a
claimed item is resolved from the queue page with JavaScript switched off."""

import re

import pytest

from tests.browser.conftest import login, shot

pytestmark = pytest.mark.browser

LONG_LINK = "https://www.facebook.com/" + "kidscountnurseryofficialpage" * 6 + "/posts/pfbid02" + "X" * 80


def page_width(page) -> int:
    return page.evaluate("Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)")


def assert_fits(page, what: str) -> None:
    width = page_width(page)
    assert width <= 390, f"{what} scrolls sideways on a 390 px phone ({width}px)"


@pytest.fixture
def awkward_items(demo):
    """A claimed comment whose word, address and rule name are each longer than a phone is wide."""
    from django.contrib.auth import get_user_model

    from moderation.models import ScreeningRule
    from moderation.services import claim_item, enter_comment
    from nursery.models import Nursery

    User = get_user_model()
    from posts.models import Channel

    nursery = Nursery.objects.get(name="Kids Count")
    channel = Channel.objects.filter(nursery=nursery).order_by("pk").first()
    ScreeningRule.objects.create(nursery=nursery, name="Averyveryverylongrulenamewithoutanyspaces" * 2,
                                 kind="words", category="sharing", severity=2, words="screenshotted")
    item = enter_comment(User.objects.get(username="staff"), channel=channel, author_name="Someone",
                         text="screenshotted " + "Supercalifragilistic" * 8, link=LONG_LINK)
    claim_item(User.objects.get(username="dsl"), item_id=item.pk)
    return {"long": item}


def test_the_moderation_pages_fit_a_phone(phone_page, awkward_items):
    page = phone_page
    login(page, "dsl")
    page.goto(page.base_url + "/moderation/")
    assert page.locator(f"#item-{awkward_items['long'].pk}").is_visible()
    assert_fits(page, "the moderation queue")
    shot(page, "moderation-queue-phone")
    page.goto(page.base_url + f"/moderation/items/{awkward_items['long'].pk}/")
    assert_fits(page, "a moderation item")
    page.goto(page.base_url + "/moderation/?status=resolved")
    assert_fits(page, "resolved items")


def test_the_takedown_pages_fit_a_phone(phone_page, demo):
    from posts.models import Takedown

    page = phone_page
    login(page, "leader")
    page.goto(page.base_url + "/posts/takedowns/")
    assert_fits(page, "the takedowns list")
    takedown = Takedown.objects.order_by("pk").first()
    if takedown is not None:
        takedown.post.publications.update(url=LONG_LINK)
        page.goto(page.base_url + f"/posts/takedowns/{takedown.pk}/")
        assert_fits(page, "a takedown")
        shot(page, "takedown-phone")


def test_a_claimed_item_is_resolved_from_the_queue_without_javascript(browser, live_server, awkward_items):
    context = browser.new_context(viewport={"width": 390, "height": 844}, java_script_enabled=False)
    page = context.new_page()
    page.base_url = live_server.url
    try:
        login(page, "dsl")
        page.goto(page.base_url + "/moderation/")
        card = page.locator(f"#item-{awkward_items['long'].pk}")
        card.get_by_label("Decision").select_option("no_concern")
        card.get_by_label("Reason (kept in the record)").fill("A parent being silly; nothing shared.")
        card.get_by_role("button", name=re.compile("^Resolve")).click()
        page.wait_for_url(re.compile(r"/moderation/$"))
        assert page.get_by_text("Resolved and recorded.").is_visible()
        assert_fits(page, "the queue after resolving")
    finally:
        context.close()
