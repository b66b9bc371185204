"""A parent on a phone gives, then withdraws, photo consent and sees the state change each time."""

import pytest

from consent.models import ConsentDecision, Decision
from tests.browser.conftest import login, shot

pytestmark = pytest.mark.browser


def fits_the_phone(page):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone ({width}px)"


def test_a_parent_grants_then_withdraws_consent_on_a_phone(phone_page, demo):
    page = phone_page
    login(page, "parent")
    page.get_by_role("link", name="Photo consent").click()
    page.get_by_role("heading", name="My children's photos").wait_for()
    amara = page.get_by_role("region", name="Amara Okafor")
    assert "Not on our private parents' page" in amara.inner_text()
    shot(page, "consent-parent-1-my-children")
    fits_the_phone(page)

    amara.get_by_role("link", name="Read and decide for Amara, Private parents' page").click()
    assert "What you are agreeing to" in page.content()
    page.get_by_role("button", name="Give consent").click()  # nothing ticked, no name: refused
    assert page.get_by_text("Please tick to say you have read it.").is_visible()
    shot(page, "consent-parent-2-refused")
    page.get_by_label("I have read this and I agree").check()
    page.get_by_label("Type your full name as your signature").fill("Grace Okafor")
    shot(page, "consent-parent-3-signed")
    page.get_by_role("button", name="Give consent").click()
    state = page.locator("#current-state")
    assert "Photos may be shared on our private parents' page" in state.inner_text()
    assert "by you" in state.inner_text()
    shot(page, "consent-parent-4-granted")
    fits_the_phone(page)

    page.get_by_role("link", name="Withdraw consent").click()
    assert "You do not need to give a reason" in page.content()
    shot(page, "consent-parent-5-confirm-withdrawal")
    page.get_by_role("button", name="Yes, stop photos").click()
    assert "Not on our private parents' page" in page.locator("#current-state").inner_text()
    assert page.get_by_role("heading", name="What happens next").is_visible()
    shot(page, "consent-parent-6-withdrawn")
    fits_the_phone(page)

    page.get_by_role("link", name="Every decision for Amara").click()
    entries = page.locator("ol.list-group > li")
    assert entries.count() == 2
    assert "Withdrawn" in entries.nth(0).inner_text() and "Granted" in entries.nth(1).inner_text()
    entries.nth(1).get_by_text("Wording version 1").click()
    assert "I give Kids Count permission" in entries.nth(1).inner_text()
    shot(page, "consent-parent-7-history")
    fits_the_phone(page)

    page.get_by_role("link", name="My children's photos").first.click()
    assert "Not on our private parents' page" in page.get_by_role("region", name="Amara Okafor").inner_text()
    decisions = list(ConsentDecision.objects.filter(guardian__username="parent").order_by("pk"))
    assert [d.decision for d in decisions] == [Decision.GRANTED, Decision.WITHDRAWN]
    assert decisions[0].signature == "Grace Okafor" and decisions[0].user_agent
