"""Conduct records are evidence: read-only in the admin, with their history.

Whistleblowers: the admin shows who made a whistleblowing report only to the nursery's whistleblowing
officer. A superuser auditing the admin is not entitled to it either (the policy names one person), so the
incident pages say "Confidential" to them and the confidential reporter list is empty for them.
"""

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.http import Http404

from nursery.admin import AuditedAdmin, ReadOnlyAdminMixin, id_or_404
from staff_conduct.models import (
    Acknowledgement,
    AcknowledgementChase,
    ConfidentialReporter,
    Evidence,
    Incident,
    IncidentEscalation,
    InvestigationNote,
    PolicyClause,
    PolicyDocument,
    PolicyVersion,
)
from staff_conduct.queries import reporter_label


class ReadOnlyHistoryAdmin(ReadOnlyAdminMixin, AuditedAdmin):
    pass


@admin.register(PolicyDocument)
class PolicyDocumentAdmin(ReadOnlyHistoryAdmin):
    list_display = ["title", "kind", "nursery"]
    list_filter = ["nursery", "kind"]
    search_fields = ["title"]


class PolicyClauseInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = PolicyClause
    extra = 0


@admin.register(PolicyVersion)
class PolicyVersionAdmin(ReadOnlyHistoryAdmin):
    list_display = ["document", "version", "effective_on", "published_at", "published_by"]
    list_filter = ["document__nursery", "document__kind"]
    search_fields = ["text", "document__title"]
    list_select_related = ["document", "published_by"]
    inlines = [PolicyClauseInline]


@admin.register(PolicyClause)
class PolicyClauseAdmin(ReadOnlyHistoryAdmin):
    list_display = ["number", "text", "version"]
    list_filter = ["version__document__nursery", "version__document__kind"]
    search_fields = ["text"]
    list_select_related = ["version__document"]


@admin.register(Acknowledgement)
class AcknowledgementAdmin(ReadOnlyHistoryAdmin):
    list_display = ["user", "version", "signature", "acknowledged_at"]
    list_filter = ["nursery", "version__document__kind"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "signature"]
    list_select_related = ["user", "version__document"]
    date_hierarchy = "acknowledged_at"


@admin.register(AcknowledgementChase)
class AcknowledgementChaseAdmin(ReadOnlyHistoryAdmin):
    list_display = ["user", "version", "kind", "number", "sent_at"]
    list_filter = ["kind", "version__document__nursery"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    list_select_related = ["user", "version__document"]


class ConfidentialityMixin:
    """Incident records never show their subject anything, and a whistleblower to nobody but the officer."""

    incident_path = "incident"

    def get_queryset(self, request):
        prefix = f"{self.incident_path}__" if self.incident_path else ""
        return super().get_queryset(request).exclude(**{f"{prefix}subject": request.user.pk})

    def history_view(self, request, object_id, extra_context=None):
        # simple-history falls back to the history rows when the queryset hides an object: refuse instead.
        id_or_404(self.model._meta.pk, unquote(object_id))
        if not self.get_queryset(request).filter(pk=unquote(object_id)).exists():
            raise Http404
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        # A past version is as confidential as the present one.
        id_or_404(self.model._meta.pk, unquote(object_id))
        if not self.get_queryset(request).filter(pk=unquote(object_id)).exists():
            raise Http404
        return super().history_form_view(request, object_id, version_id, extra_context)


@admin.register(Incident)
class IncidentAdmin(ConfidentialityMixin, ReadOnlyHistoryAdmin):
    incident_path = ""
    list_filter = ["nursery", "status", "source", "outcome"]
    search_fields = ["subject__username", "subject__first_name", "subject__last_name", "description"]
    list_select_related = ["nursery", "subject", "investigator", "reported_by", "nursery__whistleblowing_officer"]
    date_hierarchy = "reported_at"
    filter_horizontal = ["clauses"]

    def _reporter_column(self, request):
        # One function per request: the form of a past version is built from the fields and the read-only
        # fields asked separately, and Django matches them by identity (two closures were a 500).
        if not hasattr(request, "_reporter_column"):
            def reported_by_whom(incident):
                return reporter_label(request.user, incident)

            reported_by_whom.short_description = "reported by"
            request._reporter_column = reported_by_whom
        return request._reporter_column

    def get_list_display(self, request):
        return ["__str__", "subject", "status", "source", self._reporter_column(request), "reported_at",
                "investigator", "outcome"]

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), self._reporter_column(request)]


@admin.register(ConfidentialReporter)
class ConfidentialReporterAdmin(ConfidentialityMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["incident", "reporter", "reporter_name"]
    list_filter = ["incident__nursery"]
    search_fields = ["reporter__username", "reporter__first_name", "reporter__last_name"]
    list_select_related = ["incident", "reporter"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(incident__nursery__whistleblowing_officer=request.user.pk)

    @admin.display(description="name")
    def reporter_name(self, obj):
        return obj.reporter.get_full_name()


@admin.register(InvestigationNote)
class InvestigationNoteAdmin(ConfidentialityMixin, ReadOnlyHistoryAdmin):
    list_display = ["incident", "author", "written_at"]
    list_filter = ["incident__nursery"]
    search_fields = ["text", "author__username"]
    list_select_related = ["incident", "author"]


@admin.register(Evidence)
class EvidenceAdmin(ConfidentialityMixin, ReadOnlyHistoryAdmin):
    list_display = ["original_name", "incident", "content_type", "size", "uploaded_by", "uploaded_at"]
    list_filter = ["incident__nursery", "content_type"]
    search_fields = ["original_name", "description", "sha256"]
    list_select_related = ["incident", "uploaded_by"]
    # The file has no public URL: it is opened from the incident page, where permission is checked.
    exclude = ["file"]


@admin.register(IncidentEscalation)
class IncidentEscalationAdmin(ConfidentialityMixin, ReadOnlyHistoryAdmin):
    list_display = ["incident", "reason", "deadline", "sent_at"]
    list_filter = ["reason", "incident__nursery"]
    search_fields = ["incident__subject__username"]
    list_select_related = ["incident"]
