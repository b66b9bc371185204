from django.contrib import admin

from consent.models import ConsentDecision, ConsentRequest, ConsentWording
from nursery.admin import AuditedAdmin, ReadOnlyAdminMixin


@admin.register(ConsentWording)
class ConsentWordingAdmin(ReadOnlyAdminMixin, AuditedAdmin):
    list_display = ["nursery", "scope", "version", "published_at", "published_by"]
    list_filter = ["nursery", "scope"]
    search_fields = ["text"]
    list_select_related = ["nursery", "published_by"]


@admin.register(ConsentDecision)
class ConsentDecisionAdmin(ReadOnlyAdminMixin, AuditedAdmin):
    list_display = ["child", "scope", "decision", "guardian", "method", "decided_at", "wording"]
    list_filter = ["nursery", "scope", "decision", "method"]
    search_fields = ["child__first_name", "child__last_name", "guardian__username", "signature"]
    list_select_related = ["child", "guardian", "wording"]
    date_hierarchy = "decided_at"


@admin.register(ConsentRequest)
class ConsentRequestAdmin(ReadOnlyAdminMixin, AuditedAdmin):
    list_display = ["child", "scope", "kind", "recipient", "round", "sent_at"]
    list_filter = ["nursery", "kind", "scope"]
    search_fields = ["child__first_name", "child__last_name", "recipient__username", "recipient__last_name"]
    list_select_related = ["child", "recipient"]
    date_hierarchy = "sent_at"
