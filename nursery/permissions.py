"""Who may see and do what, asked in one place.

Everything belongs to a nursery. An object of a nursery the user does not belong to is a 404 (its
existence is not revealed); a role that may look but not act gets ``PermissionDenied`` (403).
"""

from collections.abc import Iterable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404

from nursery.models import STAFF_ROLES, Child, Membership, Nursery, Role


def roles_of(user, nursery: Nursery | int | None) -> frozenset[str]:
    """The roles ``user`` holds in ``nursery``, cached on the user object for the request."""
    if nursery is None or not getattr(user, "is_authenticated", False):
        return frozenset()
    nursery_id = nursery if isinstance(nursery, int) else nursery.pk
    cache = user.__dict__.setdefault("_roles_cache", {})
    if nursery_id not in cache:
        cache[nursery_id] = frozenset(
            Membership.objects.filter(user=user, nursery_id=nursery_id).values_list("role", flat=True)
        )
    return cache[nursery_id]


def has_role(user, nursery, *roles: str) -> bool:
    return bool(roles_of(user, nursery) & set(roles))


def is_leader(user, nursery) -> bool:
    return has_role(user, nursery, Role.LEADERSHIP)


def is_staff_member(user, nursery) -> bool:
    """Anyone who works at the nursery (practitioner, leadership or safeguarding lead)."""
    return bool(roles_of(user, nursery) & STAFF_ROLES)


def require_role(user, nursery, *roles: str) -> None:
    if not has_role(user, nursery, *roles):
        raise PermissionDenied("Your role does not allow this.")


def nurseries_of(user) -> QuerySet[Nursery]:
    if not getattr(user, "is_authenticated", False):
        return Nursery.objects.none()
    return Nursery.objects.filter(memberships__user=user).distinct()


def get_object_in_nursery(request, queryset: QuerySet | type[Model], *, roles: Iterable[str] = (),
                          nursery_field: str = "nursery", **lookup):
    """The one way a view loads an object: from the nursery the user is working in now, or 404.

    Scope and role are asked of the same nursery, ``request.nursery``. Asking membership of the object's own
    nursery and the role in the active one let a leader of one nursery, who is a parent in another, open the
    other's records as a leader. An object of any other nursery is a 404 whatever the user holds there (they
    switch nursery to work on it); ``roles``, when given, must be held in the active nursery (403 otherwise).
    """
    if isinstance(queryset, type):
        queryset = queryset._default_manager.all()
    nursery = getattr(request, "nursery", None)
    if nursery is None or not roles_of(request.user, nursery):
        raise Http404
    try:
        obj = queryset.filter(**{nursery_field: nursery}).get(**lookup)
    except (queryset.model.DoesNotExist, ValueError) as exc:
        raise Http404 from exc
    if roles:
        require_role(request.user, nursery, *roles)
    return obj


def children_for_user(user, nursery: Nursery) -> QuerySet[Child]:
    """Staff see every child of their nursery; a parent sees only the children they are a guardian of."""
    children = Child.objects.filter(nursery=nursery)
    if is_staff_member(user, nursery):
        return children
    if has_role(user, nursery, Role.PARENT):
        return children.filter(guardianships__user=user).distinct()
    return children.none()


def get_child_in_nursery(request, pk) -> Child:
    """A child of the active nursery that the user may see (a parent: only their own), or 404."""
    return get_object_in_nursery(
        request, children_for_user(request.user, request.nursery).select_related("nursery", "room"), pk=pk
    )


def role_required(*roles: str):
    """View decorator: login, a current nursery, and one of ``roles`` in it (403 otherwise)."""

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if request.nursery is None or not has_role(request.user, request.nursery, *roles):
                raise PermissionDenied("Your role does not allow this.")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def users_with_role(nursery: Nursery, *roles: str) -> Iterable:
    from django.contrib.auth import get_user_model

    return (
        get_user_model()
        .objects.filter(memberships__nursery=nursery, memberships__role__in=roles, is_active=True)
        .distinct()
        .order_by("pk")
    )
