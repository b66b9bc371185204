"""Showing comments safely: rule hits highlighted, every character of the text escaped."""

from django import template
from django.utils import timezone
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from moderation.screening import MAX_SCREENED_CHARS

register = template.Library()


@register.simple_tag
def highlighted(text: str, hits) -> SafeString:
    """The text with each hit wrapped in <mark>; overlapping hits merge, and all text is escaped."""
    text = text or ""
    spans: list[list] = []
    for hit in sorted(hits, key=lambda h: (h.start, -h.end)):
        start, end = max(0, hit.start), min(hit.end, len(text), MAX_SCREENED_CHARS)
        if start >= end:
            continue
        label = hit.get_category_display()
        if spans and start < spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], end)
            if label not in spans[-1][2]:
                spans[-1][2].append(label)
        else:
            spans.append([start, end, [label]])
    parts, cursor = [], 0
    for start, end, labels in spans:
        parts.append(escape(text[cursor:start]))
        parts.append(format_html('<mark class="rule-hit" title="{}">{}<span class="visually-hidden"> ({})</span>'
                                 "</mark>", ", ".join(labels), text[start:end], ", ".join(labels)))
        cursor = end
    parts.append(escape(text[cursor:]))
    return mark_safe("".join(str(p) for p in parts))  # noqa: S308 - every part above is escaped


@register.filter
def time_left(item, now=None) -> str:
    """'35 min left', '2 h 10 min overdue': against the item's review target."""
    now = now or timezone.now()
    seconds = int((item.due_at - now).total_seconds())
    minutes = abs(seconds) // 60
    hours, mins = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        span = f"{days} d {hours} h"
    elif hours:
        span = f"{hours} h {mins} min"
    else:
        span = f"{mins} min"
    return f"{span} left" if seconds >= 0 else f"{span} overdue"


@register.filter
def waited(since, now=None) -> str:
    if since is None:
        return ""
    minutes = int(((now or timezone.now()) - since).total_seconds()) // 60
    hours, mins = divmod(max(minutes, 0), 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h {mins} min" if hours else f"{mins} min"


@register.simple_tag(takes_context=True)
def moderation_counts(context):
    """The home card's figures for the current nursery (one query)."""
    from moderation.queries import queue_counts

    nursery = context.get("current_nursery")
    return queue_counts(nursery) if nursery else None


@register.filter
def rules_hit(hits) -> list[str]:
    """Each rule once ("Child named: Children's full names"), however many times it matched."""
    return list(dict.fromkeys(f"{hit.get_category_display()}: {hit.rule_name}" for hit in hits))


@register.filter
def decision_choices(item) -> list[tuple[str, str]]:
    """The decisions open for ``item``, from the form that validates them: the same list on the queue, the item
    page and an htmx swap, whichever view rendered the card."""
    from moderation.forms import ResolveForm

    return ResolveForm(item=item).fields["action"].choices


def _card_context(context):
    """One ``CardContext`` for every card and line of a response (kept in the render context)."""
    from moderation.cards import CardContext

    if "moderation_card_context" not in context.render_context:
        context.render_context["moderation_card_context"] = CardContext(
            context["request"], now=context.get("now") or timezone.now(), can_act=bool(context.get("can_act")))
    return context.render_context["moderation_card_context"]


@register.simple_tag(takes_context=True)
def item_card(context, item) -> SafeString:
    """The item's card (``moderation.cards.card``): the queue, the item's page and an htmx swap."""
    from moderation.cards import card

    return card(item, _card_context(context), error=context.get("error") or "", notice=context.get("notice") or "")


@register.simple_tag(takes_context=True)
def clean_line(context, item) -> SafeString:
    """One line of the acknowledge lane (``moderation.cards.clean_line``)."""
    from moderation.cards import clean_line as line

    return line(item, _card_context(context))
