from nursery.models import Role
from nursery.permissions import nurseries_of, roles_of


def navigation(request):
    """What the navbar needs: the current nursery, the user's roles in it, unread notifications."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    nursery = getattr(request, "nursery", None)
    roles = roles_of(user, nursery)
    return {
        "current_nursery": nursery,
        "my_roles": roles,
        "my_nurseries": nurseries_of(user),
        "is_leader": Role.LEADERSHIP in roles,
        "is_dsl": Role.SAFEGUARDING_LEAD in roles,
        "is_practitioner": Role.STAFF in roles,
        "is_staff_member": bool(roles - {Role.PARENT}),
        "is_parent": Role.PARENT in roles,
        "unread_notifications": user.notifications.filter(read_at__isnull=True).count(),
    }
