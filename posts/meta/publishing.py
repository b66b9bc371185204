"""Sending an approved post to a Facebook Page or an Instagram account, once, whatever fails on the way.

``queue_delivery`` runs inside the transaction that publishes (after the consent gate passed) and enqueues
the worker after commit. The worker (``deliver``) claims the delivery, re-checks that the post may still go
out (consent can be withdrawn while it waits), then makes the platform calls. Every id the platform returns
is saved at once; ``publish_started_at`` is saved before the one call that makes the post visible, so a
retry after a crash between that call and its save looks for the post already made before making another.
The calls before it (unpublished photo uploads, Instagram containers) are invisible to the public, so
repeating one after a crash costs only an orphan that Meta discards; their ids are kept so a retry after
a failure does not repeat them.

Throttling and temporary failures are retried with exponential backoff up to ``MAX_ATTEMPTS``; an expired
or revoked token stops at once and asks leadership to reconnect the channel; anything else fails with the
platform's reason in plain words. Leadership is told of every outcome but success.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from nursery import outbox
from nursery.audit import acting_as
from nursery.errors import ServiceError
from nursery.models import Role
from nursery.permissions import is_leader, users_with_role
from nursery.services import notify
from posts.blur import scope_copy
from posts.gate import consent_problems
from posts.meta.client import ErrorKind, GraphClient, GraphError, Upload
from posts.meta.models import ChannelConnection, ConnectionStatus, DeliveryState, GraphDelivery
from posts.models import Channel, Platform, Post, PostStatus, Publication
from posts.services import post_url
from posts.signed_media import signed_image_url

logger = logging.getLogger(__name__)

GRAPH_PLATFORMS = {Platform.FACEBOOK, Platform.INSTAGRAM}
MAX_ATTEMPTS = 8
BACKOFF_FIRST_SECONDS = 30
BACKOFF_CAP_SECONDS = 30 * 60
LEASE = timedelta(minutes=5)  # longer than a task may run (CELERY_TASK_TIME_LIMIT)
LOOKBACK = timedelta(minutes=10)  # platform clocks and ours differ a little
# Instagram's publishing limit is a rolling 24 hours and Meta does not say when a slot frees: look again hourly.
LIMIT_HOLD = timedelta(hours=1)
INSTAGRAM_MAX_PHOTOS = 10
# Posts that may still go out: approved and being published, or published on another channel already.
SENDABLE = {PostStatus.APPROVED, PostStatus.PUBLISHED}

TRANSITIONS = {
    DeliveryState.QUEUED: {DeliveryState.SENDING, DeliveryState.CANCELLED},
    DeliveryState.SENDING: {DeliveryState.SENDING, DeliveryState.PUBLISHED, DeliveryState.RETRYING,
                            DeliveryState.RECONNECT, DeliveryState.FAILED, DeliveryState.CANCELLED},
    DeliveryState.RETRYING: {DeliveryState.SENDING, DeliveryState.CANCELLED},
    DeliveryState.RECONNECT: {DeliveryState.QUEUED, DeliveryState.CANCELLED},
    DeliveryState.FAILED: {DeliveryState.QUEUED, DeliveryState.CANCELLED},
    DeliveryState.CANCELLED: set(),
    DeliveryState.PUBLISHED: {DeliveryState.REMOVING, DeliveryState.REMOVED},
    DeliveryState.REMOVING: {DeliveryState.REMOVING, DeliveryState.REMOVED, DeliveryState.REMOVAL_FAILED},
    DeliveryState.REMOVAL_FAILED: {DeliveryState.REMOVING, DeliveryState.REMOVED},
    DeliveryState.REMOVED: set(),
}


def backoff_seconds(attempt: int) -> int:
    """30 s, 1 min, 2 min, 4 min ... capped at 30 min: about an hour of patience in all."""
    return min(BACKOFF_FIRST_SECONDS * 2 ** max(attempt - 1, 0), BACKOFF_CAP_SECONDS)


def is_graph_channel(channel: Channel) -> bool:
    return channel.platform in GRAPH_PLATFORMS


def platform_label(channel: Channel) -> str:
    return channel.get_platform_display()


@dataclass(frozen=True)
class Outcome:
    state: str
    retry_in: int | None = None


# --- queueing (inside the publishing transaction) ---


def check_sendable(post: Post, channel: Channel) -> None:
    """What the platform will refuse anyway, said before anything is queued."""
    connection = ChannelConnection.objects.filter(channel=channel).first()
    label = platform_label(channel)
    if not is_graph_channel(channel):
        raise ServiceError(f"“{channel.name}” is a {label} channel: the Graph API publishes only to Facebook "
                           f"and Instagram. Choose publishing by hand for it.")
    if not channel.external_id:
        raise ServiceError(f"“{channel.name}” has no {label} account id yet; add it to the channel first.")
    if connection is None or not connection.access_token:
        raise ServiceError(f"“{channel.name}” is not connected to {label} yet: a leader needs to connect it.")
    if connection.status == ConnectionStatus.RECONNECT:
        raise ServiceError(f"“{channel.name}” needs reconnecting to {label} before anything can be published.")
    photos = post.images.count()
    if channel.platform == Platform.INSTAGRAM and not photos:
        raise ServiceError("Instagram posts need at least one photo.")
    if channel.platform == Platform.INSTAGRAM and photos > INSTAGRAM_MAX_PHOTOS:
        raise ServiceError(f"Instagram takes at most {INSTAGRAM_MAX_PHOTOS} photos in one post.")


def queue_delivery(user, *, post: Post, channel: Channel, now: datetime | None = None) -> GraphDelivery:
    """Record that ``post`` is to go to ``channel`` and start the worker once the transaction commits."""
    now = now or timezone.now()
    check_sendable(post, channel)
    with transaction.atomic(), acting_as(user, f"Queued for {platform_label(channel)}"):
        delivery, created = GraphDelivery.objects.select_for_update().get_or_create(
            post=post, channel=channel, defaults={"requested_by": user, "requested_at": now},
        )
        if not created:
            _move(delivery, DeliveryState.QUEUED)
            delivery.requested_by, delivery.requested_at, delivery.attempts = user, now, 0
            delivery.error, delivery.error_message, delivery.next_attempt_at = {}, "", None
            delivery.save()
        _enqueue(delivery.pk)
    return delivery


def _enqueue(delivery_id: int) -> None:
    from posts.meta.tasks import deliver_to_platform

    outbox.enqueue(deliver_to_platform, delivery_id)


def _move(delivery: GraphDelivery, to: str) -> None:
    if to not in TRANSITIONS[delivery.state]:
        raise ServiceError(
            f"This delivery is {delivery.get_state_display().lower()}; it cannot become "
            f"“{DeliveryState(to).label.lower()}”."
        )
    delivery.state = to


def _save(delivery: GraphDelivery, reason: str, **fields) -> None:
    """Save what the platform just answered at once, in its own transaction: the idempotency record."""
    for name, value in fields.items():
        setattr(delivery, name, value)
    with transaction.atomic(), acting_as(delivery.requested_by, reason):
        delivery.save(update_fields=[*fields, "updated_at"])


# --- the worker ---


def deliver(delivery_id: int, *, now: datetime | None = None) -> Outcome:
    now = now or timezone.now()
    delivery = _claim(delivery_id, now)
    if delivery is None:
        return Outcome(GraphDelivery.objects.filter(pk=delivery_id).values_list("state", flat=True).first() or "")
    label = platform_label(delivery.channel)
    if delivery.attempts > MAX_ATTEMPTS:  # workers kept dying on it: stop rather than loop for ever
        return _fail(delivery, GraphError(kind=ErrorKind.TRANSIENT, platform=label,
                                          message="Sending was interrupted too many times."), now)
    connection = ChannelConnection.objects.filter(channel=delivery.channel).first()
    if connection is None or not connection.usable:
        return _hold_for_reconnection(delivery, connection, None, now)
    client = GraphClient(connection.access_token, platform=label)
    try:
        if not _still_allowed(delivery, now):
            raise _Withdrawn
        if delivery.channel.platform == Platform.INSTAGRAM:
            _deliver_to_instagram(delivery, client, now)
        else:
            _deliver_to_facebook(delivery, client, now)
        if not delivery.permalink:
            _record_permalink(delivery, client)
        return _published(delivery, now)
    except _Withdrawn:
        _remove_interrupted_post(delivery, client)
        return Outcome(DeliveryState.CANCELLED)
    except GraphError as error:
        if error.kind is ErrorKind.TOKEN:
            return _hold_for_reconnection(delivery, connection, error, now)
        if error.kind is ErrorKind.LIMIT:
            return _hold_for_limit(delivery, error, now)
        if error.rebuild_container and (delivery.container_id or delivery.media_ids):
            _save(delivery, f"{label} asked for the media to be prepared again", container_id="", media_ids={})
        if error.retryable and delivery.attempts < MAX_ATTEMPTS:
            return _retry_later(delivery, error, now)
        return _fail(delivery, error, now)
    except Exception:  # a bug or a database hiccup: keep the delivery moving, and keep the evidence
        logger.exception("Delivery %s to %s stopped unexpectedly", delivery.pk, label)
        error = GraphError(kind=ErrorKind.TRANSIENT, platform=label, message="Something went wrong on our side.")
        if delivery.attempts < MAX_ATTEMPTS:
            return _retry_later(delivery, error, now)
        return _fail(delivery, error, now)


def _claim(delivery_id: int, now: datetime) -> GraphDelivery | None:
    """Take the delivery for this worker; ``None`` if it is done, or another worker holds it."""
    with transaction.atomic():
        delivery = (
            GraphDelivery.objects.select_for_update(of=("self",))
            .select_related("channel", "post", "requested_by").filter(pk=delivery_id).first()
        )
        if delivery is None:
            return None
        abandoned = delivery.state == DeliveryState.SENDING and (delivery.lease_until or now) <= now
        if delivery.state not in (DeliveryState.QUEUED, DeliveryState.RETRYING) and not abandoned:
            return None
        with acting_as(delivery.requested_by, f"Sending to {platform_label(delivery.channel)}"):
            _move(delivery, DeliveryState.SENDING)
            delivery.attempts += 1
            delivery.lease_until = now + LEASE
            delivery.next_attempt_at = None
            delivery.save()
    return delivery


def _still_allowed(delivery: GraphDelivery, now: datetime) -> bool:
    """Re-check, with the children's rows locked, that the post may still go out: consent may have been
    withdrawn, or the post taken down, while this delivery waited. The consent gate is the workflow's own, so
    a child whose face the channel's copy blurs (posts/blur.py) does not stop it."""
    with transaction.atomic():
        post = Post.objects.select_for_update().get(pk=delivery.post_id)
        lacking = consent_problems(post, now=now, lock=True, scopes=[delivery.channel.consent_scope])
        if post.status in SENDABLE and not lacking:
            return True
        if lacking:
            why = (
                f"Photo consent in the {delivery.channel.get_audience_display().lower()} scope is no longer in "
                f"place for {', '.join(p.child.first_name for p in lacking)}, so the post was not sent to "
                f"{delivery.channel.name}."
            )
        else:
            why = f"The post is now {post.get_status_display().lower()}, so it was not sent to {delivery.channel.name}."
        _cancel(delivery, why, now)
    return False


