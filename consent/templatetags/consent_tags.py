from django import template

from consent import queries

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
    if context.get("is_staff_member"):
        rooms = queries.consent_register(nursery)
        summary["rooms"] = rooms
        summary["attention"] = [
            row for room in rooms for row in room.rows
            if any(s.state in queries.ATTENTION for s in row.states.values())
        ]
        summary["totals"] = {f: sum(getattr(r, f) for r in rooms)
                             for f in ("on_roll", "closed_granted", "public_granted", "no_photos", "attention")}
    return summary
