"""A leader requests an inspection pack, watches it being built and downloads it; then opens the trends."""

import io
import threading
import time
import zipfile

import pytest
from playwright.sync_api import expect

from inspection import services
from inspection.models import InspectionPack, PackDownload, PackStatus
from tests.browser.conftest import login, shot

pytestmark = pytest.mark.browser


def test_a_leader_requests_watches_and_downloads_a_pack(page, demo, monkeypatch):
    # The worker is played by this test: the request leaves the pack waiting, as a real broker would.
    monkeypatch.setattr(services.outbox, "enqueue", lambda *args, **kwargs: None)
    slow_progress = services._progress

    def visible_progress(pack_id, percent, step):
        slow_progress(pack_id, percent, step)
        time.sleep(0.6)  # long enough for the page's 2-second poll to see some steps

    monkeypatch.setattr(services, "_progress", visible_progress)

    login(page, "leader")
    page.get_by_role("button", name="Manage").click()
    page.get_by_role("link", name="Inspection packs").click()
    expect(page.get_by_role("heading", name="Inspection packs")).to_be_visible()
    shot(page, "inspection-1-packs")
    page.get_by_role("button", name="Build the pack").click()
    expect(page.get_by_role("heading", name="Building the pack")).to_be_visible()
    expect(page.get_by_text("Waiting for the worker")).to_be_visible()
    shot(page, "inspection-2-waiting")

    pack = InspectionPack.objects.get()
    worker = threading.Thread(target=services.build_pack, kwargs={"pack_id": pack.pk})
    worker.start()
    try:
        expect(page.locator("#pack-progress")).to_contain_text("% done", timeout=20_000)
        expect(page.locator("#pack-bar")).not_to_have_attribute("value", "0")
        shot(page, "inspection-3-building")
        expect(page.get_by_role("heading", name="Ready")).to_be_visible(timeout=60_000)
    finally:
        worker.join()
    shot(page, "inspection-4-ready")

    with page.expect_download() as info:
        page.get_by_role("link", name="Download the pack (ZIP)").click()
    download = info.value
    assert download.suggested_filename == InspectionPack.objects.get().filename
    with open(download.path(), "rb") as f, zipfile.ZipFile(io.BytesIO(f.read())) as archive:
        assert "inspection-pack.pdf" in archive.namelist()
        assert "csv/consent-register.csv" in archive.namelist()
    assert PackDownload.objects.filter(pack=pack, user__username="leader").count() == 1
    assert InspectionPack.objects.get().status == PackStatus.READY

    page.reload()
    expect(page.get_by_role("cell", name="Helen Marsh")).to_be_visible()
    shot(page, "inspection-5-download-recorded")


def test_a_leader_reads_the_trends(page, demo):
    login(page, "leader")
    page.goto(page.base_url + "/inspection/trends/")
    expect(page.get_by_role("img", name="Photo consent coverage, month by month")).to_be_visible()
    page.locator("summary", has_text="The figures").first.click()
    expect(page.get_by_role("table").first).to_be_visible()
    shot(page, "inspection-6-trends")
