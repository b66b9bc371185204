from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from inspection import audit, services
from inspection.forms import PeriodForm
from inspection.models import InspectionPack
from nursery.errors import ServiceError
from nursery.exports import csv_lines
from nursery.models import Role
from nursery.permissions import get_object_in_nursery, role_required

LEADERSHIP = Role.LEADERSHIP


@role_required(LEADERSHIP)
@require_GET
def audit_export(request):
    """The page: choose a period; the CSV link sends the same fields to ``audit_csv``."""
    form = PeriodForm(request.GET) if request.GET else PeriodForm.default()
    return render(request, "inspection/audit.html", {"form": form, "sources": audit.SOURCES})


@role_required(LEADERSHIP)
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


# --- Inspection packs ------------------------------------------------------------------------------


def get_pack_for_user(request, pk) -> InspectionPack:
    """A pack outside the active nursery is a 404; in it, only leadership may open a pack (403)."""
    return get_object_in_nursery(request, InspectionPack.objects.select_related("nursery", "requested_by"),
                                 roles=[LEADERSHIP], pk=pk)


@role_required(LEADERSHIP)
@require_http_methods(["GET", "POST"])
def packs(request):
    form = PeriodForm(request.POST) if request.method == "POST" else PeriodForm.default()
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                pack = services.request_pack(request.user, nursery=request.nursery, period=form.period)
            except ServiceError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, "The pack is being built. You will get an email when it is ready.")
                return redirect("inspection:pack", pk=pack.pk)
        status = 400
    recent = InspectionPack.objects.filter(nursery=request.nursery).select_related("requested_by")
    page = Paginator(recent, 20).get_page(request.GET.get("page"))
    return render(request, "inspection/packs.html", {"form": form, "page": page, "now": timezone.now()},
                  status=status)


def _pack_context(request, pack) -> dict:
    return {"pack": pack, "now": timezone.now(), "downloads": pack.downloads.select_related("user")[:50]}


@login_required
@require_GET
def pack(request, pk):
    return render(request, "inspection/pack.html", _pack_context(request, get_pack_for_user(request, pk)))


@login_required
@require_GET
def pack_progress(request, pk):
    """The progress panel alone: htmx polls it while the pack is being built."""
    return render(request, "inspection/_progress.html", _pack_context(request, get_pack_for_user(request, pk)))


@login_required
@require_GET
def pack_download(request, pk):
    pack = get_pack_for_user(request, pk)
    try:
        services.record_download(request.user, pack=pack, ip_address=request.META.get("REMOTE_ADDR"),
                                 user_agent=request.META.get("HTTP_USER_AGENT", ""))
    except ServiceError as exc:
        return HttpResponse(exc.message, status=410, content_type="text/plain; charset=utf-8")
    response = FileResponse(pack.file.open("rb"), content_type="application/zip", as_attachment=True,
                            filename=pack.filename)
    response["Cache-Control"] = "private, no-store"
    return response
