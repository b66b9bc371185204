"""The access matrix's vocabulary. Each app lists its URLs in tests/<app>/access.py as ``ACCESS``.

Every URL of the project must have exactly one ``Access`` entry, or tests/test_access_matrix.py fails.
Actors: anonymous, parent, practitioner (staff), leader, dsl, and outsider (every role in another
nursery: objects of this nursery are 404 to them).
"""

from collections.abc import Callable
from dataclasses import dataclass, field

ACTORS = ("anonymous", "parent", "practitioner", "dsl", "leader", "outsider")
LOGIN = 302


@dataclass
class Access:
    url_name: str
    expect: dict[str, int]
    kwargs: Callable | None = None  # world -> URL kwargs, called afresh for each actor
    method: str = "get"
    data: Callable | None = None  # world -> POST data
    note: str = ""
    query: str = ""
    extra: dict = field(default_factory=dict)


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
