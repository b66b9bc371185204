"""Importing the roll from CSV: the preview, matching, re-import changes nothing, errors write nothing."""

from pathlib import Path

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from consent.models import Decision, Scope
from consent.queries import State, consent_state
from nursery.errors import ServiceError
from nursery.models import Child, Guardianship, Membership, Role, Room
from people import services
from people.models import Invitation
from people.roll import RollFileError, parse
from tests.consent.factories import wordings
from tests.factories import ConsentDecisionFactory

pytestmark = pytest.mark.django_db
SAMPLE = Path(__file__).resolve().parents[2] / "docs" / "sample_roll.csv"
HEADER = ("room,child_first_name,child_last_name,date_of_birth,joined_on,guardian_name,guardian_email,"
          "relationship,parental_responsibility\n")


def test_the_parser_reads_both_date_forms_a_bom_and_names_bad_lines():
    rows, errors = parse(("\ufeff" + HEADER
                          + "Preschool,Ann,Lee,2022-01-02,03/09/2025,Jo Lee,JO@example.org,mother,yes\n"
                          + "Preschool,Bob,Lee,31/02/2022,2025-09-01,Jo Lee,jo@example.org,mother,yes\n"
                          + "Preschool,Cat,Lee,2022-01-02,2025-09-01,Jo Lee,not-an-email,mother,maybe\n").encode())
    [row] = rows
    assert (row.joined_on.day, row.joined_on.month, row.guardian_email) == (3, 9, "jo@example.org")
    assert [(e.line, e.message[:20]) for e in errors] == [(3, "“31/02/2022” is not "), (4, "“not-an-email” is no")]


def test_a_file_that_is_not_utf8_or_lacks_columns_is_refused_whole():
    with pytest.raises(RollFileError, match="UTF-8"):
        parse("room,child\nCrèche,x\n".encode("latin-1") + b"\xff")
    with pytest.raises(RollFileError, match="lacks"):
        parse(b"room,child_first_name\nA,B\n")


def test_the_sample_imports_and_importing_again_changes_nothing(world):
    content = SAMPLE.read_bytes()
    plan = services.import_roll(world.leader, nursery=world.nursery, content=content)
    assert plan.counts == {"add": 5, "change": 0, "unchanged": 0, "errors": 0}
    assert Room.objects.filter(nursery=world.nursery, name="Rainbows").exists()
    ruby = Child.objects.get(first_name="Ruby")
    assert ruby.guardianships.count() == 2 and ruby.room.name == "Preschool"
    assert not Guardianship.objects.get(user__email="margaret.bell@example.org").has_parental_responsibility
    assert Membership.objects.filter(user__email="funmi.adeyemi@example.org", role=Role.PARENT).exists()
    assert ruby.history.latest("history_date").history_user == world.leader
    counts = (Child.objects.count(), Guardianship.objects.count(), Membership.objects.count(), Room.objects.count())
    again = services.import_roll(world.leader, nursery=world.nursery, content=content)
    assert again.counts == {"add": 0, "change": 0, "unchanged": 5, "errors": 0}
    assert (Child.objects.count(), Guardianship.objects.count(), Membership.objects.count(),
            Room.objects.count()) == counts


def test_an_existing_child_and_guardian_are_matched_and_changes_shown(world):
    child = world.child
    content = (HEADER + f"Toddlers,{child.first_name.upper()},{child.last_name},{child.date_of_birth:%d/%m/%Y},"
               f"{child.joined_on:%Y-%m-%d},Grace Okafor,{world.parent.email.upper()},mum,yes\n")
    plan = services.preview_roll(world.nursery, content)
    [row] = plan.rows
    assert row.what == "change" and "moves to Toddlers" in row.notes and "new room Toddlers" in row.notes
    services.import_roll(world.leader, nursery=world.nursery, content=content)
    child.refresh_from_db()
    assert child.room.name == "Toddlers" and Child.objects.filter(nursery=world.nursery).count() == 1
    assert child.guardianships.get().relationship == "mum"


