"""Read-side querysets for the moderation pages: a fixed number of queries whatever the queue holds."""

from dataclasses import dataclass

from django.db.models import Count, Exists, IntegerField, Min, OuterRef, Prefetch, Q, Subquery
from django.db.models.functions import Coalesce

from moderation.models import (
    OPEN_STATUSES,
    Category,
    CommentVersion,
    ItemAction,
    ItemStatus,
    ModerationItem,
    Priority,
    RuleHit,
)
from nursery.models import Child, Nursery
from posts.models import PostImage

CONCERN_CATEGORY = "concern"
STATUS_FILTERS = {"open": "Open (waiting, claimed, reopened)", **dict(ItemStatus.choices)}
CATEGORY_FILTERS = {**dict(Category.choices), CONCERN_CATEGORY: "Concern reports"}


@dataclass
class QueueFilters:
    status: str = "open"
    category: str = ""
    channel: int | None = None

    @classmethod
    def from_request(cls, params, channel_ids) -> "QueueFilters":
        status = params.get("status") or "open"
        category = params.get("category") or ""
        try:
            channel = int(params.get("channel") or 0) or None
        except ValueError:
            channel = None
        return cls(
            status=status if status in STATUS_FILTERS else "open",
            category=category if category in CATEGORY_FILTERS else "",
            channel=channel if channel in channel_ids else None,
        )


def _version_count():
    """How many texts the comment has had, counted in the row's own query (no prefetch of every text)."""
    return Coalesce(Subquery(
        CommentVersion.objects.filter(comment_id=OuterRef("comment_id")).order_by()
        .values("comment_id").annotate(n=Count("pk")).values("n"),
        output_field=IntegerField(),
    ), 0)


def items_for_page(nursery: Nursery):
    """Everything one card of the queue shows: the text, its hits, the post and pictured children, the story.

    The nursery and the channels are not joined: every item of the page belongs to ``nursery``, and the page
    has its channels already; ``with_channels`` puts them in place (fewer joins: planning the ten-table join
    cost more than running it).
    """
    pictured = Prefetch(
        "comment__post__images",
        queryset=PostImage.objects.order_by("position", "id").prefetch_related(
            Prefetch("children", queryset=Child.objects.order_by("first_name"))
        ),
    )
    return (
        ModerationItem.objects.filter(nursery=nursery)
        .select_related("comment__post", "concern__raised_by", "claimed_by", "resolved_by")
        .annotate(version_count=_version_count())
        .prefetch_related(
            "hits", pictured, Prefetch("actions", queryset=ItemAction.objects.select_related("actor")),
        )
    )


def clean_items_for_page(nursery: Nursery):
    """What one line of the acknowledge lane shows: the comment, its author and channel, the clock."""
    return ModerationItem.objects.filter(nursery=nursery).select_related("comment")


def with_channels(items, nursery: Nursery, channels) -> list:
    """Put the nursery and its channels (already loaded by the page) on the items instead of joining them."""
    by_id = {c.pk: c for c in channels}
    for item in items:
        item.nursery = nursery
        for thing in (item.comment, item.concern if item.concern_id else None):
            if thing is not None and thing.channel_id is not None and thing.channel_id in by_id:
                thing.channel = by_id[thing.channel_id]
        if item.channel_id in by_id:
            item.channel = by_id[item.channel_id]
    return items


def queue(nursery: Nursery, filters: QueueFilters, *, lane: str):
    """The order of one lane, on the items table alone (``nursery.paging.page_by_ids`` then loads a page
    with ``items_for_page``): ``lane`` "review": concerns and flagged comments; "acknowledge": clean comments
    to clear in bulk. The open lanes are read in the order of the ``moderation_open_queue`` index, resolved
    items in that of ``moderation_resolved``.
    """
    items = ModerationItem.objects.filter(nursery=nursery)
    items = items.filter(priority=Priority.ACKNOWLEDGE) if lane == "acknowledge" else items.exclude(
        priority=Priority.ACKNOWLEDGE)
    statuses = OPEN_STATUSES if filters.status == "open" else [filters.status]
    items = items.filter(status__in=statuses)
    if filters.category == CONCERN_CATEGORY:
        items = items.filter(concern__isnull=False)
    elif filters.category:
        items = items.filter(Exists(RuleHit.objects.filter(item=OuterRef("pk"), category=filters.category)))
    if filters.channel:
        items = items.filter(channel_id=filters.channel)
    if filters.status == ItemStatus.RESOLVED:
        return items.order_by("-resolved_at", "-id")
    return items.order_by("-priority", "opened_at", "id")


@dataclass
class QueueCounts:
    flagged: int
    acknowledge: int
    concerns: int
    claimed: int
    oldest_opened_at: object
    review: int = 0  # the review lane of the unfiltered queue: concerns and flagged comments

    @property
    def waiting(self) -> int:
        return self.flagged + self.acknowledge


def queue_counts(nursery: Nursery) -> QueueCounts:
    """One query: what the home card and the queue's header say."""
    totals = ModerationItem.objects.filter(nursery=nursery, status__in=OPEN_STATUSES).aggregate(
        flagged=Count("pk", filter=Q(priority__gt=Priority.ACKNOWLEDGE, concern__isnull=True)),
        acknowledge=Count("pk", filter=Q(priority=Priority.ACKNOWLEDGE)),
        concerns=Count("pk", filter=Q(concern__isnull=False)),
        claimed=Count("pk", filter=Q(status=ItemStatus.CLAIMED)),
        review=Count("pk", filter=~Q(priority=Priority.ACKNOWLEDGE)),
        oldest=Min("opened_at"),
    )
    return QueueCounts(totals["flagged"], totals["acknowledge"], totals["concerns"], totals["claimed"],
                       totals["oldest"], totals["review"])


def concerns_raised_by(user, nursery: Nursery):
    return (
        ModerationItem.objects.filter(nursery=nursery, concern__raised_by=user)
        .select_related("concern__channel")
        .order_by("-opened_at")
    )
