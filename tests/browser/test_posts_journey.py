"""A post's whole journey in a real browser: a practitioner drafts with a photo and tags a child, a leader
approves and publishes, and the history shows every step."""

import io
import re

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from tests.browser.conftest import login, shot

pytestmark = pytest.mark.browser


def concert_photo() -> bytes:
    image = Image.new("RGB", (1600, 1200), (30, 60, 120))
    ImageDraw.Draw(image).ellipse((500, 300, 1100, 900), fill=(250, 200, 80))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def test_staff_drafts_a_photo_post_and_a_leader_approves_and_publishes_it(page, demo):
    login(page, "staff")
    page.goto(page.base_url + "/posts/new/")
    page.get_by_label("Caption").fill("Our youngest sang their hearts out at the Christmas concert.")
    page.get_by_label("Photos").set_input_files(
        [{"name": "concert.jpg", "mimeType": "image/jpeg", "buffer": concert_photo()}]
    )
    page.get_by_label("Families group").check()
    from posts.models import Occasion

    concert = Occasion.objects.get(name="Christmas concert", nursery__name="Kids Count")
    page.get_by_label("Occasion").select_option(label=str(concert))
    shot(page, "posts-01-new")
    page.get_by_role("button", name="Save draft").click()
    page.wait_for_url(re.compile(r"/posts/\d+/edit/$"))

    page.get_by_label("Description (alt text)").fill("Babies room children singing on the stage")
    page.get_by_label("Reuben Cooper (Babies)").check()
    page.get_by_role("button", name="Save photo 1").click()
    expect(page.get_by_text("Photo details saved.")).to_be_visible()
    expect(page.get_by_text("Reuben Cooper: consent holds").first).to_be_visible()
    shot(page, "posts-02-tagged")
    page.get_by_role("link", name="Done: review and submit").click()
    page.get_by_role("button", name="Submit for approval").click()
    expect(page.get_by_text("Sent to the leadership team for approval.")).to_be_visible()
    shot(page, "posts-03-submitted")
    post_url = page.url

    page.context.clear_cookies()
    login(page, "leader")
    page.get_by_role("link", name="Approvals", exact=True).first.click()
    expect(page.get_by_text("Our youngest sang their hearts out")).to_be_visible()
    shot(page, "posts-04-approval-queue")
    page.goto(post_url)
    page.get_by_role("button", name=re.compile(r"Approve version \d+")).click()
    expect(page.get_by_text("Approved.", exact=True)).to_be_visible()
    page.get_by_label("Address of the post on Families group").fill("https://www.facebook.com/groups/kidscountfamilies/posts/77")
    page.get_by_role("button", name="Publish now").click()
    expect(page.get_by_text("Published.", exact=True)).to_be_visible()
    history = page.locator("#post-history").locator("..")
    for step in ("Drafted", "Submitted for approval", "Approved", "Published"):
        expect(history.get_by_text(step, exact=True).first).to_be_visible()
    shot(page, "posts-05-published")


def test_leadership_sees_the_takedown_and_confirms_removal(page, demo):
    login(page, "leader")
    expect(page.get_by_role("heading", name="Posts to take down")).to_be_visible()
    page.get_by_role("link", name="Takedowns", exact=True).click()
    shot(page, "posts-06-takedowns")
    page.get_by_role("link", name="Confirm removal").first.click()
    page.get_by_label("How it was removed (optional)").fill("Deleted from the public Page.")
    page.get_by_role("button", name="I have removed it: confirm").click()
    expect(page.get_by_text("Removal confirmed and recorded.")).to_be_visible()
    shot(page, "posts-07-takedown-confirmed")


def test_the_approval_queue_fits_a_phone(phone_page, demo):
    login(phone_page, "leader")
    phone_page.goto(phone_page.base_url + "/posts/approvals/")
    shot(phone_page, "posts-08-approvals-phone")
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390


@pytest.mark.parametrize("username, paths", [
    ("leader", ["/posts/scheduled/", "/posts/published/", "/posts/channels/", "/posts/channels/new/",
                "/posts/occasions/new/", "/posts/"]),
    ("staff", ["/posts/", "/posts/new/", "/posts/published/"]),
])
def test_every_posts_page_passes_the_accessibility_check_on_a_tablet(browser, live_server, demo, username, paths):
    from tests.browser.conftest import _finish, _open_page

    context, tablet = _open_page(browser, {"width": 820, "height": 1180})
    tablet.base_url = live_server.url
    login(tablet, username)
    for path in paths:
        tablet.goto(tablet.base_url + path)
        assert tablet.evaluate("document.documentElement.scrollWidth") <= 820, path
        shot(tablet, f"posts-tablet-{username}{path.replace('/', '-').rstrip('-')}")
    _finish(tablet)
    context.close()
