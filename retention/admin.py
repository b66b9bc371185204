"""Retention records in the admin: schedules and holds with their history; the run log read-only."""

from django.contrib import admin

from nursery.admin import AuditedAdmin, ReadOnlyAdminMixin
from retention.models import (
    ErasureRequest,
    LegalHold,
    RetentionCount,
    RetentionRun,
    RetentionSchedule,
    SubjectAccessRequest,
)


@admin.register(RetentionSchedule)
class RetentionScheduleAdmin(ReadOnlyAdminMixin, AuditedAdmin):
    """Changed by leadership through the schedule page, within the limits; read here."""

    list_display = ["nursery", "notifications_days", "photos_after_leaving_days", "photos_after_takedown_days"]


@admin.register(LegalHold)
class LegalHoldAdmin(ReadOnlyAdminMixin, AuditedAdmin):
    list_display = ["__str__", "nursery", "placed_by", "placed_at", "released_at"]
    list_filter = ["nursery", "released_at"]
    search_fields = ["reason"]
    list_select_related = ["nursery", "placed_by", "child", "person"]


class RetentionCountInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = RetentionCount
    extra = 0


@admin.register(RetentionRun)
class RetentionRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["started_at", "finished_at", "status", "total"]
    list_filter = ["status"]
    date_hierarchy = "started_at"
    inlines = [RetentionCountInline]


@admin.register(RetentionCount)
class RetentionCountAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["run", "nursery", "kind", "count", "files"]
    list_filter = ["kind", "nursery"]
    list_select_related = ["run", "nursery"]


@admin.register(SubjectAccessRequest)
class SubjectAccessRequestAdmin(ReadOnlyAdminMixin, AuditedAdmin):
    list_display = ["__str__", "nursery", "subject", "received_on", "status", "downloads"]
    list_filter = ["nursery", "status"]
    list_select_related = ["nursery", "subject"]
    exclude = ["file"]  # downloaded only through the app, where each download is recorded


@admin.register(ErasureRequest)
class ErasureRequestAdmin(ReadOnlyAdminMixin, AuditedAdmin):
    list_display = ["__str__", "nursery", "subject", "received_on", "status", "carried_out_at"]
    list_filter = ["nursery", "status"]
    list_select_related = ["nursery", "subject"]
