"""Leadership brings families in on a phone: invite a parent who sets a password and grants consent; import
the roll through the preview page."""

import re
from pathlib import Path

import pytest
from django.core import mail
from playwright.sync_api import expect

from tests.browser.conftest import login, shot

pytestmark = pytest.mark.browser
SAMPLE = Path(__file__).resolve().parents[2] / "docs" / "sample_roll.csv"


def fits_the_phone(page):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone ({width}px)"


def test_a_leader_invites_a_parent_who_sets_a_password_and_grants_consent(phone_page, demo, browser):
    page = phone_page
    login(page, "leader")
    page.goto(page.base_url + "/people/children/?q=Isla")
    page.get_by_role("link", name="Isla Hughes").click()
    page.get_by_role("link", name="Add a parent or carer").click()
    page.get_by_label("Email").fill("anna.hughes@example.org")
    page.get_by_label("First name").fill("Anna")
    page.get_by_label("Last name").fill("Hughes")
    page.get_by_label("Relationship").fill("stepmother")
    shot(page, "people-invite-1-form")
    fits_the_phone(page)
    page.get_by_role("button", name="Send the invitation").click()
    expect(page.locator("body")).to_contain_text("Invitation emailed to anna.hughes@example.org")
    shot(page, "people-invite-2-sent")
    fits_the_phone(page)

    [message] = [m for m in mail.outbox if m.to == ["anna.hughes@example.org"]]
    link = re.search(r"http://\S+(/invitation/\S+/)", message.body).group(1)
    page.context.clear_cookies()
    page.goto(page.base_url + link)
    expect(page.get_by_role("heading", name="Welcome to Kids Count")).to_be_visible()
    assert "/invitation/accept/" in page.url  # the token left the address bar
    page.locator("#id_new_password1").fill("a-long-Passphrase-42")
    page.locator("#id_new_password2").fill("a-long-Passphrase-42")
    shot(page, "people-invite-3-set-password")
    fits_the_phone(page)
    page.get_by_role("button", name="Set my password").click()
    page.get_by_role("heading", name="My children's photos").wait_for()
    isla = page.get_by_role("region", name="Isla Hughes")
    isla.get_by_role("link", name="Read and decide for Isla, Private parents' page").click()
    page.get_by_label("I have read this and I agree").check()
    page.get_by_label("Type your full name as your signature").fill("Anna Hughes")
    page.get_by_role("button", name="Give consent").click()
    assert "Photos may be shared on our private parents' page" in page.locator("#current-state").inner_text()
    shot(page, "people-invite-4-granted")
    fits_the_phone(page)


def test_a_leader_imports_the_sample_roll_through_the_preview(phone_page, demo):
    page = phone_page
    login(page, "leader")
    page.goto(page.base_url + "/people/import/")
    page.get_by_label("Roll CSV").set_input_files(str(SAMPLE))
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_text("5 to add")).to_be_visible()
    expect(page.locator("body")).to_contain_text("Rainbows")
    shot(page, "people-import-1-preview")
    fits_the_phone(page)
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.locator("body")).to_contain_text("Imported: 5 row(s) added")
    page.goto(page.base_url + "/people/children/?q=Ruby")
    expect(page.get_by_role("link", name="Ruby Adeyemi")).to_be_visible()
    shot(page, "people-import-2-done")
    fits_the_phone(page)
