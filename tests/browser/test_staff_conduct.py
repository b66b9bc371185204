"""Staff acknowledge the staff policy; a leader records a concern and takes it to its outcome; a parent
acknowledges the parents' rules on a phone."""

from datetime import timedelta

import pytest
from django.utils import timezone

from nursery.models import Notification
from staff_conduct.models import Acknowledgement, Incident, Outcome, Status
from tests.browser.conftest import login, shot
from tests.staff_conduct.factories import png_bytes

pytestmark = pytest.mark.browser


def test_staff_acknowledge_the_policy_and_a_leader_records_an_incident_to_its_outcome(page, demo):
    login(page, "staff")
    first_card = page.locator("main .row .card").first
    assert "Please read and acknowledge the staff social media policy" in first_card.inner_text()
    shot(page, "conduct-1-staff-home-policy-first")
    first_card.get_by_role("link", name="Read and acknowledge").click()
    assert page.get_by_text("Not name the setting you work at.").is_visible()
    page.get_by_role("button", name="I have read it and will follow it").click()
    assert page.get_by_text("This field is required.").is_visible()
    shot(page, "conduct-2-staff-policy-needs-a-name")
    page.get_by_label("Type your full name").fill("Chloe Bennett")
    page.get_by_role("button", name="I have read it and will follow it").click()
    page.wait_for_url(page.base_url + "/")
    assert page.get_by_text("you have acknowledged the staff social media policy").is_visible()
    assert "Please read and acknowledge" not in page.locator("main").inner_text()
    shot(page, "conduct-3-staff-acknowledged")
    assert Acknowledgement.objects.filter(user__username="staff", signature="Chloe Bennett").exists()

    page.context.clear_cookies()
    login(page, "leader")
    shot(page, "conduct-4-leader-home")
    page.goto(page.base_url + "/conduct/report/")
    page.get_by_label("Who is the concern about?").select_option(label="Tom Fletcher")
    page.get_by_label("When did it happen?").fill((timezone.localdate() - timedelta(days=1)).isoformat())
    page.get_by_label("Where did you see it?").fill("Instagram story")
    page.get_by_label("What happened?").fill("Tom's Instagram story shows the Toddlers room with children's "
                                             "paintings and names the nursery.")
    page.get_by_label("Not name the setting you work at.").check()
    page.get_by_label("Screenshot or PDF (optional)").set_input_files(
        {"name": "story.png", "mimeType": "image/png", "buffer": png_bytes((300, 500))})
    shot(page, "conduct-5-leader-records-a-concern")
    page.get_by_role("button", name="Send to the leadership team").click()
    page.get_by_role("heading", name="Incident", exact=False).first.wait_for()
    incident = Incident.objects.get(where="Instagram story")
    assert page.url.endswith(f"/conduct/incidents/{incident.pk}/")

    assign = page.get_by_role("region", name="Assign an investigator")
    assign.get_by_label("Investigator (leadership team)").select_option(label="Daniel Reid")
    assign.get_by_label("Investigation due by").fill((timezone.localdate() + timedelta(days=7)).isoformat())
    assign.get_by_role("button", name="Assign").click()
    assert page.get_by_text("Investigator assigned; they have been told.").is_visible()
    page.get_by_role("textbox", name="Investigation note").fill("Spoke to Tom; he took the story down at once.")
    page.get_by_role("button", name="Add note").click()
    shot(page, "conduct-6-under-investigation")

    outcome = page.get_by_role("region", name="Decide the outcome")
    outcome.get_by_label("Outcome").select_option(label="Verbal warning")
    outcome.get_by_label("Reason").fill("Named the nursery on a public story; removed promptly when asked.")
    outcome.get_by_role("button", name="Record the outcome").click()
    assert page.get_by_text("The staff member has been told the outcome").is_visible()
    page.get_by_role("region", name="Close the incident").get_by_role("button", name="Close").click()
    assert page.get_by_text("Incident closed.").is_visible()
    timeline = page.get_by_role("region", name="Timeline").inner_text()
    for step in ("Reported", "Investigator assigned", "Note", "Outcome decided", "Incident closed"):
        assert step in timeline
    shot(page, "conduct-7-closed-with-outcome")
    incident.refresh_from_db()
    assert (incident.status, incident.outcome) == (Status.CLOSED, Outcome.VERBAL_WARNING)
    told = Notification.objects.get(recipient__username="staff2", subject__contains="outcome")
    assert told.url == "" and "Verbal warning" in told.body

    page.goto(page.base_url + "/conduct/incidents/")
    shot(page, "conduct-8-incident-list")
    page.goto(page.base_url + "/conduct/acknowledgements/")
    shot(page, "conduct-9-acknowledgements")


def test_a_parent_acknowledges_the_parents_rules_on_a_phone(phone_page, demo):
    page = phone_page
    login(page, "parent")
    first_card = page.locator("main .row .card").first
    assert "parents' and visitors' social media rules" in first_card.inner_text()
    shot(page, "conduct-parent-1-home")
    first_card.get_by_role("link", name="Read and acknowledge").click()
    page.get_by_label("Type your full name").fill("Grace Okafor")
    shot(page, "conduct-parent-2-rules")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone ({width}px)"
    page.get_by_role("button", name="I have read it and will follow it").click()
    page.wait_for_url(page.base_url + "/")
    assert Acknowledgement.objects.filter(user__username="parent").exists()
    shot(page, "conduct-parent-3-done")
