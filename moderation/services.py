"""Every state change of comment moderation: intake, screening, the review queue and escalation."""

import hashlib
import json
import logging
import time
from collections import Counter
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from moderation import screening
from moderation.models import (
    OPEN_STATUSES,
    Action,
    Category,
    Comment,
    CommentEvent,
    CommentKind,
    CommentSource,
    CommentState,
    CommentVersion,
    Concern,
    Escalation,
    ItemAction,
    ItemStatus,
    ModerationItem,
    PlatformActionStatus,
    Priority,
    RuleHit,
    ScreeningRule,
    Severity,
    WebhookDelivery,
)
from moderation.platform import Change, changes_in, post_for_platform_object
from nursery import outbox
from nursery.audit import acting_as
from nursery.errors import ServiceError
from nursery.models import Child, Nursery, Role
from nursery.permissions import has_role, require_role, users_with_role
from nursery.services import notify
from posts.models import Channel, Publication

logger = logging.getLogger(__name__)

RULE_EDITORS = (Role.LEADERSHIP, Role.SAFEGUARDING_LEAD)
REVIEWERS = (Role.SAFEGUARDING_LEAD,)
QUEUE_VIEWERS = (Role.SAFEGUARDING_LEAD, Role.LEADERSHIP)

# The review state machine, declared once: action -> (statuses it may start from, status it leads to).
TRANSITIONS = {
    "claim": ({ItemStatus.PENDING, ItemStatus.REOPENED}, ItemStatus.CLAIMED),
    "release": ({ItemStatus.CLAIMED}, ItemStatus.PENDING),
    "resolve": ({ItemStatus.PENDING, ItemStatus.REOPENED, ItemStatus.CLAIMED}, ItemStatus.RESOLVED),
    "acknowledge": ({ItemStatus.PENDING, ItemStatus.REOPENED}, ItemStatus.RESOLVED),
    "reopen": ({ItemStatus.RESOLVED}, ItemStatus.REOPENED),
}


def _transition(item: ModerationItem, name: str) -> None:
    allowed_from, to = TRANSITIONS[name]
    if item.status not in allowed_from:
        raise ServiceError(_already_handled(item))
    item.status = to
    item.version += 1


def _already_handled(item: ModerationItem) -> str:
    if item.status == ItemStatus.RESOLVED:
        who = (item.resolved_by.get_full_name() or item.resolved_by.username) if item.resolved_by else "Someone"
        when = timezone.localtime(item.resolved_at).strftime("%H:%M on %-d %b")
        return f"Already handled: {who} resolved this item at {when} ({item.get_action_display().lower()})."
    if item.status == ItemStatus.CLAIMED and item.claimed_by:
        who = item.claimed_by.get_full_name() or item.claimed_by.username
        return f"Already handled: {who} has claimed this item."
    return "Already handled: this item changed since you opened it. Look at it again."


# --- screening rules ------------------------------------------------------------------------------------------

DEFAULT_RULES = [
    # name, kind, category, severity, words / pattern / detector
    ("Children's full names", "detector", Category.CHILD_NAMED, Severity.HIGH, "child_full_names"),
    ("First names of the children in the post's photos", "detector", Category.CHILD_NAMED, Severity.MEDIUM,
     "child_first_names"),
    ("Phone numbers", "detector", Category.PERSONAL_DATA, Severity.HIGH, "phone"),
    ("Email addresses", "detector", Category.PERSONAL_DATA, Severity.MEDIUM, "email"),
    ("Postcodes", "detector", Category.PERSONAL_DATA, Severity.MEDIUM, "postcode"),
    ("Friend requests and private messages", "detector", Category.PRIVATE_CONTACT, Severity.HIGH,
     "contact_attempt"),
    ("Foul language", "words", Category.FOUL_LANGUAGE, Severity.MEDIUM,
     "fuck\nfucking\nshit\nbitch\nbastard\ncunt\ndickhead\nwanker\nprick\ntwat\narsehole\nslag\nwhore\npiss off"),
    ("Sharing and screenshots", "words", Category.SHARING, Severity.MEDIUM,
     "screenshot\nscreenshotted\nscreen shot\nscreen grab\nshared it\nsharing this\nrepost\nreposted\n"
     "saved the photo\nsaved the picture\ndownloaded the photo\nsend me the photo\nforward it"),
    ("Safeguarding concern words", "words", Category.SAFEGUARDING, Severity.HIGH,
     "bruise\nbruises\nbruised\nhurt him\nhurt her\nhit him\nhit her\nsmacked\nabuse\nabused\nneglect\n"
     "neglected\ninappropriate touching\ntouched him\ntouched her\nscared to go home\nsocial services\n"
     "grooming\nrunaway\nself harm"),
]


def install_default_rules(user, *, nursery: Nursery) -> int:
    """Give a nursery the shipped rule set (rules already there by the same name are left alone)."""
    if user is not None:
        require_role(user, nursery, *RULE_EDITORS)
    created = 0
    with transaction.atomic(), acting_as(user, "Default screening rules installed"):
        for name, kind, category, severity, spec in DEFAULT_RULES:
            fields = {"kind": kind, "category": category, "severity": severity, "created_by": user}
            fields[{"detector": "detector", "words": "words", "regex": "pattern"}[kind]] = spec
            _, made = ScreeningRule.objects.get_or_create(nursery=nursery, name=name, defaults=fields)
            created += made
    return created


