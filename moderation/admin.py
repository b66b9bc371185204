from django.contrib import admin

from moderation.models import (
    Comment,
    CommentEvent,
    CommentVersion,
    Concern,
    Escalation,
    ItemAction,
    ModerationItem,
    RuleHit,
    ScreeningRule,
    WebhookDelivery,
)
from nursery.admin import AuditedAdmin, ReadOnlyAdminMixin


@admin.register(ScreeningRule)
class ScreeningRuleAdmin(AuditedAdmin):
    """Rules are settings, editable here too; the model's validation refuses unsafe expressions."""

    list_display = ["name", "nursery", "kind", "category", "severity", "active"]
    list_filter = ["nursery", "kind", "category", "severity", "active"]
    search_fields = ["name", "words", "pattern"]
    list_select_related = ["nursery"]


class CommentVersionInline(admin.TabularInline):
    model = CommentVersion
    extra = 0
    can_delete = False
    readonly_fields = ["number", "text", "seen_at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Comment)
class CommentAdmin(ReadOnlyAdminMixin, AuditedAdmin):
    list_display = ["__str__", "nursery", "channel", "platform", "state", "source", "received_at"]
    list_filter = ["nursery", "platform", "state", "source"]
    search_fields = ["text", "author_name", "external_id", "external_post_id"]
    list_select_related = ["nursery", "channel"]
    date_hierarchy = "received_at"
    inlines = [CommentVersionInline]


@admin.register(CommentEvent)
class CommentEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["key", "verb", "comment", "received_at"]
    list_filter = ["verb"]
    search_fields = ["key"]
    list_select_related = ["comment"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["__str__", "object_type", "status", "received_at", "processed_at"]
    list_filter = ["status", "object_type"]
    search_fields = ["body", "notes", "body_sha256"]
    date_hierarchy = "received_at"


class RuleHitInline(admin.TabularInline):
    model = RuleHit
    extra = 0
    can_delete = False
    readonly_fields = ["rule_name", "category", "severity", "start", "end", "matched"]
    exclude = ["rule"]

    def has_add_permission(self, request, obj=None):
        return False


class ItemActionInline(admin.TabularInline):
    model = ItemAction
    extra = 0
    can_delete = False
    readonly_fields = ["at", "kind", "actor", "note"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ModerationItem)
class ModerationItemAdmin(ReadOnlyAdminMixin, AuditedAdmin):
    list_display = ["__str__", "nursery", "priority", "status", "action", "opened_at", "resolved_by", "escalated_at"]
    list_filter = ["nursery", "status", "priority", "action", "platform_action_status"]
    search_fields = ["comment__text", "concern__description", "reason"]
    list_select_related = ["nursery", "resolved_by", "comment", "concern"]
    date_hierarchy = "opened_at"
    inlines = [RuleHitInline, ItemActionInline]


@admin.register(Concern)
class ConcernAdmin(ReadOnlyAdminMixin, AuditedAdmin):
    list_display = ["__str__", "nursery", "reporter", "channel", "raised_at"]
    list_filter = ["nursery", "reporter"]
    search_fields = ["description", "where_seen", "raised_by__username"]
    list_select_related = ["nursery", "raised_by", "channel"]
    date_hierarchy = "raised_at"


@admin.register(Escalation)
class EscalationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["item", "round", "level", "sent_at"]
    list_filter = ["level"]
    search_fields = ["item__id"]
    list_select_related = ["item"]


@admin.register(CommentVersion)
class CommentVersionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["comment", "number", "seen_at"]
    search_fields = ["text"]
    list_select_related = ["comment"]


@admin.register(RuleHit)
class RuleHitAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["item", "category", "rule_name", "severity", "matched"]
    list_filter = ["category", "severity"]
    search_fields = ["rule_name", "matched"]
    list_select_related = ["item"]


@admin.register(ItemAction)
class ItemActionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["item", "kind", "actor", "at"]
    list_filter = ["kind"]
    search_fields = ["note"]
    list_select_related = ["item", "actor"]
    date_hierarchy = "at"
