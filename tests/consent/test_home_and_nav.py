"""The home page routes each role to its consent work; the navbar shows each role its consent pages."""

import pytest
from django.urls import reverse

from consent.models import Scope
from tests.consent.conftest import at
from tests.factories import ChildFactory, ConsentDecisionFactory, grant

pytestmark = pytest.mark.django_db


def home(client, user) -> str:
    client.force_login(user)
    return client.get(reverse("home")).content.decode()


def test_a_parent_lands_on_their_childrens_consent(client, world, wording):
    grant(world.child, Scope.CLOSED, guardian=world.parent)
    page = home(client, world.parent)
    assert "Photos of your children" in page and "Amara" in page
    assert "Photos may be shared on our private parents&#x27; page" in page
    assert "Not on public pages" in page and "please decide" in page
    assert reverse("consent:mine") in page
    assert reverse("consent:register") not in page


def test_leadership_sees_the_register_summary_and_who_needs_attention_first(client, world, wording):
    world.child.joined_on = at(2024, 1, 1).date()
    world.child.save()
    ConsentDecisionFactory(child=world.child, guardian=world.parent, decided_at=at(2024, 6, 1, 12, 0))  # expired
    zara = ChildFactory(nursery=world.nursery, room=world.child.room, first_name="Aaron")  # not asked
    page = home(client, world.leader)
    assert "2 children on roll" in page and "Needs attention (2)" in page
    assert page.index("Amara Okafor") < page.index(zara.full_name), "expired consent comes before not asked"
    assert reverse("consent:evidence", args=[world.child.pk]) in page


def test_staff_see_the_summary_without_links_to_evidence(client, world, wording):
    page = home(client, world.practitioner)
    assert "Photo consent" in page and reverse("consent:photo_list") in page
    assert reverse("consent:evidence", args=[world.child.pk]) not in page


@pytest.mark.parametrize("actor, shown, hidden", [
    ("parent", ["consent:mine"], ["consent:register", "consent:wordings"]),
    ("practitioner", ["consent:register"], ["consent:mine", "consent:wordings"]),
    ("leader", ["consent:register", "consent:wordings"], ["consent:mine"]),
])
def test_the_navbar_shows_each_role_its_consent_pages(client, world, actor, shown, hidden):
    client.force_login(world.actor(actor))
    nav = client.get(reverse("notifications")).content.decode().split("</nav>")[0]
    assert all(f'href="{reverse(name)}"' in nav for name in shown)
    assert not any(f'href="{reverse(name)}"' in nav for name in hidden)


def test_leadership_is_told_when_no_wording_is_published(client, world):
    page = home(client, world.leader)
    assert "No consent wording published for private parents&#x27; pages or public marketing pages" in page


def test_no_warning_once_both_wordings_are_published(client, world, wording):
    assert "No consent wording published" not in home(client, world.leader)
