from django import template
from django.utils.html import format_html

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


BADGE_TONES = {queries.State.GRANTED: "yes", queries.State.RENEWAL_DUE: "warn", queries.State.WORDING_CHANGED: "warn"}


@register.filter
def state_badge(state: queries.ConsentState) -> str:
    """A register cell: the state in words with a tick or cross, and until when consent holds. Built in Python:
    as an included template it cost a page of the register more than its queries (two a row)."""
    mark = "✓ " if state.effective else "✗ "
    until = ""
    if state.expires_at and state.effective:
        until = format_html('<br><span class="small text-body-secondary">until {}</span>',
                            queries.day_month_year(state.expires_at))
    return format_html('<span class="state-{}"><span aria-hidden="true">{}</span>{}</span>{}',
                       BADGE_TONES.get(state.state, "no"), mark, state.label, until)
