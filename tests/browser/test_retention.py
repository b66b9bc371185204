"""A leader reads what retention will remove, places and releases a legal hold, changes the schedule within
its limits, answers a subject access request with a ZIP and looks at what an erasure request would do."""

import pytest
from playwright.sync_api import expect

from retention.models import LegalHold, RetentionSchedule, SubjectAccessRequest
from tests.browser.conftest import login, shot

pytestmark = pytest.mark.browser


def test_a_leader_manages_retention_holds_and_requests(page, demo):
    login(page, "leader")
    page.goto(page.base_url + "/retention/")
    expect(page.get_by_role("heading", name="What will be deleted in the next 30 days")).to_be_visible()
    shot(page, "retention-1-overview")

    page.get_by_role("link", name="Place a legal hold").click()
    page.get_by_label("Child").select_option(label="Amara Okafor")
    page.get_by_label("Reason").fill("The family have made a claim about a photo.")
    shot(page, "retention-2-hold-form")
    page.get_by_role("button", name="Place the hold").click()
    expect(page.get_by_text("nothing that touches it will be deleted until released")).to_be_visible()
    hold = LegalHold.objects.get()
    page.get_by_label("Why the hold is no longer needed").fill("Claim settled.")
    page.get_by_role("button", name="Release the hold").click()
    expect(page.get_by_text("released.")).to_be_visible()
    hold.refresh_from_db()
    assert not hold.is_active

    page.goto(page.base_url + "/retention/schedule/")
    page.get_by_label("Consent decisions (with paper scans) and requests about a child (years)").fill("40")
    page.get_by_role("button", name="Save the schedule").click()
    expect(page.get_by_text("less than or equal to 25")).to_be_visible()
    shot(page, "retention-3-schedule-refused")
    page.get_by_label("Consent decisions (with paper scans) and requests about a child (years)").fill("8")
    page.get_by_role("button", name="Save the schedule").click()
    expect(page.get_by_text("Retention schedule saved")).to_be_visible()
    assert RetentionSchedule.objects.get().consent_years == 8

    page.goto(page.base_url + "/retention/access/")
    page.get_by_label("Whose data").select_option(label="Grace Okafor")
    page.get_by_role("button", name="Record and build the export").click()
    expect(page.get_by_text("the export is being built")).to_be_visible()
    sar = SubjectAccessRequest.objects.get()
    sar.refresh_from_db()
    assert sar.status == SubjectAccessRequest.Status.READY
    page.reload()
    shot(page, "retention-4-subject-access")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download ZIP").click()
    assert download.value.suggested_filename == f"subject-access-{sar.pk}.zip"

    page.goto(page.base_url + "/retention/erasure/")
    page.get_by_label("Whose data").select_option(label="Grace Okafor")
    page.get_by_role("button", name="Record the request").click()
    expect(page.get_by_role("heading", name="What can be erased now, and what must be kept")).to_be_visible()
    expect(page.get_by_text("Parent or carer of children on roll")).to_be_visible()
    shot(page, "retention-5-erasure-assessment")