def save_rule(user, *, rule: ScreeningRule) -> ScreeningRule:
    """Create or change a rule (validated: a regular expression must compile and be safe)."""
    require_role(user, rule.nursery, *RULE_EDITORS)
    if rule.created_by_id is None:
        rule.created_by = user
    try:
        rule.full_clean()
    except ValidationError as exc:
        raise ServiceError(" ".join(exc.messages)) from exc
    with transaction.atomic(), acting_as(user, "Screening rule saved"):
        rule.save()
    return rule


def screening_context(comment: Comment) -> screening.Context:
    """Full names of every child of the nursery; first names of the children pictured in the post."""
    children = Child.objects.filter(nursery_id=comment.nursery_id).values_list("first_name", "last_name")
    pictured = []
    if comment.post_id:
        pictured = list(
            Child.objects.filter(pictured_in__post_id=comment.post_id).values_list("first_name", flat=True).distinct()
        )
    return screening.Context(full_names=[f"{first} {last}" for first, last in children], pictured_first_names=pictured)


def _screen(comment: Comment) -> list[screening.Found]:
    rules = ScreeningRule.objects.filter(nursery_id=comment.nursery_id, active=True)
    return screening.screen(comment.text, rules, screening_context(comment))


def _priority(found: list[screening.Found], comment: Comment) -> int:
    worst = max((f.severity for f in found), default=Priority.ACKNOWLEDGE)
    # Rules read text only: what they cannot read is never "clean" (an image may show anything), and a post by
    # someone else on the Page breaks the policy by being there.
    if _needs_eyes(comment):
        worst = max(worst, Priority.MEDIUM)
    return worst


def _needs_eyes(comment: Comment) -> str:
    """Why the comment needs a person to look whatever the rules found ("" when the rules decide)."""
    if comment.kind == CommentKind.VISITOR_POST:
        return "A post by someone else on the Page: the policy does not allow others to post there."
    if comment.photo_url:
        return "It carries an image (a photo, GIF or sticker) that rules cannot read: look at it."
    if not comment.text.strip():
        return "It has no text (an image or sticker the notification did not include): open it on the platform."
    return ""


def _describe(found: list[screening.Found], comment: Comment) -> str:
    eyes = _needs_eyes(comment)
    if not found:
        return f"Screened: no rule matched. {eyes}" if eyes else "Screened: no rule matched (acknowledge lane)."
    labels = sorted({Category(f.category).label for f in found})
    return f"Screened: {len(found)} hit(s): {', '.join(labels)}." + (f" {eyes}" if eyes else "")


def _replace_hits(item: ModerationItem, found: list[screening.Found]) -> None:
    item.hits.all().delete()
    RuleHit.objects.bulk_create(
        RuleHit(item=item, rule_id=f.rule_id, rule_name=f.rule_name, category=f.category, severity=f.severity,
                start=f.start, end=f.end, matched=f.matched)
        for f in found
    )


def _queue_url(item: ModerationItem) -> str:
    return reverse("moderation:item", args=[item.pk])


def _tell_reviewers_now(item: ModerationItem, subject: str, message: str) -> None:
    notify(users_with_role(item.nursery, Role.SAFEGUARDING_LEAD), subject, "moderation/email/item.txt",
           {"message": message, "item": item}, nursery=item.nursery, url=_queue_url(item))


def _screen_into_queue(comment: Comment, *, now: datetime, why: str) -> ModerationItem:
    """Screen the comment's current text and put it in the queue, or update (reopen) its item."""
    found = _screen(comment)
    priority, points = _priority(found, comment), screening.score(found)
    item = ModerationItem.objects.select_for_update().filter(comment=comment).first()
    if item is None:
        item = ModerationItem.objects.create(
            nursery_id=comment.nursery_id, comment=comment, channel_id=comment.channel_id, priority=priority,
            score=points, opened_at=now,
        )
        ItemAction.objects.create(item=item, kind=ItemAction.Kind.OPENED, at=now,
                                  note=f"{why} {_describe(found, comment)}")
    else:
        reopened = item.status == ItemStatus.RESOLVED
        if reopened:
            _transition(item, "reopen")
            item.round += 1
            item.opened_at = now
            item.claimed_by = item.claimed_at = item.resolved_by = item.resolved_at = None
            item.action, item.reason = "", ""
        else:
            item.version += 1
        item.priority, item.score = priority, points
        item.save()
        kind = ItemAction.Kind.REOPENED if reopened else ItemAction.Kind.RESCREENED
        ItemAction.objects.create(item=item, kind=kind, at=now, note=f"{why} {_describe(found, comment)}")
    _replace_hits(item, found)
    if priority >= Priority.HIGH:
        _tell_reviewers_now(item, "A comment needs review now",
                            f"A comment was flagged: {_describe(found, comment)}")
    return item


