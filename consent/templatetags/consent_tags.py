from django import template

from consent import queries
from consent.models import Scope

register = template.Library()


@register.simple_tag(takes_context=True)
def consent_home(context) -> dict:
    """What the home page shows of consent: a parent's children, or leadership's register summary."""
    request = context["request"]
    nursery = getattr(request, "nursery", None)
    if nursery is None:
        return {}
    summary = {}
    if context.get("is_parent"):
        summary["children"] = queries.parent_children(request.user, nursery)
        summary["to_decide"] = any(v.needs_decision for _, views in summary["children"] for v in views)
    if context.get("is_staff_member"):
        rooms = queries.consent_register(nursery)
        summary["rooms"] = rooms
        # Consent that just stopped comes first; children never asked about public pages last.
        urgency = {queries.State.EXPIRED: 0, queries.State.WORDING_CHANGED: 1, queries.State.RENEWAL_DUE: 2,
                   queries.State.NOT_ASKED: 3}
        summary["attention"] = sorted(
            (row for room in rooms for row in room.rows
             if any(s.state in queries.ATTENTION for s in row.states.values())),
            key=lambda row: (min(urgency.get(s.state, 9) for s in row.states.values()), row.child.first_name),
        )
        summary["totals"] = {f: sum(getattr(r, f) for r in rooms)
                             for f in ("on_roll", "closed_granted", "public_granted", "no_photos", "attention")}
    if context.get("is_leader"):
        published = queries.current_wordings([nursery.pk], Scope.values)
        summary["missing_wordings"] = [label for value, label in Scope.choices if (nursery.pk, value) not in published]
    return summary
