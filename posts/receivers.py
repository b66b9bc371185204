"""The posts app's side of the consent withdrawal seam."""

from django.dispatch import receiver

from consent.signals import consent_withdrawn
from posts.services import handle_consent_withdrawal


@receiver(consent_withdrawn, dispatch_uid="posts_consent_withdrawn")
def stop_posts_picturing_child(sender, *, child_id, scope, decision=None, **kwargs):
    # Run at once, not on a queue: the signal comes after the withdrawal committed, and a parent who
    # withdraws expects the nursery to stop straight away. The approval and publishing gates would
    # refuse the post anyway; this sends it back with a note and opens takedowns.
    handle_consent_withdrawal(child_id=child_id, scope=scope, now=decision.decided_at if decision else None)