def _cancel(delivery: GraphDelivery, why: str, now: datetime) -> None:
    with transaction.atomic(), acting_as(delivery.requested_by, "Not sent: " + why[:80]):
        _move(delivery, DeliveryState.CANCELLED)
        delivery.error_message, delivery.lease_until = why, None
        delivery.save()
        _tell_leadership(delivery, f"Not sent to {delivery.channel.name}: {delivery.post}", why)


class _Withdrawn(Exception):
    """Consent went, or the post came down, while the delivery waited or between two platform calls."""


def _begin_publish(delivery: GraphDelivery, now: datetime) -> bool:
    """Mark the moment before the call that makes the post visible, after consent is checked once more.

    Returns whether an earlier attempt had already reached this point (and so may have published)."""
    if not _still_allowed(delivery, now):
        raise _Withdrawn
    started_before = delivery.publish_started_at is not None
    if not started_before:
        _save(delivery, "About to publish", publish_started_at=now)
    return started_before


def _visible_call(delivery: GraphDelivery, call):
    """The call that makes the post visible. A refusal (an answer below 500) means nothing was published, so
    the next attempt need not look for it; a timeout or server error leaves that unknown, so it will."""
    try:
        return call()
    except GraphError as error:
        if error.status is not None and error.status < 500:
            _save(delivery, f"Refused by {error.platform}: nothing was published", publish_started_at=None)
        raise


