from django import template
from django.db.models import Count, Q

from nursery.permissions import is_leader
from posts.meta.models import ChannelConnection, ConnectionStatus, DeliveryState, GraphDelivery

register = template.Library()


@register.simple_tag(takes_context=True)
def graph_home(context) -> dict:
    """For leadership's home: posts that did not reach Facebook or Instagram, and channels to reconnect."""
    request = context["request"]
    nursery = getattr(request, "nursery", None)
    if nursery is None or not is_leader(request.user, nursery):
        return {}
    deliveries = GraphDelivery.objects.filter(post__nursery=nursery).aggregate(
        failed=Count("pk", filter=Q(state=DeliveryState.FAILED)),
        held=Count("pk", filter=Q(state=DeliveryState.RECONNECT)),
    )
    reconnect = list(
        ChannelConnection.objects.filter(channel__nursery=nursery, status=ConnectionStatus.RECONNECT)
        .values_list("channel__name", flat=True)
    )
    if not (deliveries["failed"] or deliveries["held"] or reconnect):
        return {}
    return {**deliveries, "reconnect": reconnect}
