import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login, shot

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    "username, greeting",
    [("leader", "Helen"), ("deputy", "Daniel"), ("dsl", "Priya"), ("staff", "Chloe"), ("parent", "Grace"),
     ("parent2", "Sophie"), ("acorns_leader", "Ruth")],
)
def test_each_demo_role_logs_in_and_sees_its_home(page, demo, username, greeting):
    login(page, username)
    assert page.get_by_role("heading", level=1).inner_text() == f"Hello, {greeting}"
    shot(page, f"home-{username}")


def test_a_parent_home_fits_a_phone(phone_page, demo):
    login(phone_page, "parent")
    shot(phone_page, "home-parent-phone")
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone ({width}px)"


def test_a_wrong_password_shows_an_error(page, demo):
    page.goto(page.base_url + "/accounts/login/")
    page.get_by_label("Username").fill("leader")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("Please enter a correct username and password")).to_be_visible()
    shot(page, "login-error")


def test_a_leaders_menu_bar_fits_a_laptop_with_the_account_menu_on_it(page, demo):
    login(page, "leader")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280, "the page scrolls sideways"
    account = page.get_by_role("button", name="Helen Marsh").bounding_box()
    assert account["x"] + account["width"] <= 1280, "the account menu is pushed off the screen"
    page.get_by_role("button", name="Manage").click()
    expect(page.get_by_role("link", name="Inspection packs")).to_be_visible()
