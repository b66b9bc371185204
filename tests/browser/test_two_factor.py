"""A leader sets up two-factor sign-in on a phone (QR code and key), then signs in with a code."""

import base64

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shot

pytestmark = pytest.mark.browser


def code(secret: str, *, step: int = 0) -> str:
    from django_otp.oath import TOTP

    totp = TOTP(base64.b32decode(secret.replace(" ", "")))
    totp.time = totp.time + 30 * step
    return f"{totp.token():06d}"


def password(page, username):
    page.goto(page.base_url + "/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("kidscount-demo")
    page.get_by_role("button", name="Log in").click()


def test_a_leader_sets_up_two_factor_on_a_phone_and_signs_in_with_a_code(phone_page, demo, settings):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    settings.REQUIRE_TWO_FACTOR = True
    TOTPDevice.objects.filter(user__username="deputy").delete()  # a leader who has not set it up yet
    page = phone_page
    password(page, "deputy")
    expect(page.get_by_role("heading", name="Set up two-factor sign-in")).to_be_visible()
    expect(page.get_by_role("img", name="QR code to scan with your authenticator app")).to_be_visible()
    secret = page.locator("#secret").inner_text()
    shot(page, "two-factor-enrol-phone")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the set-up page scrolls sideways on a phone ({width}px)"
    page.get_by_label("Code from the app").fill(code(secret))
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(page.get_by_role("heading", name="Two-factor sign-in is on")).to_be_visible()
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    shot(page, "two-factor-recovery-codes")
    page.get_by_role("link", name="I have kept them: continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Daniel")

    page.context.clear_cookies()
    password(page, "deputy")
    expect(page.get_by_role("heading", name="Enter the code from your authenticator app")).to_be_visible()
    page.get_by_label("Code").fill("000000")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("That code is not right")).to_be_visible()
    shot(page, "two-factor-wrong-code")
    page.wait_for_timeout(1100)  # django-otp refuses for a second after a wrong code
    page.get_by_label("Code").fill(code(secret, step=1))  # the set-up code cannot be used twice
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Daniel")