def test_a_file_with_errors_writes_nothing_unless_valid_rows_only(world):
    content = (HEADER + "Preschool,Ann,Lee,2022-01-02,2025-09-01,Jo Lee,jo@example.org,mother,yes\n"
               + "Preschool,Bob,Lee,2022-01-02,2025-09-01,Jo Lee,jo@example.org,mother,perhaps\n")
    with pytest.raises(ServiceError, match="nothing was imported"):
        services.import_roll(world.leader, nursery=world.nursery, content=content)
    assert not Child.objects.filter(first_name="Ann").exists()
    services.import_roll(world.leader, nursery=world.nursery, content=content, valid_rows_only=True)
    assert Child.objects.filter(first_name="Ann").exists() and not Child.objects.filter(first_name="Bob").exists()


def test_conflicting_rows_for_one_child_are_errors(world):
    content = (HEADER + "Preschool,Ann,Lee,2022-01-02,2025-09-01,Jo Lee,jo@example.org,mother,yes\n"
               + "Toddlers,Ann,Lee,2022-01-02,2025-09-01,Sam Lee,sam@example.org,father,yes\n"
               + "Preschool,Ann,Lee,2022-01-02,2025-09-01,Jo Lee,jo@example.org,mother,yes\n")
    plan = services.preview_roll(world.nursery, content)
    assert [(e.line, e.message) for e in plan.errors] == [
        (3, "the room or joining date differs from line 2"), (4, "repeats line 2"),
    ]


def test_unticking_responsibility_by_import_leaves_a_withdrawal_standing(world):
    wordings(world.nursery)
    child = world.child
    ConsentDecisionFactory(child=child, guardian=world.parent, decision=Decision.WITHDRAWN)
    content = (HEADER + f"Preschool,{child.first_name},{child.last_name},{child.date_of_birth},{child.joined_on},"
               f"Grace Okafor,{world.parent.email},mother,no\n")
    services.import_roll(world.leader, nursery=world.nursery, content=content)
    assert consent_state(child, Scope.CLOSED).state == State.WITHDRAWN


def test_invite_emails_the_new_guardians_only(world, drain_outbox):
    services.import_roll(world.leader, nursery=world.nursery, content=SAMPLE.read_bytes(), invite=True)
    assert Invitation.objects.count() == 5
    drain_outbox()
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        Invitation.objects.values_list("email", flat=True)
    )


def test_only_leadership_imports(world):
    with pytest.raises(ServiceError):
        services.import_roll(world.practitioner, nursery=world.nursery, content=SAMPLE.read_bytes())


def test_the_command(world, capsys):
    call_command("import_roll", str(SAMPLE), nursery="Kids Count", dry_run=True)
    assert "5 row(s) to add" in capsys.readouterr().out and not Child.objects.filter(first_name="Ruby").exists()
    call_command("import_roll", str(SAMPLE), nursery="Kids Count")
    assert Child.objects.filter(first_name="Ruby").exists()
    with pytest.raises(CommandError):
        call_command("import_roll", str(SAMPLE), nursery="Nowhere")


def test_the_upload_preview_and_confirm(world, client):
    client.force_login(world.leader)
    upload = SimpleUploadedFile("roll.csv", SAMPLE.read_bytes(), content_type="text/csv")
    response = client.post(reverse("people:roll_import"), {"file": upload})
    assert response["Location"] == reverse("people:roll_import_preview")
    page = client.get(response["Location"]).content.decode()
    assert "5 to add" in page and "Rainbows" in page and not Child.objects.filter(first_name="Ruby").exists()
    response = client.post(reverse("people:roll_import_preview"), {"confirm": "1"})
    assert response["Location"] == reverse("people:children")
    assert Child.objects.filter(first_name="Ruby").exists()
    assert client.get(reverse("people:roll_import_preview"))["Location"] == reverse("people:roll_import")
