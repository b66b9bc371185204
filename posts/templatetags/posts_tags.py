from django import template
from django.db.models import Count, Q
from django.utils import timezone

from nursery.permissions import is_leader, is_staff_member
from posts.models import Post, PostStatus, Takedown

register = template.Library()
S = PostStatus


@register.simple_tag(takes_context=True)
def posts_home(context) -> dict:
    """What the home page shows about posts: leadership's queue and takedowns, staff's own drafts."""
    request = context["request"]
    nursery, user = getattr(request, "nursery", None), request.user
    if nursery is None or not is_staff_member(user, nursery):
        return {}
    mine = Post.objects.filter(nursery=nursery, author=user).aggregate(
        drafts=Count("pk", filter=Q(status=S.DRAFT)),
        changes=Count("pk", filter=Q(status=S.CHANGES_REQUESTED)),
        waiting=Count("pk", filter=Q(status=S.SUBMITTED)),
        sent_back=Count("pk", filter=Q(status=S.DRAFT) & ~Q(consent_note="")),
    )
    summary = {"mine": mine}
    if is_leader(user, nursery):
        now = timezone.now()
        summary["queue"] = Post.objects.filter(nursery=nursery).aggregate(
            waiting=Count("pk", filter=Q(status=S.SUBMITTED)),
            to_publish=Count("pk", filter=Q(status=S.APPROVED, scheduled_for__isnull=True)),
            scheduled=Count("pk", filter=Q(status=S.APPROVED, scheduled_for__isnull=False)),
        )
        summary["takedowns"] = Takedown.objects.filter(nursery=nursery, confirmed_at__isnull=True).aggregate(
            open=Count("pk"), overdue=Count("pk", filter=Q(deadline__lte=now)),
        )
    return summary
