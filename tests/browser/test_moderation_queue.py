import re

import pytest

from tests.browser.conftest import login, shot

pytestmark = pytest.mark.browser


def test_the_safeguarding_lead_claims_and_resolves_a_flagged_comment(page, demo):
    login(page, "dsl")
    assert page.get_by_role("heading", name="Comment moderation").is_visible()
    page.get_by_role("link", name="Review the queue").click()
    page.wait_for_url(re.compile(r"/moderation/$"))
    shot(page, "moderation-queue")

    card = page.locator("article.moderation-item", has_text="looks so happy in the front row")
    assert card.locator("mark.rule-hit").first.inner_text().startswith("Amara Okafor")
    card.get_by_role("button", name=re.compile("^Claim")).click()
    card = page.locator("article.moderation-item", has_text="You have claimed this item.")
    card.get_by_label("Decision").select_option("hide")
    card.get_by_label("Reason (kept in the record)").fill("Names a child in full on the public page.")
    shot(page, "moderation-claimed")
    card.get_by_role("button", name=re.compile("^Resolve")).click()
    resolved = page.locator("article.moderation-item", has_text="Resolved and recorded.")
    assert "Hide on the platform by Priya Shah" in resolved.inner_text()
    resolved.locator("summary").click()
    assert "Awaiting platform action" in resolved.inner_text()
    shot(page, "moderation-resolved")


def test_a_parent_reports_a_concern_on_a_phone(phone_page, demo):
    login(phone_page, "parent")
    phone_page.get_by_role("link", name="Report a concern").last.click()
    phone_page.get_by_label("What did you see, or what worries you?").fill(
        "A photo from the Christmas concert with other children was posted on a public page.")
    phone_page.get_by_role("button", name="Send to the safeguarding lead").click()
    assert phone_page.get_by_text("Your concern has gone to the safeguarding lead").is_visible()
    shot(phone_page, "moderation-concern-parent-phone")
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone ({width}px)"