def _add_version(comment: Comment, text: str, now: datetime) -> bool:
    """Keep ``text`` as the comment's newest version unless it already is; True when it changed."""
    latest = comment.versions.order_by("-number").first()
    if latest is not None and latest.text == text:
        return False
    CommentVersion.objects.create(comment=comment, number=(latest.number + 1) if latest else 1, text=text, seen_at=now)
    comment.text = text
    return True


# --- intake: webhooks -----------------------------------------------------------------------------------------


def receive_delivery(*, body: bytes, object_type: str, now: datetime | None = None) -> int | None:
    """Store a verified delivery as received: one statement, committed before Meta is answered.

    ``INSERT … ON CONFLICT DO NOTHING`` on the body's hash: Meta retries for hours, and an identical body is
    stored once. No task is queued per delivery: ``drain_deliveries`` (every few seconds, in the worker)
    processes what was received, in batches. Returns the new row's id, or None for a body already stored.

    On PostgreSQL, unless ``WEBHOOK_SYNCHRONOUS_COMMIT`` is on, the statement turns ``synchronous_commit`` off
    for its own transaction only: the commit is in the server before the 200 (a crash of the web process loses
    nothing), but the server flushes it to disk within about 0.6 s instead of before answering, which cost
    most of the request; a crash of PostgreSQL itself in that window loses those deliveries.
    """
    now = now or timezone.now()
    table = connection.ops.quote_name(WebhookDelivery._meta.db_table)
    source = "VALUES (%s, %s, %s, %s, %s, '')"
    if connection.vendor == "postgresql" and not settings.WEBHOOK_SYNCHRONOUS_COMMIT:
        source = "SELECT %s, %s, %s, %s, %s, '' FROM set_config('synchronous_commit', 'off', true)"
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (received_at, body, body_sha256, object_type, status, notes) "
            f"{source} ON CONFLICT (body_sha256) DO NOTHING RETURNING id",
            [now, body.decode("utf-8"), hashlib.sha256(body).hexdigest(), object_type[:32],
             WebhookDelivery.Status.RECEIVED],
        )
        row = cursor.fetchone()
    return row[0] if row else None


DRAIN_TIME_BUDGET = 30.0  # seconds one drain keeps taking deliveries (the task's soft limit is 60)
DRAIN_BATCH_SIZE = 200  # deliveries claimed, and their new comments stored and screened, together


def drain_deliveries(*, now: datetime | None = None, time_budget: float = DRAIN_TIME_BUDGET,
                     batch_size: int = DRAIN_BATCH_SIZE) -> int:
    """Process received deliveries, oldest first, a batch at a time, until none is left or the time budget is
    spent. Returns how many deliveries were processed.

    A batch is claimed with ``FOR UPDATE SKIP LOCKED`` and processed in that transaction, so drains running
    side by side in several workers share the backlog and never take the same delivery, and a worker killed
    half-way leaves the whole batch received for the next drain. The new comments of a batch are stored,
    screened and queued together (``_process_batch``: a few statements a batch, where one at a time took
    about twenty a comment). Should a batch fail, its deliveries are processed again one by one, each in its
    own savepoint: one that fails is logged, left received for the next drain (processing is idempotent) and
    skipped in this one, and the others are not held up.
    """
    deadline = time.monotonic() + time_budget
    processed, failed = 0, []
    while time.monotonic() < deadline:
        with transaction.atomic():
            batch = list(
                WebhookDelivery.objects.select_for_update(skip_locked=True)
                .filter(status=WebhookDelivery.Status.RECEIVED).exclude(pk__in=failed)
                .order_by("received_at", "id")[:batch_size]
            )
            if not batch:
                break
            try:
                with transaction.atomic():
                    _process_batch(batch, now=now or timezone.now())
            except Exception:
                logger.warning("A batch of %s webhook deliveries failed; processing them one by one", len(batch),
                               exc_info=True)
            else:
                processed += len(batch)
                continue
            for delivery in batch:
                try:
                    with transaction.atomic():
                        process_delivery(delivery_id=delivery.pk, now=now)
                except Exception:
                    logger.exception("Webhook delivery %s could not be processed; the next drain tries again",
                                     delivery.pk)
                    failed.append(delivery.pk)
                else:
                    processed += 1
    return processed


def _read_delivery(delivery: WebhookDelivery) -> tuple[list[Change], list[str]]:
    """The comment events a stored delivery holds, and a note for each change that was not one."""
    return changes_in(json.loads(delivery.body))


def process_delivery(*, delivery_id: int, now: datetime | None = None) -> int:
    """Apply every comment event of a stored delivery; running it again changes nothing."""
    now = now or timezone.now()
    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    if delivery.status == WebhookDelivery.Status.PROCESSED:
        return 0
    changes, notes = _read_delivery(delivery)
    applied = 0
    for change in changes:
        note = _apply_one(change, delivery=delivery, now=now)
        if note:
            notes.append(note)
        else:
            applied += 1
    _mark_processed([(delivery, notes)], now=now)
    return applied