def _remove_interrupted_post(delivery: GraphDelivery, client: GraphClient) -> None:
    """Consent went after an interrupted attempt may already have published: find that post and delete it."""
    if delivery.external_id or delivery.publish_started_at is None:
        return
    try:
        found = _find_and_delete(client, delivery)
        gone = f" It had gone out before an interruption and has now been deleted from {client.platform}."
        note = gone if found else ""
    except GraphError as error:
        note = (f" An interrupted attempt may have published it, and {client.platform} could not be checked "
                f"({error.explain()}): please check the account and delete the post there if it is up.")
    if note:
        _save(delivery, "Checked for a post made before an interruption", error_message=delivery.error_message + note)
        _tell_leadership(delivery, f"Check {delivery.channel.name}: {delivery.post}", delivery.error_message)


def _deliver_to_facebook(delivery: GraphDelivery, client: GraphClient, now: datetime) -> None:
    page_id = delivery.channel.external_id
    images = list(delivery.post.images.order_by("position", "pk"))
    media_ids = dict(delivery.media_ids)
    for image in images:
        if str(image.pk) in media_ids:
            continue  # uploaded by an earlier attempt; unpublished photos wait for us
        # The copy made for the channel's scope, with consent as it is now: never the stored photo when a face
        # in it is to be blurred there.
        copy = scope_copy(image, delivery.channel.consent_scope, now=now)
        photo = Upload(copy.filename, copy.content, copy.content_type)
        media_ids[str(image.pk)] = client.upload_unpublished_photo(page_id, photo=photo, alt_text=image.alt_text)
        _save(delivery, "Photo uploaded, not yet published", media_ids=dict(media_ids))
    if delivery.external_id:
        return
    message = delivery.post.caption.strip()
    if _begin_publish(delivery, now):
        existing = _find_facebook_post(client, page_id, delivery, message)
        if existing:
            _save(delivery, "Found the post made before an interruption", external_id=existing)
            return
    photo_ids = [media_ids[str(image.pk)] for image in images]
    post_id = _visible_call(delivery, lambda: client.create_page_post(page_id, message=message, photo_ids=photo_ids))
    _save(delivery, "Published", external_id=post_id)


