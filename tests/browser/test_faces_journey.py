"""Every face accounted for, in a real browser on a phone: staff upload a group photo, the worker counts
three faces, staff link two to the children they tagged, using the keyboard."""

import re

import pytest
from playwright.sync_api import expect

from consent.models import Scope
from nursery.models import Child
from tests.browser.conftest import login, shot
from tests.factories import grant
from tests.posts.scenes import scene

pytestmark = pytest.mark.browser


def group_photo() -> bytes:
    # Three faces, large and nearly upright: the detector finds exactly these three (tests/posts/test_faces.py).
    return scene(21, faces=3, size=(1600, 1200), face_sides=(180, 260), max_angle=5).jpeg()


def test_staff_account_for_each_face_on_a_phone_with_the_keyboard(phone_page, demo):
    page = phone_page
    ella, reuben = (Child.objects.get(first_name=name) for name in ("Ella", "Reuben"))
    for child in (ella, reuben):
        grant(child, Scope.CLOSED)
    login(page, "staff")
    page.goto(page.base_url + "/posts/new/")
    page.get_by_label("Caption").fill("Our Babies room at the Christmas concert.")
    page.get_by_label("Photos").set_input_files([{"name": "group.jpg", "mimeType": "image/jpeg",
                                                  "buffer": group_photo()}])
    page.get_by_label("Families group").check()
    occasion = page.get_by_label("Occasion")
    # The demo dates its occasions from today, so the label's date moves: pick it by name.
    occasion.select_option(label=occasion.locator("option", has_text="Christmas concert").inner_text().strip())
    page.get_by_role("button", name="Save draft").click()
    page.wait_for_url(re.compile(r"/posts/\d+/edit/$"))

    faces = page.locator("section.faces")
    expect(faces.get_by_text("3 faces found.")).to_be_visible()
    expect(faces.locator("svg rect")).to_have_count(3)
    page.get_by_label("Description (alt text)").fill("Three children of the Babies room singing")
    page.get_by_label("Ella Lewis (Babies)").check()
    page.get_by_label("Reuben Cooper (Babies)").check()
    page.get_by_role("button", name="Save photo 1").click()
    expect(page.get_by_text("Photo details saved.")).to_be_visible()

    page.get_by_role("combobox", name="Face 1").select_option(label="Ella Lewis")
    page.get_by_role("combobox", name="Face 2").select_option(label="Reuben Cooper")
    page.get_by_role("combobox", name="Face 3").focus()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Save the faces of photo 1")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_text("Faces in photo 1 saved.")).to_be_visible()
    expect(faces.get_by_text("1 not accounted for yet.")).to_be_visible()
    expect(faces.locator(".face-box--done")).to_have_count(2)
    # Nothing wider than the phone's screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "faces-01-accounting-phone")