def _apply_one(change: Change, *, delivery: WebhookDelivery, now: datetime, channels: dict | None = None) -> str:
    """Apply one event in its own savepoint; a note when it was skipped or had been applied before."""
    try:
        with transaction.atomic(), acting_as(None, f"Platform webhook ({change.platform})"):
            return _apply_change(change, delivery=delivery, now=now, channels=channels)
    except IntegrityError:
        return f"comment {change.comment_id} {change.verb}: already recorded"


def _mark_processed(done: list[tuple[WebhookDelivery, list[str]]], *, now: datetime) -> None:
    for delivery, notes in done:
        for note in notes:
            logger.info("Webhook delivery %s: %s", delivery.pk, note)
        delivery.status = WebhookDelivery.Status.PROCESSED
        delivery.processed_at = now
        delivery.notes = "\n".join(notes)
    # One UPDATE per distinct note (most deliveries have none), not bulk_update's CASE of every id: planning
    # that took longer than the rest of the batch.
    by_notes: dict[str, list[int]] = {}
    for delivery, _ in done:
        by_notes.setdefault(delivery.notes, []).append(delivery.pk)
    for notes, ids in by_notes.items():
        WebhookDelivery.objects.filter(pk__in=ids).update(
            status=WebhookDelivery.Status.PROCESSED, processed_at=now, notes=notes)


def _channels_for(changes: list[Change]) -> dict[tuple[str, str], Channel]:
    """The channels (with their nursery) that the changes' accounts name, in one query."""
    wanted = {(c.platform, c.account_id) for c in changes}
    found = Channel.objects.filter(external_id__in={a for _, a in wanted}).select_related("nursery")
    return {(ch.platform, ch.external_id): ch for ch in found if (ch.platform, ch.external_id) in wanted}


def _process_batch(batch: list[WebhookDelivery], *, now: datetime) -> None:
    """Apply every event of a batch of deliveries: what ``process_delivery`` does for each, in bulk.

    A comment that is new (added once in the batch, not stored yet, on a known channel, not by the Page
    itself) is stored, screened and queued with the batch's other new comments (``_add_new_comments``).
    Every other event (edits, removals, hides, a second event on one comment, repeats of a stored comment)
    concerns other comments, so it is applied after them one at a time, exactly as before.
    """
    read = [(delivery, *_read_delivery(delivery)) for delivery in batch]
    changes = [(delivery, change) for delivery, found, _ in read for change in found]
    channels = _channels_for([c for _, c in changes])
    seen = Counter((c.platform, c.comment_id) for _, c in changes)
    # Filtered as the unique index is (platform, external id, where the id is not empty): read from it.
    stored = set(
        Comment.objects.filter(platform__in={c.platform for _, c in changes},
                               external_id__in={c.comment_id for _, c in changes if c.comment_id})
        .exclude(external_id="").values_list("platform", "external_id")
    )
    fresh = [
        (delivery, change) for delivery, change in changes
        if change.verb == CommentEvent.Verb.ADD and change.comment_id
        and (change.platform, change.account_id) in channels
        and not (change.author_id and change.author_id == change.account_id)
        and seen[(change.platform, change.comment_id)] == 1 and (change.platform, change.comment_id) not in stored
    ]
    if fresh:
        _add_new_comments(fresh, channels, now=now)
    taken = {id(change) for _, change in fresh}
    done = []
    for delivery, found, notes in read:
        for change in found:
            if id(change) not in taken:
                note = _apply_one(change, delivery=delivery, now=now, channels=channels)
                if note:
                    notes.append(note)
        done.append((delivery, notes))
    _mark_processed(done, now=now)


