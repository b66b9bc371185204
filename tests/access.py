"""The access matrix's vocabulary. Each app lists its URLs in tests/<app>/access.py as ``ACCESS``.

Every URL of the project must have exactly one ``Access`` entry, or tests/test_access_matrix.py fails.
Actors: anonymous, parent, practitioner (staff), leader, dsl, and outsider (every role in another
nursery: objects of this nursery are 404 to them). Then two people who hold different roles in the two
nurseries (``SPLIT_ACTORS``), each probed while working in either: their expectations are derived, never
declared, so every URL is tried with them.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

ACTORS = ("anonymous", "parent", "practitioner", "dsl", "leader", "outsider")
LOGIN = 302


@dataclass(frozen=True)
class SplitActor:
    """One of two people with different roles in the two nurseries, working in one of them.

    ``leader_elsewhere`` is leadership in the other nursery and a parent of the world's child here;
    ``parent_elsewhere`` is a parent in the other nursery and leadership here.
    """

    person: str
    works_here: bool  # working in the world's nursery (else in the other one)
    acts_as: str  # the ordinary actor whose expectations apply in the nursery they work in

    def expected(self, entry: "Access", name: str) -> set[int]:
        if name in entry.split:
            return {entry.split[name]}
        if not self.works_here and entry.expect["outsider"] == 404:
            # An object of this nursery is not found from the other nursery, whatever the person holds here:
            # scope and role are asked of the same, active, nursery. A role check made before the object is
            # looked up (role_required) may answer 403 first, which reveals nothing either.
            return {404} if entry.expect[self.acts_as] != 403 else {403, 404}
        return {entry.expect[self.acts_as]}


SPLIT_ACTORS = {
    "leader_elsewhere, working there": SplitActor("leader_elsewhere", works_here=False, acts_as="leader"),
    "leader_elsewhere, working here as a parent": SplitActor("leader_elsewhere", works_here=True, acts_as="parent"),
    "parent_elsewhere, working there": SplitActor("parent_elsewhere", works_here=False, acts_as="parent"),
    "parent_elsewhere, working here as a leader": SplitActor("parent_elsewhere", works_here=True, acts_as="leader"),
}


@dataclass
class Access:
    url_name: str
    expect: dict[str, int]
    kwargs: Callable | None = None  # world -> URL kwargs, called afresh for each actor
    method: str = "get"
    data: Callable | None = None  # world -> POST data; a callable value is called with the acting user
    note: str = ""
    query: str = ""
    extra: dict = field(default_factory=dict)
    split: dict[str, int] = field(default_factory=dict)  # SPLIT_ACTORS whose status is not derived (say why)


def expect(*, anonymous=LOGIN, parent=403, practitioner=403, dsl=403, leader=403, outsider=None) -> dict:
    """Statuses per actor. ``outsider`` defaults to 404 (objects) — pass it for pages of one's own nursery."""
    return {
        "anonymous": anonymous, "parent": parent, "practitioner": practitioner, "dsl": dsl,
        "leader": leader, "outsider": 404 if outsider is None else outsider,
    }


def everyone(status=200, *, anonymous=LOGIN) -> dict:
    return expect(anonymous=anonymous, parent=status, practitioner=status, dsl=status, leader=status, outsider=status)


def leadership_page(*, outsider=200) -> dict:
    """A page of one's own nursery that only leadership opens (the outsider is a leader there)."""
    return expect(leader=200, outsider=outsider)


def staff_page(*, outsider=200) -> dict:
    return expect(practitioner=200, dsl=200, leader=200, outsider=outsider)