def _find_facebook_post(client: GraphClient, page_id: str, delivery: GraphDelivery, message: str) -> str:
    for item in client.recent_page_posts(page_id, since=delivery.publish_started_at - LOOKBACK):
        if (item.get("message") or "").strip() == message:
            return str(item["id"])
    return ""


def _deliver_to_instagram(delivery: GraphDelivery, client: GraphClient, now: datetime) -> None:
    ig_user = delivery.channel.external_id
    caption = delivery.post.caption.strip()
    if not delivery.container_id:
        _build_container(delivery, client, ig_user, caption)
    if delivery.external_id:
        return
    status = client.container_status(delivery.container_id)
    if status == "PUBLISHED":
        media_id = _find_instagram_media(client, ig_user, delivery, caption)
        if not media_id:
            raise GraphError(
                kind=ErrorKind.PERMANENT, platform=client.platform,
                message="Instagram says this post was published, but it was not found among the account's "
                        "latest posts. Check the account, and take the post down there if it should not be up.",
            )
        _save(delivery, "Found the post made before an interruption", external_id=media_id)
        return
    if status in ("ERROR", "EXPIRED"):
        _save(delivery, f"Instagram container {status.lower()}: building a new one", container_id="", media_ids={})
        raise GraphError(kind=ErrorKind.TRANSIENT, platform=client.platform,
                         message=f"Instagram could not prepare the photos (container {status.lower()}).")
    if status != "FINISHED":
        raise GraphError(kind=ErrorKind.TRANSIENT, platform=client.platform,
                         message="Instagram is still preparing the photos.")
    _check_publishing_limit(client, ig_user)
    _begin_publish(delivery, now)
    media_id = _visible_call(delivery, lambda: client.publish_container(ig_user, creation_id=delivery.container_id))
    _save(delivery, "Published", external_id=media_id)


def _build_container(delivery: GraphDelivery, client: GraphClient, ig_user: str, caption: str) -> None:
    scope = delivery.channel.consent_scope
    images = list(delivery.post.images.order_by("position", "pk"))
    if len(images) == 1:
        image = images[0]
        container = client.create_image_container(
            ig_user, image_url=signed_image_url(image, scope=scope), caption=caption, alt_text=image.alt_text
        )
    else:
        media_ids = dict(delivery.media_ids)
        for image in images:
            if str(image.pk) not in media_ids:
                media_ids[str(image.pk)] = client.create_image_container(
                    ig_user, image_url=signed_image_url(image, scope=scope), carousel_item=True
                )
                _save(delivery, "Carousel photo prepared", media_ids=dict(media_ids))
        _wait_for_carousel_items(delivery, client, images, media_ids)
        container = client.create_carousel_container(
            ig_user, children=[media_ids[str(i.pk)] for i in images], caption=caption
        )
    _save(delivery, "Instagram container prepared", container_id=container)


def _wait_for_carousel_items(delivery: GraphDelivery, client: GraphClient, images: list, media_ids: dict) -> None:
    """A carousel may only be made of item containers that are ``FINISHED``: until each is, try again later (the
    items are kept, so the next try only asks again); an item that failed or expired is prepared again."""
    for position, image in enumerate(images, start=1):
        status = client.container_status(media_ids[str(image.pk)])
        if status in ("ERROR", "EXPIRED"):
            del media_ids[str(image.pk)]
            _save(delivery, f"Carousel photo {status.lower()}: preparing it again", media_ids=dict(media_ids))
            raise GraphError(kind=ErrorKind.TRANSIENT, platform=client.platform,
                             message=f"Instagram could not prepare photo {position} ({status.lower()}); it will be "
                                     f"prepared again.")
        if status != "FINISHED":
            raise GraphError(kind=ErrorKind.TRANSIENT, platform=client.platform,
                             message=f"Instagram is still preparing photo {position} of {len(images)}.")