def _add_new_comments(fresh: list[tuple[WebhookDelivery, Change]], channels: dict, *, now: datetime) -> None:
    """Store, screen and queue new comments together: the same rows, history and notifications as
    ``_apply_change`` and ``_screen_into_queue`` write for one, in one INSERT per table.

    Rules and the names they look for are read once per nursery (and per post) for the whole batch; the
    reviewers are told once per nursery and batch about what was flagged, not once per comment.
    """
    posts: dict[tuple[int, str], object] = {}
    comments, versions, events = [], [], []
    for _, change in fresh:
        channel = channels[(change.platform, change.account_id)]
        post = None
        if change.kind != CommentKind.VISITOR_POST:
            if (channel.pk, change.post_id) not in posts:
                posts[(channel.pk, change.post_id)] = _post_for(channel, change.post_id)
            post = posts[(channel.pk, change.post_id)]
        comment = Comment(
            nursery=channel.nursery, channel=channel, platform=change.platform, source=CommentSource.WEBHOOK,
            kind=change.kind, external_id=change.comment_id, external_post_id=change.post_id,
            external_parent_id=change.parent_id, author_external_id=change.author_id,
            author_name=change.author_name[:200], created_on_platform=change.created_time, received_at=now,
            post=post, photo_url=change.photo_url, text=change.text or "",
        )
        comment.link = (change.link or _publication_link(comment, cache=posts))[:1000]
        comments.append(comment)
    _create_with_history(comments, Comment, [c.platform for c in comments])
    for (delivery, change), comment in zip(fresh, comments, strict=True):
        versions.append(CommentVersion(comment=comment, number=1, text=comment.text, seen_at=now))
        events.append(CommentEvent(comment=comment, delivery=delivery, verb=change.verb, key=_event_key(change),
                                   payload=change.raw, received_at=now))
    # The events' unique keys are what makes a repeat fail: the whole batch then goes one by one.
    CommentEvent.objects.bulk_create(events)
    CommentVersion.objects.bulk_create(versions)

    screener = _BatchScreener()
    items, found_by_item = [], []
    for comment in comments:
        found = screener.screen(comment)
        items.append(ModerationItem(
            nursery=comment.nursery, comment=comment, channel=comment.channel,
            priority=_priority(found, comment), score=screening.score(found), opened_at=now,
        ))
        found_by_item.append(found)
    _create_with_history(items, ModerationItem, [c.platform for c in comments])
    new = {CommentKind.VISITOR_POST: "New post by someone else on the Page."}
    ItemAction.objects.bulk_create(
        ItemAction(item=item, kind=ItemAction.Kind.OPENED, at=now,
                   note=f"{new.get(comment.kind, 'New comment from the platform.')} {_describe(found, comment)}")
        for item, comment, found in zip(items, comments, found_by_item, strict=True)
    )
    RuleHit.objects.bulk_create(
        RuleHit(item=item, rule_id=f.rule_id, rule_name=f.rule_name, category=f.category, severity=f.severity,
                start=f.start, end=f.end, matched=f.matched)
        for item, found in zip(items, found_by_item, strict=True) for f in found
    )
    flagged = [(item, found) for item, found in zip(items, found_by_item, strict=True)
               if item.priority >= Priority.HIGH]
    for nursery_id in {item.nursery_id for item, _ in flagged}:
        here = [(item, found) for item, found in flagged if item.nursery_id == nursery_id]
        item, found = here[0]
        if len(here) == 1:
            _tell_reviewers_now(item, "A comment needs review now",
                                f"A comment was flagged: {_describe(found, item.comment)}")
        else:
            nursery = item.comment.nursery
            notify(users_with_role(nursery, Role.SAFEGUARDING_LEAD), f"{len(here)} comments need review now",
                   "moderation/email/items.txt", {"items": [i for i, _ in here]}, nursery=nursery,
                   url=reverse("moderation:queue"))


def _create_with_history(objects: list, model, platforms: list[str]) -> None:
    """INSERT the rows and their history rows, with the reason ``_apply_change`` gives one (per platform)."""
    for platform in dict.fromkeys(platforms):
        bulk_create_with_history([o for o, p in zip(objects, platforms, strict=True) if p == platform], model,
                                 default_change_reason=f"Platform webhook ({platform})")


class _BatchScreener:
    """Screening for many comments at once: each nursery's active rules and children's names read once, the
    pictured children's first names once per post."""

    def __init__(self):
        self.rules: dict[int, list[ScreeningRule]] = {}
        self.names: dict[int, list[str]] = {}
        self.pictured: dict[int, list[str]] = {}

    def screen(self, comment: Comment) -> list[screening.Found]:
        nursery_id = comment.nursery_id
        if nursery_id not in self.rules:
            self.rules[nursery_id] = list(ScreeningRule.objects.filter(nursery_id=nursery_id, active=True))
            self.names[nursery_id] = [
                f"{first} {last}" for first, last in
                Child.objects.filter(nursery_id=nursery_id).values_list("first_name", "last_name")
            ]
        pictured = []
        if comment.post_id:
            if comment.post_id not in self.pictured:
                self.pictured[comment.post_id] = list(
                    Child.objects.filter(pictured_in__post_id=comment.post_id).values_list("first_name", flat=True)
                    .distinct()
                )
            pictured = self.pictured[comment.post_id]
        context = screening.Context(full_names=self.names[nursery_id], pictured_first_names=pictured)
        return screening.screen(comment.text, self.rules[nursery_id], context)


def _event_key(change: Change) -> str:
    key = f"{change.platform}:{change.comment_id}:{change.verb}"
    if change.verb == CommentEvent.Verb.EDITED:  # one comment may be edited many times: one event per text
        key += ":" + hashlib.sha256((change.text or "").encode()).hexdigest()[:24]
    elif change.verb in (CommentEvent.Verb.HIDE, CommentEvent.Verb.UNHIDE):  # may toggle: one per notification
        key += f":{change.event_time}"
    return key[:255]


def _post_for(channel: Channel, post_id: str):
    if not post_id:
        return None
    # Facebook names a post "<page id>_<post id>"; a publication may have stored either form.
    candidates = {post_id, post_id.rsplit("_", 1)[-1]}
    publication = (
        Publication.objects.filter(channel=channel, external_id__in=candidates).select_related("post").first()
    )
    if publication is not None:
        return publication.post
    # A comment on one photo of a multi-photo post names the photo, not the post.
    return post_for_platform_object(channel, post_id.rsplit("_", 1)[-1])


def _publication_link(comment: Comment | None, *, cache: dict | None = None) -> str:
    """Instagram's notifications carry no address: the post's own, when it is ours, opens it there."""
    if comment is None or comment.post_id is None:
        return ""
    key = ("link", comment.post_id, comment.channel_id)
    if cache is not None and key in cache:
        return cache[key]
    publication = Publication.objects.filter(post_id=comment.post_id, channel_id=comment.channel_id).first()
    link = publication.url if publication else ""
    if cache is not None:
        cache[key] = link
    return link


