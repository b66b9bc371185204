from django import template
from django.db.models import Count, Q
from django.utils import timezone

from nursery.permissions import is_leader
from staff_conduct import queries
from staff_conduct.models import Status

register = template.Library()


@register.inclusion_tag("staff_conduct/_home_cards.html", takes_context=True)
def conduct_home(context):
    """The home page's conduct cards: what to acknowledge first, then (for leadership) incidents."""
    request = context["request"]
    nursery, user = request.nursery, request.user
    data = {
        "nursery": nursery, "is_leader": context.get("is_leader"), "is_staff_member": context.get("is_staff_member"),
        "outstanding": queries.outstanding_for(user, nursery, context.get("my_roles", ())),
    }
    if is_leader(user, nursery):
        today = timezone.localdate()
        data["counts"] = queries.incidents_for(user, nursery).aggregate(
            reported=Count("pk", filter=Q(status=Status.REPORTED)),
            investigating=Count("pk", filter=Q(status=Status.UNDER_INVESTIGATION)),
            overdue=Count("pk", filter=Q(status=Status.UNDER_INVESTIGATION, investigation_due_on__lt=today)),
            decided=Count("pk", filter=Q(status=Status.OUTCOME_DECIDED)),
            appealed=Count("pk", filter=Q(status=Status.APPEALED)),
        )
        data["long_open"] = list(queries.long_open_incidents(user, nursery)[:10])
        data["statuses"] = queries.acknowledgement_status(nursery)
    return data
