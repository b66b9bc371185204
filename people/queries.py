"""Read-side queries for leadership's people pages: one function per page, with what it shows joined in."""

from django.db.models import Count, F, Q, QuerySet

from nursery.models import Child, Membership, Role, Room
from people.models import Invitation

STAFF_ROLE_ORDER = (Role.LEADERSHIP, Role.SAFEGUARDING_LEAD, Role.STAFF)

INVITATION_FILTERS = {
    "open": Q(accepted_at__isnull=True, revoked_at__isnull=True),
    "accepted": Q(accepted_at__isnull=False),
    "revoked": Q(revoked_at__isnull=False),
}


def invitations(nursery, *, q: str = "", status: str = "") -> QuerySet[Invitation]:
    found = Invitation.objects.filter(nursery=nursery).select_related("user", "invited_by")
    if status in INVITATION_FILTERS:
        found = found.filter(INVITATION_FILTERS[status])
    for word in q.split()[:4]:
        found = found.filter(
            Q(email__icontains=word) | Q(user__first_name__icontains=word) | Q(user__last_name__icontains=word)
        )
    return found.order_by("-created_at", "-pk")


CHILD_STATUSES = [("on_roll", "On roll"), ("leaving", "Leaving soon"), ("left", "Left"), ("all", "All")]


def children(nursery, *, q: str = "", room_id: int | None = None, status: str = "on_roll", today=None):
    """The children list: name search, room filter and roll status, with the room joined in."""
    from django.utils import timezone

    today = today or timezone.localdate()
    found = Child.objects.filter(nursery=nursery).select_related("room").annotate(
        guardians=Count("guardianships", distinct=True)
    )
    if status == "on_roll":
        found = found.on_roll(today)
    elif status == "leaving":
        found = found.on_roll(today).filter(left_on__isnull=False)
    elif status == "left":
        found = found.filter(left_on__lte=today)
    if room_id:
        found = found.filter(room_id=room_id)
    for word in q.split()[:4]:
        found = found.filter(Q(first_name__icontains=word) | Q(last_name__icontains=word))
    return found.order_by("first_name", "last_name", "pk")


def rooms(nursery, *, today=None):
    from django.utils import timezone

    today = today or timezone.localdate()
    on_roll = Q(children__joined_on__lte=today) & (Q(children__left_on__isnull=True) | Q(children__left_on__gt=today))
    return Room.objects.filter(nursery=nursery).annotate(on_roll=Count("children", filter=on_roll)).order_by(
        F("archived_at").asc(nulls_first=True), "name"
    )


def staff(nursery, *, q: str = "", role: str = ""):
    found = Membership.objects.filter(nursery=nursery, role__in=[r.value for r in STAFF_ROLE_ORDER]).select_related(
        "user"
    )
    if role:
        found = found.filter(role=role)
    for word in q.split()[:4]:
        found = found.filter(
            Q(user__first_name__icontains=word) | Q(user__last_name__icontains=word) | Q(user__email__icontains=word)
        )
    return found.order_by("user__first_name", "user__last_name", "role", "pk")


def child_history(child: Child, limit: int = 50) -> list:
    """The child's own changes and their guardians' changes, newest first, each with who and why."""
    from consent.queries import guardianship_changes

    own = list(Child.history.filter(id=child.pk).select_related("history_user").order_by("-history_date")[:limit])
    for record in own:
        record.what = "Details" if record.history_type != "+" else "Added to the roll"
    theirs = list(guardianship_changes(child, limit))
    for record in theirs:
        verb = {"+": "Added", "-": "Removed"}.get(record.history_type, "Changed")
        record.what = f"{verb} {record.user.get_full_name() or record.user.username} ({record.relationship})"
    return sorted(own + theirs, key=lambda r: r.history_date, reverse=True)[:limit]


def staff_history(nursery, limit: int = 30):
    return (
        Membership.history.filter(nursery_id=nursery.pk, role__in=[r.value for r in STAFF_ROLE_ORDER])
        .select_related("user", "history_user").order_by("-history_date", "-history_id")[:limit]
    )
