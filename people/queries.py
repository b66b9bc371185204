"""Read-side queries for leadership's people pages: one function per page, with what it shows joined in."""

from django.db.models import Q, QuerySet

from people.models import Invitation

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
