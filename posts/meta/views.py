"""Leadership connects channels to Facebook and Instagram and follows what is being sent there."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from nursery.errors import ServiceError
from nursery.models import Role
from nursery.permissions import get_object_in_nursery, role_required
from posts.meta import queries
from posts.meta.connections import connect_channel, disconnect_channel
from posts.meta.forms import ConnectChannelForm
from posts.meta.models import ChannelConnection, GraphDelivery
from posts.meta.publishing import GRAPH_PLATFORMS, retry_delivery
from posts.models import Channel


def _graph_channel(request, pk) -> Channel:
    return get_object_in_nursery(request, Channel.objects.filter(platform__in=GRAPH_PLATFORMS),
                                 roles=[Role.LEADERSHIP], pk=pk)


@role_required(Role.LEADERSHIP)
@require_safe
def graph_overview(request):
    page = Paginator(queries.deliveries_in_progress(request.nursery), 25).get_page(request.GET.get("page"))
    return render(request, "posts/graph/overview.html", {
        "channels": queries.graph_channels(request.nursery),
        "page": page,
        "recent": queries.recent_deliveries(request.nursery),
    })


@role_required(Role.LEADERSHIP)
@require_http_methods(["GET", "HEAD", "POST"])
def channel_connection(request, pk):
    channel = _graph_channel(request, pk)
    form = ConnectChannelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            connection = connect_channel(request.user, channel=channel, access_token=form.cleaned_data["access_token"])
        except ServiceError as error:
            form.add_error("access_token", error.message)
        else:
            messages.success(request, f"“{channel.name}” is connected to {channel.get_platform_display()} as "
                                      f"“{connection.account_name}”. The token is stored encrypted and will not be "
                                      f"shown again.")
            return redirect("posts:graph_overview")
    return render(request, "posts/graph/connection.html", {
        "channel": channel, "form": form,
        "connection": ChannelConnection.objects.filter(channel=channel).select_related("connected_by").first(),
    }, status=400 if form.errors else 200)


@role_required(Role.LEADERSHIP)
@require_POST
def channel_disconnect(request, pk):
    channel = _graph_channel(request, pk)
    try:
        disconnect_channel(request.user, channel=channel)
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"“{channel.name}” is disconnected; its token has been deleted.")
    return redirect("posts:graph_overview")


@role_required(Role.LEADERSHIP)
@require_POST
def delivery_retry(request, pk):
    delivery = get_object_in_nursery(
        request, GraphDelivery.objects.select_related("post__nursery", "channel"), nursery_field="post__nursery",
        pk=pk,
    )
    try:
        retry_delivery(request.user, delivery=delivery)
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Sending “{delivery.post}” to {delivery.channel.name} again.")
    return redirect("posts:graph_overview")
