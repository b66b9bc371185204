from django import template

register = template.Library()


@register.filter
def invitation_state(invitation, now) -> str:
    return invitation.status(now)
