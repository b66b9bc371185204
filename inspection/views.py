from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from inspection import audit
from inspection.csvsafe import csv_lines
from inspection.forms import PeriodForm
from nursery.models import Role
from nursery.permissions import role_required


@role_required(Role.LEADERSHIP)
@require_GET
def audit_export(request):
    """The page: choose a period; the CSV link sends the same fields to ``audit_csv``."""
    form = PeriodForm(request.GET) if request.GET else PeriodForm.default()
    return render(request, "inspection/audit.html", {"form": form, "sources": audit.SOURCES})


@role_required(Role.LEADERSHIP)
@require_GET
def audit_csv(request):
    form = PeriodForm(request.GET)
    if not form.is_valid():
        return render(request, "inspection/audit.html", {"form": form, "sources": audit.SOURCES}, status=400)
    period = form.period
    rows = audit.audit_rows(user=request.user, nursery=request.nursery, period=period)
    response = StreamingHttpResponse(
        csv_lines(audit.HEADER, (row.as_list() for row in rows)), content_type="text/csv; charset=utf-8"
    )
    name = f"audit-{period.start:%Y-%m-%d}-to-{period.end:%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    return response