def _apply_change(change: Change, *, delivery: WebhookDelivery, now: datetime, channels: dict | None = None) -> str:
    """Apply one event; return a note when it was skipped (empty when applied). ``channels``: the batch's."""
    if channels is not None:
        channel = channels.get((change.platform, change.account_id))
    else:
        channel = (Channel.objects.filter(platform=change.platform, external_id=change.account_id)
                   .select_related("nursery").first())
    if channel is None:
        logger.warning("Webhook for unknown %s account %s: acknowledged, not stored", change.platform,
                       change.account_id)
        return f"unknown {change.platform} account {change.account_id}: acknowledged and ignored"
    what = "post" if change.kind == CommentKind.VISITOR_POST else "comment"
    if change.author_id and change.author_id == change.account_id:
        return f"{what} {change.comment_id}: written by the page itself, ignored"
    if not change.comment_id:
        return f"a {what} event without an id, ignored"
    comment, created = Comment.objects.get_or_create(
        platform=change.platform, external_id=change.comment_id,
        defaults={
            "nursery": channel.nursery, "channel": channel, "source": CommentSource.WEBHOOK, "kind": change.kind,
            "external_post_id": change.post_id, "external_parent_id": change.parent_id,
            "author_external_id": change.author_id, "author_name": change.author_name[:200],
            "created_on_platform": change.created_time, "received_at": now,
            "post": None if change.kind == CommentKind.VISITOR_POST else _post_for(channel, change.post_id),
            "photo_url": change.photo_url, "link": change.link[:1000],
        },
    )
    # Claim the event first: a duplicate delivery fails here and nothing below runs twice.
    CommentEvent.objects.create(
        comment=comment, delivery=delivery, verb=change.verb, key=_event_key(change), payload=change.raw,
        received_at=now,
    )
    if not created and change.author_name and not comment.author_name:
        comment.author_name = change.author_name[:200]
    if not comment.link:
        comment.link = (change.link or _publication_link(comment))[:1000]
    verb = change.verb
    # Every add is something to review, with or without text: an image-only comment has no "message" at all.
    if verb == CommentEvent.Verb.ADD or change.carries_content:
        first_text = not comment.versions.exists()
        new_photo = bool(change.photo_url) and change.photo_url != comment.photo_url
        if new_photo:
            comment.photo_url = change.photo_url
        changed = _add_version(comment, change.text or "", now) or new_photo
        if verb == CommentEvent.Verb.EDITED and not first_text and comment.state == CommentState.VISIBLE:
            comment.state = CommentState.EDITED
        comment.save()
        if changed or not hasattr(comment, "moderation_item"):
            new = "New post by someone else on the Page." if comment.kind == CommentKind.VISITOR_POST else (
                "New comment from the platform.")
            why = "Edited on the platform." if changed and not first_text else new
            _screen_into_queue(comment, now=now, why=why)
        return ""
    new_state = {
        CommentEvent.Verb.REMOVE: CommentState.REMOVED,
        CommentEvent.Verb.HIDE: CommentState.HIDDEN,
        CommentEvent.Verb.UNHIDE: CommentState.EDITED if comment.versions.count() > 1 else CommentState.VISIBLE,
    }.get(verb)
    if new_state is None:
        return f"comment {change.comment_id}: {verb} without text, ignored"
    comment.state = new_state
    comment.save()
    item = getattr(comment, "moderation_item", None)
    if item is not None:
        ItemAction.objects.create(item=item, kind=ItemAction.Kind.PLATFORM_STATE, at=now,
                                  note=f"On {comment.get_platform_display()}: {comment.get_state_display().lower()}.")
    return ""


# --- intake: people -------------------------------------------------------------------------------------------


def enter_comment(user, *, channel: Channel, author_name: str, text: str, link: str = "",
                  now: datetime | None = None) -> ModerationItem:
    """A practitioner copies a comment seen on a platform; it is screened and queued like any other."""
    now = now or timezone.now()
    from nursery.permissions import is_staff_member

    if not is_staff_member(user, channel.nursery):
        raise ServiceError("Only staff can enter comments seen on the nursery's pages.")
    if not text.strip():
        raise ServiceError("Copy the comment's text.")
    with transaction.atomic(), acting_as(user, "Comment entered by staff"):
        comment = Comment.objects.create(
            nursery=channel.nursery, channel=channel, platform=channel.platform, source=CommentSource.MANUAL,
            author_name=author_name[:200], link=link, received_at=now, entered_by=user,
        )
        _add_version(comment, text, now)
        comment.save()
        who = user.get_full_name() or user.username
        return _screen_into_queue(comment, now=now, why=f"Entered by {who}.")


