from django import template
from django.db.models import Count, Min, Q

from nursery.permissions import is_leader
from retention.models import ErasureRequest, SubjectAccessRequest

register = template.Library()


@register.inclusion_tag("retention/_home_card.html", takes_context=True)
def retention_home(context):
    """Leadership's card: subject access and erasure requests still to answer, oldest first (two queries)."""
    request = context["request"]
    nursery = request.nursery
    if not is_leader(request.user, nursery):
        return {"show": False}
    Status = SubjectAccessRequest.Status
    access = SubjectAccessRequest.objects.filter(nursery=nursery).aggregate(
        building=Count("pk", filter=Q(status__in=[Status.QUEUED, Status.BUILDING])),
        failed=Count("pk", filter=Q(status=Status.FAILED)),
        to_send=Count("pk", filter=Q(status=Status.READY, downloads=0)),
        oldest=Min("received_on", filter=Q(status__in=[Status.QUEUED, Status.BUILDING, Status.FAILED])
                   | Q(status=Status.READY, downloads=0)),
    )
    erasure = ErasureRequest.objects.filter(nursery=nursery, status=ErasureRequest.Status.RECORDED).aggregate(
        open=Count("pk"), oldest=Min("received_on"),
    )
    oldest = min((d for d in (access["oldest"], erasure["oldest"]) if d), default=None)
    due = None
    if oldest:
        from retention.kinds import months_before

        due = months_before(oldest, -1)
    show = bool(access["building"] or access["failed"] or access["to_send"] or erasure["open"])
    return {"show": show, "access": access, "erasure": erasure, "due": due}
