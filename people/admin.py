from django.contrib import admin

from nursery.admin import AuditedAdmin, ReadOnlyAdminMixin
from people.models import Invitation


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdminMixin, AuditedAdmin):
    list_display = ["email", "nursery", "role", "created_at", "sent_at", "expires_at", "accepted_at", "revoked_at"]
    list_filter = ["nursery", "role"]
    search_fields = ["email", "user__first_name", "user__last_name"]
    list_select_related = ["nursery"]
    exclude = ["token_hash"]
