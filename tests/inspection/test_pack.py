"""The inspection pack: what the PDF and the CSV files say, who may have it, and how long."""

import csv
import io
import zipfile
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from consent.models import Decision, Scope
from inspection import services
from inspection.audit import Period
from inspection.models import InspectionPack, PackDownload, PackStatus
from nursery.errors import ServiceError
from posts.models import PostStatus, Publication, Takedown
from staff_conduct import services as conduct_services
from staff_conduct.models import Source
from tests.consent.factories import wordings
from tests.factories import ChildFactory, ConsentDecisionFactory, GuardianshipFactory
from tests.posts.factories import ChannelFactory, PostFactory, PostImageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def story(world):
    """Amara's parent granted both scopes; a public post pictured her; then the parent withdrew public consent
    and the post was taken down within the deadline. Isla (no consent) is on roll too; a whistleblowing
    report was made about the safeguarding lead."""
    now = timezone.now()
    texts = wordings(world.nursery)
    for scope in Scope.values:
        ConsentDecisionFactory(child=world.child, guardian=world.parent, scope=scope, wording=texts[scope],
                               decided_at=now - timedelta(days=40))
    ChildFactory(nursery=world.nursery, room=world.child.room, first_name="Isla", last_name="Hughes")
    channel = ChannelFactory(nursery=world.nursery, audience=Scope.PUBLIC)
    post = PostFactory(nursery=world.nursery, author=world.leader, status=PostStatus.PUBLISHED,
                       caption="Sports day", channels=[channel])
    PostImageFactory(post=post, children=[world.child])
    Publication.objects.create(post=post, channel=channel, published_at=now - timedelta(days=30),
                               published_by=world.leader, url="https://example.org/p/1")
    withdrawal = ConsentDecisionFactory(child=world.child, guardian=world.parent, scope=Scope.PUBLIC,
                                        decision=Decision.WITHDRAWN, signature="", wording=texts[Scope.PUBLIC],
                                        decided_at=now - timedelta(days=5))
    Takedown.objects.create(
        nursery=world.nursery, post=post, child=world.child, scope=Scope.PUBLIC, reason="Consent withdrawn",
        opened_at=withdrawal.recorded_at, deadline=withdrawal.recorded_at + timedelta(hours=24),
        next_escalation_at=withdrawal.recorded_at + timedelta(hours=24),
        confirmed_at=withdrawal.recorded_at + timedelta(hours=3), confirmed_by=world.leader,
    )
    conduct_services.report_incident(
        world.practitioner, nursery=world.nursery, subject=world.dsl, source=Source.WHISTLEBLOWING,
        occurred_on=timezone.localdate(), description="Shared a photo in a private group.",
    )
    world.dsl.first_name, world.dsl.last_name = "Priya", "Shah"
    world.dsl.save()
    return world


def built(world, **period) -> InspectionPack:
    period = Period(**period) if period else Period.last_months(12)
    pack = services.request_pack(world.leader, nursery=world.nursery, period=period)
    assert services.build_pack(pack_id=pack.pk)
    pack.refresh_from_db()
    return pack


def read(pack) -> tuple[str, dict[str, list[dict]]]:
    with pack.file.open("rb") as f, zipfile.ZipFile(io.BytesIO(f.read())) as archive:
        pdf = PdfReader(io.BytesIO(archive.read("inspection-pack.pdf")))
        text = "\n".join(page.extract_text() for page in pdf.pages)
        tables = {
            name[4:-4]: list(csv.DictReader(io.StringIO(archive.read(name).decode())))
            for name in archive.namelist() if name.startswith("csv/")
        }
    return " ".join(text.split()), tables


def test_the_pack_holds_a_pdf_and_the_same_tables_as_csv(story):
    pack = built(story)
    assert pack.status == PackStatus.READY and pack.progress == 100
    assert pack.size > 1000 and len(pack.sha256) == 64
    text, tables = read(pack)
    assert set(tables) == {
        "summary", "consent-register", "consent-ledger", "posts-published", "withdrawals-and-takedowns",
        "moderation-comments-by-platform", "moderation-flagged-by-category", "moderation-time-to-review",
        "moderation-escalations", "incidents-by-status", "incidents-by-outcome", "policy-acknowledgements",
    }
    assert "Inspection pack" in text and "Kids Count" in text
    for title in ("Consent register by room", "Consent ledger of each child", "Withdrawals and the takedowns",
                  "Time to review, per priority", "Policy acknowledgement completion", "Photo consent wordings"):
        assert title in text


