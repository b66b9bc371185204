from consent.models import Scope
from tests.access import Access, expect, leadership_page, staff_page
from tests.consent.factories import paper_decision, wordings


def child(w) -> dict:
    return {"child_pk": w.child.pk}


def child_scope(w) -> dict:
    return {"child_pk": w.child.pk, "scope": Scope.PUBLIC}


def signed(user) -> str:
    return user.get_full_name() if user else ""


def grant_data(w) -> dict:
    wording = wordings(w.nursery)[Scope.PUBLIC]
    return {"wording": wording.pk, "read": "on", "signature": signed, "seen": ""}


def scan(w) -> dict:
    return {"decision_pk": paper_decision(w.child, w.parent, w.leader).pk}


PARENT_PAGE = expect(parent=200)  # the parent's own child; the outsider is a parent elsewhere: 404

ACCESS = [
    Access("consent:mine", expect(parent=200, outsider=200)),
    Access("consent:decide", PARENT_PAGE, kwargs=child_scope),
    Access("consent:grant", expect(parent=302), kwargs=child_scope, method="post", data=grant_data,
           note="the parent's grant is recorded, then the decide page"),
    Access("consent:withdraw", PARENT_PAGE, kwargs=child_scope, note="GET is the confirmation page"),
    Access("consent:history", PARENT_PAGE, kwargs=child),
    Access("consent:evidence", expect(leader=200), kwargs=child),
    Access("consent:paper", expect(practitioner=200, dsl=200, leader=200), kwargs=child),
    Access("consent:paper_start", staff_page()),
    Access("consent:scan", expect(leader=200), kwargs=scan),
    Access("consent:register", staff_page()),
    Access("consent:photo_list", staff_page()),
    Access("consent:register_counts", staff_page()),
    Access("consent:register_csv", leadership_page()),
    Access("consent:wordings", leadership_page()),
    Access("consent:publish_wording", leadership_page(), kwargs=lambda w: {"scope": Scope.CLOSED}),
]
