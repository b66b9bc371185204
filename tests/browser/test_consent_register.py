"""Leadership's consent register, the printed photo list and a paper form, in a desktop browser."""

import re

import pytest

from tests.browser.conftest import login, shot
from tests.consent.factories import png_bytes

pytestmark = pytest.mark.browser


def test_the_leader_filters_the_register_and_opens_a_childs_evidence(page, demo):
    login(page, "leader")
    page.get_by_role("button", name="Consent").click()
    page.get_by_role("link", name="Consent register").first.click()
    page.get_by_role("heading", name="Consent register").wait_for()
    assert page.get_by_role("heading", name="Babies").is_visible() or "Babies" in page.content()
    shot(page, "consent-register-leader")
    page.get_by_label("State").select_option(label="Not asked")
    page.get_by_role("button", name="Filter").click()
    assert "state=not_asked" in page.url
    shot(page, "consent-register-filtered")
    page.get_by_role("link", name="Clear").click()
    page.get_by_role("link", name="Reuben Cooper").click()
    page.get_by_role("heading", name="Photo consent evidence: Reuben Cooper").wait_for()
    assert page.get_by_role("link", name="Scan of the signed form").is_visible()
    page.emulate_media(media="print")
    page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
    assert page.get_by_text("permission to share photographs").first.is_visible(), "printed evidence shows wording"
    shot(page, "consent-evidence-print")


def test_the_photo_list_prints_one_a4_page_per_room(page, demo):
    login(page, "staff")
    page.goto(page.base_url + "/consent/register/photo-list/")
    page.emulate_media(media="print")
    page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi
    assert not page.get_by_role("button", name="Print").is_visible()
    assert not page.locator("nav.navbar").is_visible()
    assert page.get_by_text("NO PHOTOS").first.is_visible()
    shot(page, "consent-photo-list-print")
    pdf = page.pdf(format="A4")
    pages = len(re.findall(rb"/Type\s*/Page(?!s)", pdf))
    assert pages == 3, f"one A4 page per room (Babies, Preschool, Toddlers), got {pages}"


def test_staff_record_a_paper_form_with_its_scan(page, demo, tmp_path):
    scan = tmp_path / "signed-form.png"
    scan.write_bytes(png_bytes())
    login(page, "staff")
    page.goto(page.base_url + "/consent/paper/")
    page.get_by_label("Child").select_option(label="Tobi Okafor (Toddlers)")
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Public marketing pages").check()
    page.get_by_label("Gives consent").check()
    page.get_by_label("Signed by").select_option(label="Emeka Okafor")
    page.get_by_label("Name as written on the form").fill("Emeka Okafor")
    page.get_by_label("Scan or photo of the signed form").set_input_files(str(scan))
    shot(page, "consent-paper-form")
    page.get_by_role("button", name="Record the form").click()
    assert "is in the consent record" in page.content(), page.locator("main").inner_text()
    shot(page, "consent-paper-recorded")


def test_the_leader_publishes_a_new_wording_version(page, demo):
    login(page, "leader")
    page.get_by_role("button", name="Consent").click()
    page.get_by_role("link", name="Consent wording").click()
    page.get_by_role("link", name="Publish a new version for Public marketing pages").click()
    assert "Publishing version 2 replaces version 1" in page.content()
    field = page.get_by_label("Wording")
    field.fill(field.input_value() + "\n\nWe may also use photos in our printed prospectus.")
    shot(page, "consent-wording-publish")
    page.get_by_role("button", name="Publish").click()
    assert page.get_by_text("Please confirm that you understand").is_visible()
    page.get_by_label("I understand that every family must agree").check()
    page.get_by_role("button", name="Publish").click()
    assert "Version 2 is published" in page.content()
    shot(page, "consent-wording-published")
