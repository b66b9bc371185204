"""Every face accounted for, in a real browser on a phone: staff upload a group photo, the worker counts
three faces, staff link two to the children they tagged, using the keyboard; a leader blurs the third face
and publishes, and the channel's copy is the blurred one."""

import io
import re

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

from consent.models import Scope
from nursery.models import Child
from posts.models import Post
from tests.browser.conftest import login, shot
from tests.factories import grant
from tests.posts.scenes import scene

pytestmark = pytest.mark.browser


def group_photo() -> bytes:
    # Three faces, large and nearly upright: the detector finds exactly these three (tests/posts/test_faces.py).
    return scene(21, faces=3, size=(1600, 1200), face_sides=(180, 260), max_angle=5).jpeg()


def test_staff_account_for_two_faces_and_a_leader_blurs_the_third_and_publishes(phone_page, demo):
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

    # Staff submit with face 3 still open: a warning, not a refusal.
    page.get_by_role("link", name="Done: review and submit").click()
    page.get_by_role("button", name="Submit for approval").click()
    expect(page.get_by_text("Photo 1: face 3 is not accounted for").first).to_be_visible()
    post_url = page.url

    # A leader blurs face 3 from its row, with the keyboard, then approves and publishes.
    page.context.clear_cookies()
    login(page, "leader")
    page.goto(post_url.rstrip("/") + "/edit/")
    blur = page.get_by_role("checkbox", name="Blur face 3 in every copy")
    blur.focus()
    page.keyboard.press("Space")
    expect(blur).to_be_checked()
    save = page.get_by_role("button", name="Save the blurring of photo 1")
    save.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text("Blurring in photo 1 saved.")).to_be_visible()
    expect(faces.get_by_text("Every face is accounted for.")).to_be_visible()
    expect(faces.locator(".face-box--blur")).to_have_count(1)
    preview = page.get_by_role("img", name="Photo 1 as the closed (parents' pages) channels receive it")
    preview.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=preview.element_handle())
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "faces-02-leader-blurs-face-3-phone")

    page.goto(post_url)
    page.get_by_role("button", name=re.compile(r"Approve version \d+")).click()
    expect(page.get_by_text("Approved.", exact=True)).to_be_visible()
    page.get_by_label("Address of the post on Families group").fill("https://www.facebook.com/groups/kids/posts/9")
    page.get_by_role("button", name="Publish now").click()
    expect(page.get_by_text("Published.", exact=True)).to_be_visible()
    history = page.locator("#post-history").locator("..")
    expect(history.get_by_text("Blur face 3 in photo 1 (not accounted for) in every copy.")).to_be_visible()

    # What the channel is given to post by hand is the copy with face 3 blurred, not the stored photo.
    download = page.get_by_role("link", name="photo 1", exact=True)
    copy = page.request.get(page.base_url + download.get_attribute("href")).body()
    post = Post.objects.get(pk=int(post_url.rstrip("/").rsplit("/", 1)[1]))
    image = post.images.get()
    stored = image.image.open("rb").read()
    assert copy != stored
    third = image.faces.get(number=3)
    x, y, w, h = third.x, third.y, third.width, third.height
    sent = np.asarray(Image.open(io.BytesIO(copy)).convert("L"), dtype=np.int16)[y:y + h, x:x + w]
    kept = np.asarray(Image.open(io.BytesIO(stored)).convert("L"), dtype=np.int16)[y:y + h, x:x + w]
    assert np.abs(sent - kept).mean() > 12
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "faces-03-published-with-face-3-blurred-phone")
