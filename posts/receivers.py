"""The posts app's side of the consent withdrawal seam."""

import logging

from django.dispatch import receiver

from consent.models import Scope
from consent.signals import consent_withdrawn
from nursery.signals import child_left
from posts.services import handle_consent_withdrawal

logger = logging.getLogger(__name__)


@receiver(consent_withdrawn, dispatch_uid="posts_consent_withdrawn")
def stop_posts_picturing_child(sender, *, child_id, scope, decision=None, **kwargs):
    # Run at once, not on a queue: the signal comes after the withdrawal committed, and a parent who
    # withdraws expects the nursery to stop straight away. A failure here must not turn the parent's
    # committed withdrawal into an error page: the approval and publishing gates refuse the post anyway,
    # and the periodic takedown sweep (posts.tasks.escalate_overdue_takedowns) opens any takedown missed.
    try:
        handle_consent_withdrawal(child_id=child_id, scope=scope, now=decision.decided_at if decision else None)
    except Exception:
        logger.exception("Posts could not act on the withdrawal of %s consent for child %s", scope, child_id)


@receiver(child_left, dispatch_uid="posts_child_left")
def stop_posts_picturing_leaver(sender, *, child_id, now=None, **kwargs):
    # As for a withdrawal, in every scope; the takedown sweep catches what a failure here missed.
    for scope in Scope.values:
        try:
            handle_consent_withdrawal(child_id=child_id, scope=scope, now=now, left=True)
        except Exception:
            logger.exception("Posts could not act on child %s leaving (%s)", child_id, scope)
