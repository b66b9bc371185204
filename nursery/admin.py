from django.contrib import admin
from django.core.exceptions import PermissionDenied
from simple_history.admin import SimpleHistoryAdmin

from nursery.models import Child, Guardianship, Membership, Notification, Nursery, Room


class AuditedAdmin(SimpleHistoryAdmin):
    """The admin with its history: a past version can be read but never posted back over the present.

    SIMPLE_HISTORY_REVERT_DISABLED only hides simple-history's revert button; this refuses the POST too.
    """

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST":
            raise PermissionDenied("History is a record; it cannot be reverted from here.")
        return super().history_form_view(request, object_id, version_id, extra_context)


class ReadOnlyAdminMixin:
    """Governance records are evidence: the admin shows them and their history, and changes nothing."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Nursery)
class NurseryAdmin(AuditedAdmin):
    list_display = ["name", "contact_email", "manager", "consent_renewal_months", "four_eyes_approval"]
    search_fields = ["name", "address", "contact_email"]
    autocomplete_fields = ["manager", "whistleblowing_officer"]
    inlines = [MembershipInline]
    fieldsets = [
        (None, {"fields": ["name", "address", "contact_email", "manager"]}),
        ("Photo consent", {"fields": ["consent_renewal_months"]}),
        ("Posts", {"fields": ["four_eyes_approval", "takedown_deadline_hours"]}),
        (
            "Comment moderation: minutes before an unreviewed item escalates",
            {"fields": ["moderation_target_high_minutes", "moderation_target_medium_minutes",
                        "moderation_target_low_minutes"]},
        ),
        ("Staff conduct", {"fields": ["whistleblowing_officer", "appeal_window_days"]}),
    ]


@admin.register(Room)
class RoomAdmin(AuditedAdmin):
    list_display = ["name", "nursery"]
    list_filter = ["nursery"]
    search_fields = ["name"]


class GuardianshipInline(admin.TabularInline):
    model = Guardianship
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Child)
class ChildAdmin(AuditedAdmin):
    list_display = ["first_name", "last_name", "room", "nursery", "joined_on", "left_on"]
    list_filter = ["nursery", "room", "left_on"]
    search_fields = ["first_name", "last_name"]
    list_select_related = ["room", "nursery"]
    date_hierarchy = "joined_on"
    inlines = [GuardianshipInline]


@admin.register(Guardianship)
class GuardianshipAdmin(AuditedAdmin):
    list_display = ["user", "child", "relationship", "has_parental_responsibility"]
    list_filter = ["has_parental_responsibility", "child__nursery"]
    search_fields = ["user__username", "user__last_name", "child__first_name", "child__last_name"]
    autocomplete_fields = ["user", "child"]
    list_select_related = ["user", "child"]


@admin.register(Membership)
class MembershipAdmin(AuditedAdmin):
    list_display = ["user", "nursery", "role"]
    list_filter = ["nursery", "role"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "user__email"]
    autocomplete_fields = ["user"]
    list_select_related = ["user", "nursery"]


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["subject", "recipient", "nursery", "created_at", "read_at", "emailed_at"]
    list_filter = ["nursery", "created_at"]
    search_fields = ["subject", "recipient__username", "body"]
    list_select_related = ["recipient", "nursery"]
    date_hierarchy = "created_at"
