import io

from django.contrib.auth import get_user_model
from django.core.management import call_command

from nursery.models import Child, Membership, Nursery, Role


def seed():
    call_command("seed_demo", stdout=io.StringIO())


def test_seed_demo_creates_every_role_and_is_idempotent(db):
    seed()
    counts = (get_user_model().objects.count(), Child.objects.count(), Membership.objects.count())
    seed()
    assert (get_user_model().objects.count(), Child.objects.count(), Membership.objects.count()) == counts
    kids_count = Nursery.objects.get(name="Kids Count")
    assert 28 <= Child.objects.filter(nursery=kids_count).count() <= 32
    expected = {"leader": Role.LEADERSHIP, "deputy": Role.LEADERSHIP, "dsl": Role.SAFEGUARDING_LEAD,
                "staff": Role.STAFF, "parent": Role.PARENT, "parent2": Role.PARENT}
    for username, role in expected.items():
        assert Membership.objects.filter(user__username=username, nursery=kids_count, role=role).exists()
    assert get_user_model().objects.get(username="parent").guardianships.count() == 2
    assert get_user_model().objects.get(username="admin").is_superuser
    assert get_user_model().objects.get(username="leader").check_password("kidscount-demo")
    other = Nursery.objects.get(name="Little Acorns")
    assert not Membership.objects.filter(nursery=other, user__username__in=expected).exists()


def test_seed_demo_shows_a_pending_invitation(db):
    from people.models import Invitation

    seed()
    seed()
    [invitation] = Invitation.objects.all()
    assert invitation.email == "tom.hughes@kidscount.example" and invitation.accepted_at is None
    assert invitation.user.guardianships.get().child.first_name == "Isla"