def test_the_register_counts_coverage_per_room_and_scope(story):
    _, tables = read(built(story))
    preschool = next(r for r in tables["consent-register"] if r["Room"] == "Preschool")
    assert preschool["Children on roll"] == "2"
    assert preschool["Private pages: consent"] == "1" and preschool["Private pages: coverage"] == "50%"
    assert preschool["Public pages: consent"] == "0", "Amara's public consent was withdrawn"


def test_consent_at_publication_is_as_it_was_then_for_a_child_who_withdrew_later(story):
    text, tables = read(built(story))
    [row] = tables["posts-published"]
    assert row["Child pictured"] == "Amara Okafor"
    assert row["Consent at publication"] == "Granted"
    assert row["Scope needed"] == "Public marketing pages"
    assert "Amara Okafor" in text and "Granted" in text
    ledger = [r for r in tables["consent-ledger"] if r["Child"] == "Amara Okafor"]
    assert [r["Decision"] for r in ledger] == ["Granted", "Granted", "Withdrawn"]
    assert all(r["Wording"] == "v1" for r in ledger)


def test_withdrawals_show_the_takedown_against_its_deadline(story):
    text, tables = read(built(story))
    [row] = tables["withdrawals-and-takedowns"]
    assert row["Child"] == "Amara Okafor" and row["Time to removal"].startswith("3 h")
    assert row["Within 24 h deadline"] == "Yes"
    assert "Within 24 h deadline" in text


def test_no_subject_or_whistleblower_is_named(story):
    text, tables = read(built(story))
    everything = text + repr(tables)
    for person in (story.dsl, story.practitioner):
        assert person.get_full_name() not in everything
        assert person.username not in everything
    reported = {r["Status"]: r["Incidents"] for r in tables["incidents-by-status"]}
    assert reported["Reported"] == "1"


def test_a_child_who_left_but_was_pictured_is_in_the_pack(story):
    post = PostFactory(nursery=story.nursery, author=story.leader, status=PostStatus.PUBLISHED)
    leaver = ChildFactory(nursery=story.nursery, first_name="Noah", last_name="Left",
                          joined_on=timezone.localdate() - timedelta(days=300),
                          left_on=timezone.localdate() - timedelta(days=2))
    PostImageFactory(post=post, children=[leaver])
    Publication.objects.create(post=post, channel=post.channels.get(), published_at=timezone.now() - timedelta(days=9),
                               published_by=story.leader)
    ChildFactory(nursery=story.nursery, first_name="Olga", last_name="Gone",
                 joined_on=timezone.localdate() - timedelta(days=300), left_on=timezone.localdate() - timedelta(days=2))
    text, tables = read(built(story))
    assert "Noah Left" in text
    assert "Olga Gone" not in text
    assert next(r for r in tables["posts-published"] if r["Child pictured"] == "Noah Left")["Consent at publication"] \
        == "Not asked"


def test_the_period_limits_what_is_counted(story):
    long_ago = timezone.localdate() - timedelta(days=800)
    _, tables = read(built(story, start=long_ago, end=long_ago + timedelta(days=30)))
    assert tables["posts-published"] == []
    assert tables["withdrawals-and-takedowns"] == []


def test_only_leadership_may_request(world):
    for user in (world.dsl, world.practitioner, world.parent, world.outsider):
        with pytest.raises(ServiceError):
            services.request_pack(user, nursery=world.nursery, period=Period.last_months(12))


def test_building_twice_builds_once(story):
    pack = built(story)
    assert services.build_pack(pack_id=pack.pk) is False


def test_a_lost_build_is_started_again_by_the_sweep(story):
    pack = services.request_pack(story.leader, nursery=story.nursery, period=Period.last_months(12))
    assert services.waiting_packs(now=timezone.now()) == [], "not yet: its task may still be on its way"
    assert services.waiting_packs(now=timezone.now() + timedelta(minutes=6)) == [pack.pk]
    assert services.build_pack(pack_id=pack.pk)
    InspectionPack.objects.filter(pk=pack.pk).update(status=PackStatus.BUILDING, started_at=timezone.now())
    assert services.waiting_packs(now=timezone.now() + timedelta(minutes=6)) == [], "a build is running"
    assert services.waiting_packs(now=timezone.now() + timedelta(minutes=16)) == [pack.pk], "its worker died"


