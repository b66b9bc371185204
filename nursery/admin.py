from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from simple_history.admin import SimpleHistoryAdmin

from nursery.models import Child, Guardianship, Membership, Notification, Nursery, OutboxMessage, Room


class AuditedAdmin(SimpleHistoryAdmin):
    """The admin with its history: a past version can be read but never posted back over the present.

    SIMPLE_HISTORY_REVERT_DISABLED only hides simple-history's revert button; this refuses the POST too.
    """

    def history_view(self, request, object_id, extra_context=None):
        id_or_404(self.model._meta.pk, unquote(object_id))
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST":
            raise PermissionDenied("History is a record; it cannot be reverted from here.")
        # simple-history looks the version up with the ids as typed: "abc" would be a ValueError (500).
        id_or_404(self.model._meta.pk, unquote(object_id))
        id_or_404(self.model.history.model._meta.pk, version_id)
        return super().history_form_view(request, object_id, version_id, extra_context)


def id_or_404(field, value) -> None:
    try:
        field.to_python(value)
    except ValidationError as exc:
        raise Http404 from exc


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
        ("Posts", {"fields": ["four_eyes_approval", "occasion_days_before", "occasion_days_after",
                             "takedown_deadline_hours"]}),
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


ADMIN_REASON = "Changed in the Django admin"


def save_guardianship(request, obj: Guardianship) -> None:
    """Unticking parental responsibility goes through the service (audit, consent re-evaluation)."""
    from nursery import services

    if obj.pk is not None:
        stored = Guardianship.objects.filter(pk=obj.pk).values_list("has_parental_responsibility", flat=True).first()
        if stored is not None and stored != obj.has_parental_responsibility:
            value, obj.has_parental_responsibility = obj.has_parental_responsibility, stored
            obj.save()
            services.set_parental_responsibility(request.user, guardianship=obj, value=value, reason=ADMIN_REASON)
            return
    obj.save()


def delete_guardianship(request, obj: Guardianship) -> None:
    from nursery import services

    services.remove_guardian(request.user, guardianship=obj, reason=ADMIN_REASON)


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

    def save_model(self, request, obj, form, change):
        # A leaving date goes through the service, so its follow-up (takedowns, access) is never skipped.
        stored = Child.objects.filter(pk=obj.pk).values_list("left_on", flat=True).first() if change else None
        if not change or stored == obj.left_on:
            return super().save_model(request, obj, form, change)
        from people.services import mark_child_leaving

        left_on, obj.left_on = obj.left_on, stored
        super().save_model(request, obj, form, change)
        mark_child_leaving(request.user, child=obj, left_on=left_on, reason=ADMIN_REASON)
        obj.refresh_from_db()

    def save_formset(self, request, form, formset, change):
        if formset.model is not Guardianship:
            return super().save_formset(request, form, formset, change)
        # Removing a guardian or their parental responsibility must never pass by the consent rules.
        for obj in formset.save(commit=False):
            save_guardianship(request, obj)
        for obj in formset.deleted_objects:
            delete_guardianship(request, obj)


@admin.register(Guardianship)
class GuardianshipAdmin(AuditedAdmin):
    list_display = ["user", "child", "relationship", "has_parental_responsibility"]
    list_filter = ["has_parental_responsibility", "child__nursery"]
    search_fields = ["user__username", "user__last_name", "child__first_name", "child__last_name"]
    autocomplete_fields = ["user", "child"]
    list_select_related = ["user", "child"]

    def save_model(self, request, obj, form, change):
        save_guardianship(request, obj)

    def delete_model(self, request, obj):
        delete_guardianship(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset.select_related("user", "child"):
            delete_guardianship(request, obj)


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


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The outbox, for audit and operations: what is waiting, what ran, and what gave up and why."""

    list_display = ["id", "task_name", "state", "attempts", "created_at", "due_at", "done_at", "key"]
    list_filter = ["state", "task_name", "created_at"]
    search_fields = ["task_name", "key", "last_error"]
    date_hierarchy = "created_at"
    fields = ["task_name", "args", "kwargs", "key", "state", "attempts", "created_at", "due_at", "locked_until",
              "done_at", "last_error"]


class UserWithTwoFactorAdmin(UserAdmin):
    """Django's user admin, with the administrator's way to reset a lost two-factor device."""

    actions = ["reset_two_factor"]

    @admin.action(description="Reset two-factor sign-in (lost phone): signs them out and tells them")
    def reset_two_factor(self, request, queryset):
        from nursery.errors import ServiceError
        from nursery.twofactor import reset_two_factor

        done = 0
        for user in queryset:
            try:
                reset_two_factor(request.user, user=user, reason="reset by the administrator from the admin")
            except ServiceError as exc:
                self.message_user(request, f"{user}: {exc.message}", level="error")
            else:
                done += 1
        if done:
            self.message_user(request, f"Two-factor sign-in reset for {done} user(s).")


User = get_user_model()
if admin.site.is_registered(User):
    admin.site.unregister(User)
admin.site.register(User, UserWithTwoFactorAdmin)
