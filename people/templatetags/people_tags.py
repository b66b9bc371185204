from django import template

register = template.Library()


@register.filter
def invitation_state(invitation, now) -> str:
    return invitation.status(now)


@register.filter
def get_item(mapping, key):
    return mapping.get(key)
