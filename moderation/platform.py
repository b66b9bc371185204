"""The seam between a moderation decision and the platform (Facebook/Instagram Graph API).

Resolving an item with "hide on platform" or "delete on platform" records the decision and, after the
transaction commits, enqueues ``moderation.tasks.perform_platform_action(item_id)``. That task calls
``perform_platform_action`` below. Today it records that the action is *awaiting* a person (or the Graph
API integration) and leaves the comment's platform state alone: the state changes only when the platform
tells us (a ``hide``/``remove`` webhook), so the page never claims something happened that did not.

The Graph API integration replaces the body of ``perform_platform_action``: call
``POST /{comment-id}`` with ``is_hidden=true`` (hide) or ``DELETE /{comment-id}`` (delete) using the
channel's page token, then call ``record_platform_result(item, done=True/False, note=...)``. Keep it
idempotent: the task may run twice (``acks_late``), so check ``item.platform_action_status`` first.
"""

from django.db import transaction
from django.utils import timezone

from moderation.models import Action, ItemAction, ModerationItem, PlatformActionStatus
from nursery.audit import acting_as

PLATFORM_ACTIONS = {Action.HIDE, Action.DELETE}


def perform_platform_action(item_id: int, *, now=None) -> bool:
    """Record that a hide/delete decision is waiting to be carried out on the platform (once)."""
    now = now or timezone.now()
    with transaction.atomic(), acting_as(None, "Platform action requested"):
        item = ModerationItem.objects.select_for_update(of=("self",)).select_related("comment").get(pk=item_id)
        if item.action not in PLATFORM_ACTIONS or item.platform_action_status != PlatformActionStatus.NONE:
            return False
        item.platform_action_status = PlatformActionStatus.AWAITING
        item.save(update_fields=["platform_action_status"])
        where = item.comment.get_platform_display() if item.comment else "the platform"
        ItemAction.objects.create(
            item=item, kind=ItemAction.Kind.PLATFORM_ACTION, at=now,
            note=f"Awaiting platform action: {item.get_action_display().lower()} on {where}.",
        )
    return True


def record_platform_result(item: ModerationItem, *, done: bool, note: str = "", now=None) -> None:
    """What the Graph API integration calls once the platform has answered."""
    now = now or timezone.now()
    with transaction.atomic(), acting_as(None, "Platform action result"):
        item.platform_action_status = PlatformActionStatus.DONE if done else PlatformActionStatus.FAILED
        item.save(update_fields=["platform_action_status"])
        ItemAction.objects.create(item=item, kind=ItemAction.Kind.PLATFORM_ACTION, at=now,
                                  note=note or item.get_platform_action_status_display())
