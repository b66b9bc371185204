from django.contrib import admin

from inspection.models import InspectionPack, PackDownload
from nursery.admin import AuditedAdmin, ReadOnlyAdminMixin


@admin.register(InspectionPack)
class InspectionPackAdmin(ReadOnlyAdminMixin, AuditedAdmin):
    list_display = ["__str__", "nursery", "requested_by", "requested_at", "status", "expires_at"]
    list_filter = ["nursery", "status"]
    list_select_related = ["nursery", "requested_by"]
    exclude = ["file"]  # the file is served only by the recorded download view


@admin.register(PackDownload)
class PackDownloadAdmin(ReadOnlyAdminMixin, AuditedAdmin):
    list_display = ["pack", "user", "downloaded_at", "ip_address"]
    list_filter = ["pack__nursery"]
    list_select_related = ["pack", "user"]