def test_the_sweep_task_deletes_expired_files(story):
    from inspection.tasks import sweep_inspection_packs

    pack = built(story)
    InspectionPack.objects.filter(pk=pack.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert sweep_inspection_packs.apply().get() == {"restarted": 0, "expired": 1}
    pack.refresh_from_db()
    assert pack.status == PackStatus.EXPIRED and not pack.file


def test_the_requester_is_emailed_a_link_when_it_is_ready(story, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        pack = services.request_pack(story.leader, nursery=story.nursery, period=Period.last_months(12))
    pack.refresh_from_db()
    assert pack.status == PackStatus.READY, "the task ran after commit"
    [mail] = [m for m in mailoutbox if "inspection pack" in m.subject.lower()]
    assert mail.to == [story.leader.email]
    assert reverse("inspection:pack", kwargs={"pk": pack.pk}) in mail.body


def test_a_download_is_recorded_and_the_link_expires(client, story):
    pack = built(story)
    client.force_login(story.deputy)
    response = client.get(reverse("inspection:pack_download", kwargs={"pk": pack.pk}))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert b"".join(response.streaming_content)[:2] == b"PK"
    [download] = PackDownload.objects.all()
    assert download.user == story.deputy and download.pack == pack
    page = client.get(reverse("inspection:pack", kwargs={"pk": pack.pk}))
    assert "Daniel Reid" in page.content.decode()

    assert services.expire_packs(now=pack.expires_at) == 1
    pack.refresh_from_db()
    assert pack.status == PackStatus.EXPIRED and not pack.file
    response = client.get(reverse("inspection:pack_download", kwargs={"pk": pack.pk}))
    assert response.status_code == 410
    assert PackDownload.objects.count() == 1


def test_an_unexpired_pack_is_refused_after_its_time_even_before_the_sweep(client, story, settings):
    pack = built(story)
    InspectionPack.objects.filter(pk=pack.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    client.force_login(story.leader)
    assert client.get(reverse("inspection:pack_download", kwargs={"pk": pack.pk})).status_code == 410


def test_requesting_from_the_page_redirects_to_its_progress(client, world):
    client.force_login(world.leader)
    today = timezone.localdate()
    response = client.post(reverse("inspection:packs"), {"start": today - timedelta(days=30), "end": today})
    pack = InspectionPack.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("inspection:pack", kwargs={"pk": pack.pk})
    page = client.get(response["Location"])
    assert b'hx-trigger="every 2s"' in page.content and b"<progress" in page.content
    assert b'http-equiv="refresh"' in page.content, "without JavaScript the page refreshes itself"
    partial = client.get(reverse("inspection:pack_progress", kwargs={"pk": pack.pk}))
    assert b"Waiting for the worker" in partial.content


def test_a_bad_period_is_refused(client, world):
    client.force_login(world.leader)
    response = client.post(reverse("inspection:packs"), {"start": "2026-05-02", "end": "2026-05-01"})
    assert response.status_code == 400
    assert not InspectionPack.objects.exists()


def test_a_failed_build_says_so(story, monkeypatch):
    from inspection import pack as contents

    def broken(*args, **kwargs):
        raise ValueError("disk full")

    monkeypatch.setattr(contents, "render_pdf", broken)
    pack = services.request_pack(story.leader, nursery=story.nursery, period=Period.last_months(12))
    assert services.build_pack(pack_id=pack.pk) is False
    pack.refresh_from_db()
    assert pack.status == PackStatus.FAILED and "disk full" in pack.error


def test_consent_at_a_moment_agrees_with_the_live_rule(world):
    """The pack's historical rule, asked about now, gives what the publishing gate gives."""
    from consent.models import ConsentDecision, ConsentWording
    from consent.queries import consent_state_at, consent_states

    texts = wordings(world.nursery)
    second = GuardianshipFactory(child=world.child).user
    ConsentDecisionFactory(child=world.child, guardian=world.parent, scope=Scope.CLOSED, wording=texts["closed"])
    ConsentDecisionFactory(child=world.child, guardian=second, scope=Scope.PUBLIC, wording=texts["public"],
                           decision=Decision.WITHDRAWN, signature="")
    now = timezone.now()
    live = consent_states([world.child.pk], now=now)
    responsible = {world.parent.pk, second.pk}
    for scope in Scope.values:
        at = consent_state_at(world.child, scope, ConsentDecision.objects.filter(child=world.child, scope=scope),
                              ConsentWording.objects.filter(nursery=world.nursery, scope=scope), responsible, now)
        assert at.state == live[(world.child.pk, scope)].state