def raise_concern(user, *, nursery: Nursery, description: str, channel: Channel | None = None,
                  where_seen: str = "", link: str = "", screenshot=None,
                  now: datetime | None = None) -> ModerationItem:
    """A concern from staff or a parent: straight to the top of the queue, and the safeguarding lead told now."""
    now = now or timezone.now()
    from nursery.permissions import is_staff_member

    staff = is_staff_member(user, nursery)
    if not staff and not has_role(user, nursery, Role.PARENT):
        raise ServiceError("Only staff and parents of this nursery can report a concern here.")
    if not description.strip():
        raise ServiceError("Describe what you saw or what worries you.")
    if channel is not None and channel.nursery_id != nursery.pk:
        raise ServiceError("Choose one of the nursery's own pages.")
    with transaction.atomic(), acting_as(user, "Concern reported"):
        concern = Concern.objects.create(
            nursery=nursery, raised_by=user, reporter=Concern.Reporter.STAFF if staff else Concern.Reporter.PARENT,
            channel=channel, where_seen=where_seen, link=link, description=description, raised_at=now,
        )
        if screenshot:
            concern.screenshot.save(screenshot.name, screenshot, save=True)
        item = ModerationItem.objects.create(
            nursery=nursery, concern=concern, channel=channel, priority=Priority.CONCERN, opened_at=now,
        )
        ItemAction.objects.create(item=item, kind=ItemAction.Kind.OPENED, actor=user, at=now,
                                  note=f"Concern reported by {concern.get_reporter_display().lower()}.")
        _tell_reviewers_now(item, "A concern has been reported", "A new concern was reported and is at the top "
                                                                  "of the moderation queue.")
    return item


# --- the review queue -----------------------------------------------------------------------------------------


def _lock(user, item_id: int, version: int | None) -> ModerationItem:
    item = (
        ModerationItem.objects.select_for_update(of=("self",))
        .select_related("nursery", "claimed_by", "resolved_by", "comment")
        .filter(pk=item_id)
        .first()
    )
    if item is None or not has_role(user, item.nursery, *QUEUE_VIEWERS):
        raise ServiceError("That item does not exist.")
    require_role(user, item.nursery, *REVIEWERS)
    if version is not None and item.version != version:
        raise ServiceError(_already_handled(item))
    return item


def claim_item(user, *, item_id: int, version: int | None = None, now: datetime | None = None) -> ModerationItem:
    now = now or timezone.now()
    with transaction.atomic(), acting_as(user, "Moderation item claimed"):
        item = _lock(user, item_id, version)
        _transition(item, "claim")
        item.claimed_by, item.claimed_at = user, now
        item.save()
        ItemAction.objects.create(item=item, kind=ItemAction.Kind.CLAIMED, actor=user, at=now)
    return item


def release_item(user, *, item_id: int, version: int | None = None, now: datetime | None = None) -> ModerationItem:
    now = now or timezone.now()
    with transaction.atomic(), acting_as(user, "Moderation item released"):
        item = _lock(user, item_id, version)
        if item.claimed_by_id not in (None, user.pk) and item.status == ItemStatus.CLAIMED:
            raise ServiceError(_already_handled(item))
        _transition(item, "release")
        item.claimed_by = item.claimed_at = None
        item.save()
        ItemAction.objects.create(item=item, kind=ItemAction.Kind.RELEASED, actor=user, at=now)
    return item


def resolve_item(user, *, item_id: int, action: str, reason: str, version: int | None = None,
                 now: datetime | None = None) -> ModerationItem:
    """Decide on an item. Hide/delete are carried out on the platform after commit (see moderation.platform)."""
    now = now or timezone.now()
    if action not in Action.values or action == Action.ACKNOWLEDGED:
        raise ServiceError("Choose what to do with this item.")
    if not reason.strip():
        raise ServiceError("Give the reason for your decision: it is part of the record.")
    with transaction.atomic(), acting_as(user, f"Moderation item resolved: {Action(action).label}"):
        item = _lock(user, item_id, version)
        if item.status == ItemStatus.CLAIMED and item.claimed_by_id != user.pk:
            raise ServiceError(_already_handled(item))
        if action in (Action.HIDE, Action.DELETE) and item.comment_id is None:
            raise ServiceError("Hide and delete apply to comments on the nursery's pages, not to concern reports.")
        _transition(item, "resolve")
        item.action, item.reason = action, reason.strip()
        item.resolved_by, item.resolved_at = user, now
        if action == Action.ESCALATE:
            item.escalated_at = item.escalated_at or now
        item.save()
        ItemAction.objects.create(item=item, kind=ItemAction.Kind.RESOLVED, actor=user, at=now,
                                  note=f"{Action(action).label}: {item.reason}")
        if action in (Action.HIDE, Action.DELETE):
            from moderation.tasks import perform_platform_action

            outbox.enqueue(perform_platform_action, item.pk)
        if action == Action.ESCALATE:
            recipients = list(users_with_role(item.nursery, Role.SAFEGUARDING_LEAD))
            recipients.append(item.nursery.manager)
            notify(recipients, "Escalated as a safeguarding concern", "moderation/email/item.txt",
                   {"message": f"An item was escalated as a safeguarding concern: {item.reason}", "item": item},
                   nursery=item.nursery, url=_queue_url(item))
    return item


