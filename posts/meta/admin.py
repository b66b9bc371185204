"""The administrator audits Graph publishing: connections (never their tokens) and deliveries, read-only."""

from django.contrib import admin

from nursery.admin import AuditedAdmin, ReadOnlyAdminMixin
from posts.meta.models import ChannelConnection, GraphDelivery


@admin.register(ChannelConnection)
class ChannelConnectionAdmin(ReadOnlyAdminMixin, AuditedAdmin):
    list_display = ["channel", "status", "account_name", "connected_by", "connected_at", "problem_at"]
    list_filter = ["status", "channel__platform", "channel__nursery"]
    search_fields = ["channel__name", "account_name", "channel__external_id"]
    list_select_related = ["channel", "connected_by"]
    # The token is not a field here at all (not editable, not listed): only its existence is shown.
    fields = ["channel", "status", "account_name", "connected_by", "connected_at", "problem", "problem_at"]
    readonly_fields = fields


@admin.register(GraphDelivery)
class GraphDeliveryAdmin(ReadOnlyAdminMixin, AuditedAdmin):
    list_display = ["post", "channel", "state", "attempts", "external_id", "published_at", "requested_by"]
    list_filter = ["state", "channel__platform", "post__nursery"]
    search_fields = ["external_id", "container_id", "post__caption", "channel__name"]
    list_select_related = ["post", "channel", "requested_by"]
    date_hierarchy = "requested_at"