def _check_publishing_limit(client: GraphClient, ig_user: str) -> None:
    """Hold rather than publish into Instagram's daily limit. If the limit cannot be read, publishing goes ahead:
    Instagram refuses a post over the limit anyway (9/2207042), and that refusal holds the post too."""
    try:
        used, allowed = client.publishing_limit(ig_user)
    except GraphError as error:
        if error.kind is ErrorKind.TOKEN:
            raise
        logger.warning("Could not read the Instagram publishing limit for %s: %s", ig_user, error.kind)
        return
    if allowed and used >= allowed:
        raise GraphError(kind=ErrorKind.LIMIT, platform=client.platform,
                         message=f"{used} of the {allowed} posts allowed in 24 hours are used.")


def _find_instagram_media(client: GraphClient, ig_user: str, delivery: GraphDelivery, caption: str) -> str:
    since = (delivery.publish_started_at or delivery.requested_at) - LOOKBACK
    for item in client.recent_media(ig_user):
        stamp = _parse_time(item.get("timestamp"))
        if (item.get("caption") or "").strip() == caption and (stamp is None or stamp >= since):
            return str(item["id"])
    return ""


def _parse_time(value) -> datetime | None:
    try:
        return datetime.strptime(str(value), "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        return None


def _record_permalink(delivery: GraphDelivery, client: GraphClient) -> None:
    # The post is out whatever happens here: a missing link is shown as such, never a failure.
    try:
        link = client.permalink(delivery.external_id)
    except GraphError as error:
        logger.warning("No permalink for %s delivery %s: %s", client.platform, delivery.pk, error.kind)
        return
    if link:
        _save(delivery, "Permalink recorded", permalink=link[:500])


def _published(delivery: GraphDelivery, now: datetime) -> Outcome:
    with transaction.atomic(), acting_as(delivery.requested_by, f"Published on {platform_label(delivery.channel)}"):
        _move(delivery, DeliveryState.PUBLISHED)
        delivery.published_at = delivery.published_at or now
        delivery.lease_until = None
        delivery.error, delivery.error_message = {}, ""
        delivery.save()
        # The workflow recorded the publication when it queued this; now it learns the platform's id and link.
        Publication.objects.update_or_create(
            post=delivery.post, channel=delivery.channel,
            defaults={"published_at": delivery.published_at, "published_by": delivery.requested_by,
                      "url": delivery.permalink, "external_id": delivery.external_id},
        )
    return Outcome(DeliveryState.PUBLISHED)


def _retry_later(delivery: GraphDelivery, error: GraphError, now: datetime) -> Outcome:
    wait = backoff_seconds(delivery.attempts)
    with transaction.atomic(), acting_as(delivery.requested_by, f"Will retry: {error.kind}"):
        _move(delivery, DeliveryState.RETRYING)
        delivery.next_attempt_at = now + timedelta(seconds=wait)
        delivery.lease_until = None
        delivery.error, delivery.error_message = error.as_record(), error.explain()
        delivery.save()
    return Outcome(DeliveryState.RETRYING, retry_in=wait)


def _hold_for_limit(delivery: GraphDelivery, error: GraphError, now: datetime) -> Outcome:
    """Instagram's daily limit is reached: wait and look again, without spending one of the delivery's attempts,
    and tell leadership once (not at every hourly look)."""
    first = (delivery.error or {}).get("kind") != ErrorKind.LIMIT
    due = now + LIMIT_HOLD
    when = timezone.localtime(due).strftime("%H:%M")
    with transaction.atomic(), acting_as(delivery.requested_by, "Held: Instagram's daily publishing limit"):
        _move(delivery, DeliveryState.RETRYING)
        delivery.attempts = max(delivery.attempts - 1, 0)
        delivery.next_attempt_at, delivery.lease_until = due, None
        delivery.error = error.as_record()
        delivery.error_message = f"{error.explain()} Next look at {when}."
        delivery.save()
        if first:
            _tell_leadership(delivery, f"Held by Instagram's daily limit: {delivery.post}", delivery.error_message)
    # No Celery countdown an hour ahead (a broker may redeliver it early): the five-minute sweep picks it up.
    return Outcome(DeliveryState.RETRYING)


def _fail(delivery: GraphDelivery, error: GraphError, now: datetime) -> Outcome:
    gave_up = f" We tried {delivery.attempts} times and have stopped." if error.retryable else ""
    with transaction.atomic(), acting_as(delivery.requested_by, f"Failed: {error.kind}"):
        _move(delivery, DeliveryState.FAILED)
        delivery.lease_until = None
        delivery.error, delivery.error_message = error.as_record(), error.explain() + gave_up
        delivery.save()
        _tell_leadership(delivery, f"Not published on {delivery.channel.name}: {delivery.post}",
                         delivery.error_message)
    return Outcome(DeliveryState.FAILED)


def _hold_for_reconnection(delivery, connection, error: GraphError | None, now: datetime) -> Outcome:
    label = platform_label(delivery.channel)
    why = error.explain() if error else (
        f"“{delivery.channel.name}” is not connected to {label}: a leader needs to connect it with a Page access "
        f"token; the post will then be sent."
    )
    with transaction.atomic(), acting_as(delivery.requested_by, "Held: the channel needs reconnecting"):
        _move(delivery, DeliveryState.RECONNECT)
        delivery.lease_until = None
        delivery.error = error.as_record() if error else {}
        delivery.error_message = why
        delivery.save()
        if connection is not None and error is not None:
            mark_reconnect_needed(connection, why=why, now=now)
        _tell_leadership(delivery, f"Reconnect {delivery.channel.name} to publish: {delivery.post}", why)
    return Outcome(DeliveryState.RECONNECT)


def mark_reconnect_needed(connection: ChannelConnection | int, *, why: str, now: datetime | None = None) -> None:
    """The token no longer works: hold everything for this channel until a leader reconnects it."""
    now = now or timezone.now()
    pk = connection if isinstance(connection, int) else connection.pk
    with transaction.atomic(), acting_as(None, "The platform refused the access token"):
        fresh = ChannelConnection.objects.select_for_update().filter(pk=pk).first()
        if fresh is None:
            return
        if fresh.status == ConnectionStatus.RECONNECT:
            return
        fresh.status, fresh.problem, fresh.problem_at = ConnectionStatus.RECONNECT, why, now
        fresh.save(update_fields=["status", "problem", "problem_at"])


def _tell_leadership(delivery: GraphDelivery, subject: str, message: str) -> None:
    nursery = delivery.post.nursery
    notify(users_with_role(nursery, Role.LEADERSHIP), subject, "nursery/email/message.txt",
           {"message": message}, nursery=nursery, url=post_url(delivery.post))


def resume_after_reconnection(channel: Channel) -> int:
    """Send again what was held while the channel's token did not work."""
    held = list(GraphDelivery.objects.select_for_update().filter(channel=channel, state=DeliveryState.RECONNECT))
    for delivery in held:
        with acting_as(delivery.requested_by, "Channel reconnected: sending again"):
            _move(delivery, DeliveryState.QUEUED)
            delivery.attempts = 0
            delivery.save()
        _enqueue(delivery.pk)
    # Deletions that stopped for the token are asked again: a takedown must not wait for someone to notice.
    stuck = list(GraphDelivery.objects.select_for_update().select_related("channel").filter(
        channel=channel, state=DeliveryState.REMOVAL_FAILED, error__kind=ErrorKind.TOKEN.value))
    for delivery in stuck:
        _request_removal(delivery, delivery.removed_by, timezone.now())
    return len(held) + len(stuck)


def sweep_due(*, now: datetime | None = None) -> int:
    """Restart deliveries whose retry is due or whose worker died (their lease ran out)."""
    now = now or timezone.now()
    due = list(
        GraphDelivery.objects.filter(state=DeliveryState.RETRYING, next_attempt_at__lte=now)
        .values_list("pk", flat=True)
    ) + list(
        GraphDelivery.objects.filter(state=DeliveryState.SENDING, lease_until__lte=now).values_list("pk", flat=True)
    )
    # Deletions waiting to try again, or whose worker died (or whose message was lost) once their lease ran out.
    removals = list(
        GraphDelivery.objects.filter(state=DeliveryState.REMOVING)
        .filter(Q(next_attempt_at__lte=now) | Q(next_attempt_at__isnull=True, lease_until__lte=now)
                | Q(next_attempt_at__isnull=True, lease_until__isnull=True, updated_at__lte=now - LEASE))
        .values_list("pk", flat=True)
    )
    from posts.meta.tasks import deliver_to_platform, remove_from_platform

    outbox.enqueue_many(deliver_to_platform, [(delivery_id,) for delivery_id in due])
    outbox.enqueue_many(remove_from_platform, [(delivery_id,) for delivery_id in removals])
    return len(due) + len(removals)


def retry_delivery(user, *, delivery: GraphDelivery, now: datetime | None = None) -> GraphDelivery:
    """A leader sends a failed delivery again (consent is re-checked by the worker before anything goes out)."""
    if not is_leader(user, delivery.post.nursery):
        raise ServiceError("Only the leadership team publishes posts.")
    if delivery.state == DeliveryState.REMOVAL_FAILED:
        with transaction.atomic():
            delivery = GraphDelivery.objects.select_for_update().select_related("channel").get(pk=delivery.pk)
            if delivery.state == DeliveryState.REMOVAL_FAILED:
                client_for(delivery.channel)
                _request_removal(delivery, user, now or timezone.now())
        return delivery
    if delivery.state != DeliveryState.FAILED:
        raise ServiceError(f"Only a failed delivery can be tried again; this one is "
                           f"{delivery.get_state_display().lower()}.")
    check_sendable(delivery.post, delivery.channel)
    return queue_delivery(user, post=delivery.post, channel=delivery.channel, now=now)


# --- taking down ---

GONE_SUBCODE = 33  # "Object with ID ... does not exist": already deleted on the platform


def client_for(channel: Channel) -> GraphClient:
    connection = ChannelConnection.objects.filter(channel=channel).first()
    label = platform_label(channel)
    if connection is None or not connection.access_token:
        raise ServiceError(f"“{channel.name}” is not connected to {label}; do this on {label} by hand.")
    if connection.status == ConnectionStatus.RECONNECT:
        raise ServiceError(f"“{channel.name}” needs reconnecting to {label} first: {connection.problem}")
    return GraphClient(connection.access_token, platform=label)


def call_platform(channel: Channel, call, *, now: datetime | None = None) -> dict:
    """Run ``call(client)`` for a leader or the safeguarding lead waiting on the answer: a refusal becomes a
    ServiceError in plain words, and a dead token also puts the channel into "reconnect needed"."""
    client = client_for(channel)
    try:
        return call(client)
    except GraphError as error:
        if error.kind is ErrorKind.TOKEN:
            from posts.meta.tasks import note_refused_token

            # Sent now, not through the outbox: the ServiceError below rolls the caller's transaction back (and an
            # outbox row with it), and the channel must still show "reconnect needed". Best effort is enough:
            # if the broker is down, the next call with the same dead token is refused and tries again.
            outbox.send_best_effort(note_refused_token, channel.connection.pk, error.explain())
        raise ServiceError(error.explain()) from None


def take_down_delivery(user, *, post: Post, channel: Channel, now: datetime | None = None) -> GraphDelivery | None:
    """Make sure ``post`` is not, and will not be, on ``channel``'s platform; ``None`` if the Graph never had it.

    A published post is deleted on the platform first and the removal recorded only once the platform
    confirms (or says it is already gone): a refusal raises ServiceError, so the caller's transaction rolls
    back and the takedown stays open with the reason shown. A delivery still waiting is stopped."""
    now = now or timezone.now()
    if not is_leader(user, post.nursery):
        raise ServiceError("Only the leadership team takes posts down.")
    with transaction.atomic():
        delivery = GraphDelivery.objects.select_for_update().filter(post=post, channel=channel).first()
        if delivery is None or delivery.state in (DeliveryState.CANCELLED, DeliveryState.REMOVED):
            return delivery
        if delivery.state == DeliveryState.SENDING and delivery.lease_until and delivery.lease_until > now:
            raise ServiceError(f"The post is being sent to {channel.name} at this moment; try again in a minute.")
        label = platform_label(channel)
        if delivery.state in (DeliveryState.REMOVING, DeliveryState.REMOVAL_FAILED):
            if delivery.state == DeliveryState.REMOVAL_FAILED:  # asked again: try again
                client_for(channel)
                _request_removal(delivery, user, now)
            return delivery
        if delivery.state == DeliveryState.PUBLISHED:
            client_for(channel)  # not connected, or needing reconnection: say so now, the leader does it by hand
            _request_removal(delivery, user, now)
            return delivery
        note = ""
        if delivery.publish_started_at and not delivery.external_id:
            # An interrupted attempt may have made the post: find it and delete it before saying it is gone.
            found = call_platform(channel, lambda client: _find_and_delete(client, delivery), now=now)
            note = f" It had gone out during an interrupted attempt and was deleted from {label}." if found else ""
        with acting_as(user, "Taken down before it was sent"):
            _move(delivery, DeliveryState.CANCELLED)
            delivery.lease_until = delivery.next_attempt_at = None
            delivery.error_message = f"Taken down before it was sent to {label}.{note}"
            delivery.save()
        return delivery


def post_for_photo(channel: Channel, photo_id: str) -> Post | None:
    """Our post that ``photo_id`` belongs to: a comment on one photo of a multi-photo Facebook post names the
    photo (uploaded unpublished, then attached), not the post."""
    if channel.platform != Platform.FACEBOOK or not photo_id.isdigit():
        return None
    # media_ids maps image pk -> photo id; matching the quoted id as text works on SQLite and PostgreSQL alike.
    for delivery in GraphDelivery.objects.filter(channel=channel, media_ids__icontains=f'"{photo_id}"').select_related(
            "post"):
        if photo_id in {str(value) for value in delivery.media_ids.values()}:
            return delivery.post
    return None


def _request_removal(delivery: GraphDelivery, user, now: datetime) -> None:
    """Record that the post is to be deleted and start the worker after commit, like publishing."""
    label = platform_label(delivery.channel)
    with acting_as(user, f"Deletion from {label} requested"):
        _move(delivery, DeliveryState.REMOVING)
        delivery.removed_by, delivery.attempts = user, 0
        delivery.next_attempt_at = delivery.lease_until = None
        delivery.error_message = f"Being deleted from {label}."
        delivery.save()
    from posts.meta.tasks import remove_from_platform

    outbox.enqueue(remove_from_platform, delivery.pk)


def remove(delivery_id: int, *, now: datetime | None = None) -> Outcome:
    """The worker's half of a takedown: delete the post on the platform, with retries like publishing; when the
    platform confirms, the posts workflow records the removal (and tells who needs to know)."""
    now = now or timezone.now()
    with transaction.atomic():
        delivery = (
            GraphDelivery.objects.select_for_update(of=("self",))
            .select_related("channel", "post", "removed_by").filter(pk=delivery_id).first()
        )
        if delivery is None or delivery.state != DeliveryState.REMOVING:
            return Outcome(delivery.state if delivery else "")
        if delivery.lease_until and delivery.lease_until > now:
            return Outcome(DeliveryState.REMOVING)  # another worker holds it
        with acting_as(delivery.removed_by, f"Deleting from {platform_label(delivery.channel)}"):
            delivery.attempts += 1
            delivery.lease_until, delivery.next_attempt_at = now + LEASE, None
            delivery.save()
    label = platform_label(delivery.channel)
    connection = ChannelConnection.objects.filter(channel=delivery.channel).first()
    try:
        if connection is None or not connection.usable:
            raise GraphError(kind=ErrorKind.TOKEN, platform=label,
                             message=f"“{delivery.channel.name}” is not connected to {label} any more.")
        answer = delete_object(GraphClient(connection.access_token, platform=label), delivery.external_id)
    except GraphError as error:
        if error.kind is ErrorKind.TOKEN and connection is not None and connection.usable:
            mark_reconnect_needed(connection, why=error.explain(), now=now)
        if error.retryable and delivery.attempts < MAX_ATTEMPTS:
            wait = backoff_seconds(delivery.attempts)
            due = now + timedelta(seconds=wait)
            message = f"{error.explain()} Next try at {timezone.localtime(due):%H:%M}."
            _save(delivery, f"Deletion will be retried: {error.kind}", lease_until=None, next_attempt_at=due,
                  error=error.as_record(), error_message=message)
            return Outcome(DeliveryState.REMOVING, retry_in=wait)
        return _removal_failed(delivery, error, now)
    from posts.services import record_platform_removal

    with transaction.atomic(), acting_as(delivery.removed_by, f"Deleted from {label}"):
        _move(delivery, DeliveryState.REMOVED)
        delivery.removed_at, delivery.lease_until = now, None
        delivery.error, delivery.error_message = {"deletion": answer}, ""
        delivery.save()
        record_platform_removal(post=delivery.post, channel=delivery.channel, removed_by=delivery.removed_by, now=now)
    return Outcome(DeliveryState.REMOVED)


def _removal_failed(delivery: GraphDelivery, error: GraphError, now: datetime) -> Outcome:
    gave_up = f" We tried {delivery.attempts} times and have stopped." if error.retryable else ""
    label = platform_label(delivery.channel)
    why = (f"{error.explain()}{gave_up} The post is still on {label}: delete it there by hand, or reconnect the "
           f"channel and press “Try again”.")
    with transaction.atomic(), acting_as(delivery.removed_by, f"Deletion failed: {error.kind}"):
        _move(delivery, DeliveryState.REMOVAL_FAILED)
        delivery.lease_until = None
        delivery.error, delivery.error_message = error.as_record(), why
        delivery.save()
        _tell_leadership(delivery, f"Still on {delivery.channel.name}: {delivery.post}", why)
    return Outcome(DeliveryState.REMOVAL_FAILED)


def delete_object(client: GraphClient, object_id: str) -> dict:
    """Delete a post or comment; one already gone counts as deleted."""
    try:
        return client.delete(object_id)
    except GraphError as error:
        if error.code == 100 and error.error_subcode == GONE_SUBCODE:
            return {"already_gone": True, "message": error.message}
        raise


def _find_and_delete(client: GraphClient, delivery: GraphDelivery) -> str:
    caption, account = delivery.post.caption.strip(), delivery.channel.external_id
    if delivery.channel.platform == Platform.INSTAGRAM:
        found = _find_instagram_media(client, account, delivery, caption)
    else:
        found = _find_facebook_post(client, account, delivery, caption)
    if found:
        delete_object(client, found)
    return found
