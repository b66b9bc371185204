"""The seam between a moderation decision and the platform (Facebook/Instagram Graph API).

Resolving an item with "hide on platform" or "delete on platform" records the decision and, after the
transaction commits, enqueues ``moderation.tasks.perform_platform_action(item_id)``, which calls
``perform_platform_action`` below. When the comment's channel is connected to the Graph API (see
``posts.meta.connections``), the comment is hidden (``POST /{comment-id}`` with ``is_hidden=true`` on
Facebook, ``hide=true`` on Instagram) or deleted (``DELETE /{comment-id}``) and the platform's answer is
recorded on the item. Otherwise the action waits for a person to do it by hand. The comment's own platform
state still changes only when the platform tells us (a ``hide``/``remove`` webhook), so the page never
claims something the platform has not confirmed.

Throttling and temporary failures are retried with growing waits (the task passes the attempt number);
a refusal or an expired token ends as "failed on the platform" with the reason in plain words, and the
safeguarding lead is told so the comment can be dealt with by hand at once.
"""

import json

from django.db import transaction
from django.utils import timezone

from moderation.models import Action, ItemAction, ModerationItem, PlatformActionStatus
from nursery.audit import acting_as
from nursery.errors import ServiceError
from nursery.models import Role
from nursery.permissions import users_with_role
from nursery.services import notify
from posts.meta.client import GraphError
from posts.meta.comments import DELETE, HIDE, act_on_comment
from posts.meta.models import ChannelConnection
from posts.meta.publishing import MAX_ATTEMPTS, backoff_seconds, is_graph_channel
from posts.meta.publishing import post_for_photo as post_for_platform_object  # noqa: F401 - re-exported
from posts.meta.webhooks import (  # noqa: F401 - re-exported: moderation reads deliveries through this seam
    MAX_BODY_BYTES,
    SIGNATURE_HEADER,
    BadDelivery,
    Change,
    changes_in,
    parse_body,
    signature_is_valid,
)

PLATFORM_ACTIONS = {Action.HIDE, Action.DELETE}


def perform_platform_action(item_id: int, *, attempt: int = 1, now=None) -> int | None:
    """Carry out a hide/delete decision on the platform, once; returns seconds to wait before trying again."""
    now = now or timezone.now()
    with transaction.atomic(), acting_as(None, "Platform action requested"):
        item = (
            ModerationItem.objects.select_for_update(of=("self",))
            .select_related("comment__channel", "nursery", "resolved_by").get(pk=item_id)
        )
        if item.action not in PLATFORM_ACTIONS or item.platform_action_status not in (
            PlatformActionStatus.NONE, PlatformActionStatus.AWAITING
        ):
            return None
        first = item.platform_action_status == PlatformActionStatus.NONE
        item.platform_action_status = PlatformActionStatus.AWAITING
        item.save(update_fields=["platform_action_status"])
        comment = item.comment
        where = comment.get_platform_display() if comment else "the platform"
        by_hand = comment is None or not comment.external_id or not _connected(comment.channel)
        if first:
            note = f"Awaiting platform action: {item.get_action_display().lower()} on {where}."
            if by_hand:
                note += f" {where} is not connected here, so this is done by hand there."
            ItemAction.objects.create(item=item, kind=ItemAction.Kind.PLATFORM_ACTION, at=now, note=note)
    if by_hand:
        return None
    verb = HIDE if item.action == Action.HIDE else DELETE
    try:
        answer = act_on_comment(channel=comment.channel, comment_id=comment.external_id, action=verb, now=now)
    except ServiceError as error:
        _failed(item, error.message, now)
    except GraphError as error:
        if error.retryable and attempt < MAX_ATTEMPTS:
            wait = backoff_seconds(attempt)
            with acting_as(None, "Platform action will be retried"):
                ItemAction.objects.create(item=item, kind=ItemAction.Kind.PLATFORM_ACTION, at=now,
                                          note=f"{error.explain()} Next try in {wait} seconds.")
            return wait
        _failed(item, error.explain(), now)
    else:
        done = "Hidden" if verb == HIDE else "Deleted"
        record_platform_result(item, done=True, now=now,
                               note=f"{done} on {where}. {where} answered: {json.dumps(answer, sort_keys=True)}")
    return None


def _connected(channel) -> bool:
    connection = ChannelConnection.objects.filter(channel=channel).first()
    return is_graph_channel(channel) and connection is not None and bool(connection.access_token)


def _failed(item: ModerationItem, why: str, now) -> None:
    record_platform_result(item, done=False, note=why, now=now)
    where = item.comment.get_platform_display()
    people = [*users_with_role(item.nursery, Role.SAFEGUARDING_LEAD), item.resolved_by]
    notify(people, f"Could not {item.get_action_display().lower()}: do it by hand on {where}",
           "nursery/email/message.txt",
           {"message": f"The comment “{item.comment.text[:200]}” is still up. {why}"}, nursery=item.nursery)


def record_platform_result(item: ModerationItem, *, done: bool, note: str = "", now=None) -> None:
    """What the Graph API integration calls once the platform has answered."""
    now = now or timezone.now()
    with transaction.atomic(), acting_as(None, "Platform action result"):
        item.platform_action_status = PlatformActionStatus.DONE if done else PlatformActionStatus.FAILED
        item.save(update_fields=["platform_action_status"])
        ItemAction.objects.create(item=item, kind=ItemAction.Kind.PLATFORM_ACTION, at=now,
                                  note=note or item.get_platform_action_status_display())
