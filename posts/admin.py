from django.contrib import admin

from nursery.admin import AuditedAdmin, ReadOnlyAdminMixin
from posts.models import Channel, DetectedFace, Occasion, Post, PostEvent, PostImage, Publication, Takedown


@admin.register(Channel)
class ChannelAdmin(AuditedAdmin):
    list_display = ["name", "nursery", "platform", "audience", "publisher", "active"]
    list_filter = ["nursery", "platform", "audience", "active"]
    search_fields = ["name", "external_id", "url"]


@admin.register(Occasion)
class OccasionAdmin(AuditedAdmin):
    list_display = ["name", "date", "nursery", "created_by"]
    list_filter = ["nursery"]
    search_fields = ["name", "description"]
    date_hierarchy = "date"


class PostImageInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = PostImage
    fields = ["alt_text", "no_identifiable_child", "width", "height", "position"]
    readonly_fields = fields
    extra = 0


class PostEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = PostEvent
    fields = ["at", "action", "from_status", "to_status", "version", "actor", "note"]
    readonly_fields = fields
    extra = 0


@admin.register(Post)
class PostAdmin(ReadOnlyAdminMixin, AuditedAdmin):
    """Posts change only through the workflow (posts/services.py); the admin shows them and their history."""

    list_display = ["__str__", "nursery", "author", "status", "version", "approved_version", "submitted_at",
                    "published_at"]
    list_filter = ["nursery", "status"]
    search_fields = ["caption", "author__username", "author__last_name"]
    date_hierarchy = "created_at"
    inlines = [PostImageInline, PostEventInline]


class DetectedFaceInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = DetectedFace
    fields = ["number", "x", "y", "width", "height", "marking", "child", "blur"]
    readonly_fields = fields
    extra = 0


@admin.register(PostImage)
class PostImageAdmin(ReadOnlyAdminMixin, AuditedAdmin):
    list_display = ["alt_text", "post", "no_identifiable_child", "face_search", "width", "height"]
    list_filter = ["post__nursery", "no_identifiable_child", "face_search"]
    inlines = [DetectedFaceInline]
    search_fields = ["alt_text", "children__first_name", "children__last_name"]
    # The file fields are not shown: a photo of a child is served only through the permission-checked page.
    exclude = ["image", "thumbnail"]


@admin.register(DetectedFace)
class DetectedFaceAdmin(ReadOnlyAdminMixin, AuditedAdmin):
    """Boxes found by the detector (posts/faces.py): where a face is, never whose."""

    list_display = ["__str__", "image", "x", "y", "width", "height", "marking", "blur"]
    list_filter = ["image__post__nursery", "blur"]
    list_select_related = ["image"]


@admin.register(PostEvent)
class PostEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["at", "post", "action", "from_status", "to_status", "version", "actor"]
    list_filter = ["action", "post__nursery"]
    search_fields = ["note", "post__caption", "actor__username"]
    date_hierarchy = "at"


@admin.register(Publication)
class PublicationAdmin(ReadOnlyAdminMixin, AuditedAdmin):
    list_display = ["post", "channel", "published_at", "published_by", "removed_at", "removed_by"]
    list_filter = ["channel__nursery", "channel"]
    search_fields = ["url", "external_id", "post__caption"]


@admin.register(Takedown)
class TakedownAdmin(ReadOnlyAdminMixin, AuditedAdmin):
    list_display = ["post", "child", "scope", "opened_at", "deadline", "escalations", "confirmed_at", "confirmed_by"]
    list_filter = ["nursery", "scope", ("confirmed_at", admin.EmptyFieldListFilter)]
    search_fields = ["reason", "child__first_name", "child__last_name", "post__caption"]


import posts.meta.admin  # noqa: E402, F401 (registers the Graph publishing models)
