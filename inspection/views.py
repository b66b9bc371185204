from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from inspection import audit, services, trends
from inspection.charts import Chart, Series
from inspection.forms import PeriodForm
from inspection.models import InspectionPack
from nursery.errors import ServiceError
from nursery.exports import csv_lines
from nursery.http import carry_out, client_ip
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


# --- Leadership dashboard ------------------------------------------------------------------------


def _charts(t: trends.Trends) -> list[Chart]:
    labels, months = [m.short for m in t.months], [m.label for m in t.months]

    def chart(slug, title, description, series, **kwargs):
        return Chart(slug, title, description, labels, months,
                     [Series(name, values, f"series-{i + 1}") for i, (name, values) in enumerate(series)], **kwargs)

    return [
        chart("coverage", "Photo consent coverage",
              "Share of the children on roll with effective consent at the end of each month, per scope.",
              [("Private parents' pages", t.coverage["closed"]), ("Public pages", t.coverage["public"])],
              kind="line", unit="%", ceiling=100),
        chart("comments", "Comments received and reviewed",
              "Comments received in each month, and moderation items reviewed in it.",
              [("Comments received", t.comments), ("Items reviewed", t.reviewed)]),
        chart("review-target", "Reviewed within target",
              "Share of the items reviewed in each month that were reviewed within their priority's target.",
              [("Within target", t.within_target)], kind="line", unit="%", ceiling=100),
        chart("review-median", "Median time to review",
              "Median minutes from an item entering the queue to its review, per month.",
              [("Median minutes", t.review_median)], unit=" min"),
        chart("takedowns", "Takedowns against their deadlines",
              "Takedowns opened in each month: removal confirmed within the deadline, or late (confirmed late or "
              "still open past it).",
              [("On time", t.takedowns_on_time), ("Late", t.takedowns_late)]),
        chart("acknowledgements", "Policy acknowledgement",
              "Share of today's staff and parents who had acknowledged the version in force at the end of each month.",
              [("Staff policy", t.acknowledgements["staff"]), ("Parents' rules", t.acknowledgements["parents"])],
              kind="line", unit="%", ceiling=100),
        chart("incidents", "Conduct incidents opened and closed",
              "Conduct incidents reported and closed in each month (counts only).",
              [("Opened", t.incidents_opened), ("Closed", t.incidents_closed)]),
    ]


@role_required(LEADERSHIP)
@require_GET
def dashboard(request):
    found = trends.trends(request.nursery)
    return render(request, "inspection/dashboard.html", {
        "charts": _charts(found), "period": f"{found.months[0].label} to {found.months[-1].label}",
    })


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
        if form.is_valid() and (requested := carry_out(
            request, lambda: services.request_pack(request.user, nursery=request.nursery, period=form.period),
            "The pack is being built. You will get an email when it is ready.", form=form,
        )):
            return redirect("inspection:pack", pk=requested.result.pk)
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
        services.record_download(request.user, pack=pack, ip_address=client_ip(request),
                                 user_agent=request.META.get("HTTP_USER_AGENT", ""))
    except ServiceError as exc:
        return HttpResponse(exc.message, status=410, content_type="text/plain; charset=utf-8")
    response = FileResponse(pack.file.open("rb"), content_type="application/zip", as_attachment=True,
                            filename=pack.filename)
    response["Cache-Control"] = "private, no-store"
    return response