def record_done_by_hand(user, *, item_id: int, note: str = "", version: int | None = None,
                        now: datetime | None = None) -> ModerationItem:
    """The safeguarding lead hid or deleted the comment on the platform themselves (the channel is not connected,
    or the platform refused): record who did it and when, so the item stops waiting for platform action."""
    now = now or timezone.now()
    with transaction.atomic(), acting_as(user, "Platform action done by hand"):
        item = _lock(user, item_id, version)
        if item.action not in (Action.HIDE, Action.DELETE) or item.platform_action_status not in (
                PlatformActionStatus.AWAITING, PlatformActionStatus.FAILED):
            raise ServiceError("This item is not waiting for anything to be done on the platform.")
        where = item.comment.get_platform_display() if item.comment else "the platform"
        who = user.get_full_name() or user.username
        item.platform_action_status = PlatformActionStatus.DONE
        item.version += 1
        item.save()
        done = "Hidden" if item.action == Action.HIDE else "Deleted"
        ItemAction.objects.create(
            item=item, kind=ItemAction.Kind.PLATFORM_ACTION, actor=user, at=now,
            note=f"{done} by hand on {where} by {who} ({timezone.localtime(now):%-d %b %Y, %H:%M}). {note}".strip(),
        )
    return item


ACKNOWLEDGE_REASON = "Clean comment: no rule matched and the reviewer saw no concern."


def acknowledge_items(user, *, nursery: Nursery, item_ids: list[int], now: datetime | None = None) -> int:
    """Clear clean comments in bulk: each item still records its own resolution and action."""
    now = now or timezone.now()
    require_role(user, nursery, *REVIEWERS)
    with transaction.atomic(), acting_as(user, "Clean comments acknowledged"):
        items = list(
            ModerationItem.objects.select_for_update()
            .filter(nursery=nursery, pk__in=item_ids, priority=Priority.ACKNOWLEDGE,
                    status__in=TRANSITIONS["acknowledge"][0])
            .order_by("pk")
        )
        for item in items:
            _transition(item, "acknowledge")
            item.action, item.reason = Action.ACKNOWLEDGED, ACKNOWLEDGE_REASON
            item.resolved_by, item.resolved_at = user, now
            item.save()
        ItemAction.objects.bulk_create(
            ItemAction(item=item, kind=ItemAction.Kind.RESOLVED, actor=user, at=now,
                       note=f"{Action.ACKNOWLEDGED.label}: {ACKNOWLEDGE_REASON}")
            for item in items
        )
    return len(items)


# --- escalation -----------------------------------------------------------------------------------------------


def escalate_overdue(*, now: datetime | None = None) -> int:
    """Tell people about items waiting past their target (once per item, round and level)."""
    now = now or timezone.now()
    sent = 0
    for nursery in Nursery.objects.filter(moderation_items__status__in=OPEN_STATUSES).distinct():
        for priority in Priority.values:
            probe = ModerationItem(nursery=nursery, priority=priority)
            for level, multiple in ((Escalation.Level.OVERDUE, 1), (Escalation.Level.ESCALATED, 2)):
                due = ModerationItem.objects.filter(
                    nursery=nursery, priority=priority, status__in=OPEN_STATUSES,
                    opened_at__lte=now - probe.target() * multiple,
                ).exclude(
                    Exists(Escalation.objects.filter(item=OuterRef("pk"), round=OuterRef("round"), level=level))
                )
                for item_id in due.values_list("pk", flat=True):
                    try:
                        sent += _escalate(item_id, level=level, now=now)
                    except Exception:  # noqa: BLE001 - one item must not stop the others; the next run retries it
                        logger.exception("Escalating moderation item %s failed", item_id)
    return sent


def _escalate(item_id: int, *, level: int, now: datetime) -> int:
    with transaction.atomic(), acting_as(None, "Moderation escalation"):
        item = (
            ModerationItem.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("nursery", "nursery__manager")
            .filter(pk=item_id, status__in=OPEN_STATUSES)
            .first()
        )
        if item is None:
            return 0
        try:
            with transaction.atomic():
                Escalation.objects.create(item=item, round=item.round, level=level, sent_at=now)
        except IntegrityError:
            return 0  # another run got here first
        waited = now - item.opened_at
        hours = round(waited.total_seconds() / 3600, 1)
        context = {"item": item, "message": f"A {item.get_priority_display().lower()} item has waited {hours} "
                                            f"hours for review (target {item.target()})."}
        if level == Escalation.Level.OVERDUE:
            recipients = users_with_role(item.nursery, Role.SAFEGUARDING_LEAD, Role.LEADERSHIP)
            subject, kind = "A moderation item is past its review target", ItemAction.Kind.OVERDUE
        else:
            recipients = [item.nursery.manager] if item.nursery.manager else users_with_role(
                item.nursery, Role.LEADERSHIP)
            subject, kind = "Escalated: a moderation item is still waiting", ItemAction.Kind.ESCALATED
            item.escalated_at = now
            item.save(update_fields=["escalated_at"])
        notify(recipients, subject, "moderation/email/item.txt", context, nursery=item.nursery,
               url=_queue_url(item))
        ItemAction.objects.create(item=item, kind=kind, at=now, note=f"Waited {hours} h; {subject.lower()}.")
    return 1

