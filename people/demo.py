"""Demo people: a pending invitation, so the invitations page has something to show."""

from nursery.models import Role
from people.models import Invitation
from people.services import invite_person

INVITED_EMAIL = "tom.hughes@kidscount.example"


def seed(demo) -> None:
    if Invitation.objects.filter(nursery=demo.nursery, email=INVITED_EMAIL).exists():
        return
    isla = next(c for c in demo.children if c.first_name == "Isla")
    invite_person(demo.users["leader"], nursery=demo.nursery, email=INVITED_EMAIL, first_name="Tom",
                  last_name="Hughes", role=Role.PARENT, child=isla, relationship="father")
