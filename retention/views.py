from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from nursery.models import Role
from nursery.permissions import get_object_in_nursery, role_required
from retention import forms, queries, services
from retention.erasure import assess
from retention.models import ErasureRequest, LegalHold, SubjectAccessRequest

LEADERSHIP = Role.LEADERSHIP


@role_required(LEADERSHIP)
@require_http_methods(["GET"])
def overview(request):
    nursery = request.nursery
    return render(request, "retention/overview.html", {
        "upcoming": queries.upcoming(nursery, timezone.now()),
        "runs": queries.recent_runs(nursery),
        "holds": queries.holds_of(nursery)[:50],
        "release_form": forms.ReleaseForm(),
    })


@role_required(LEADERSHIP)
@require_http_methods(["GET", "POST"])
def schedule(request):
    nursery = request.nursery
    form = forms.ScheduleForm(request.POST or None, instance=services.schedule_for(nursery))
    if request.method == "POST" and form.is_valid():
        try:
            services.update_schedule(request.user, nursery=nursery, values=form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Retention schedule saved. The next nightly run follows it.")
            return redirect("retention:overview")
    return render(request, "retention/schedule.html", {"form": form}, status=400 if form.errors else 200)


@role_required(LEADERSHIP)
@require_http_methods(["GET", "POST"])
def hold_new(request):
    nursery = request.nursery
    form = forms.HoldForm(request.POST or None, nursery=nursery, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            hold = services.place_legal_hold(
                request.user, nursery=nursery, reason=data["reason"], child=data["child"], person=data["person"],
                incident=data["incident"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"{hold} placed: nothing that touches it will be deleted until released.")
            return redirect("retention:overview")
    return render(request, "retention/hold_form.html", {"form": form}, status=400 if form.errors else 200)


@role_required(LEADERSHIP)
@require_POST
def hold_release(request, pk):
    hold = get_object_in_nursery(request, LegalHold, pk=pk)
    form = forms.ReleaseForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say why the hold is no longer needed.")
        return redirect("retention:overview")
    try:
        services.release_legal_hold(request.user, hold=hold, reason=form.cleaned_data["release_reason"])
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"{hold} released.")
    return redirect("retention:overview")


# --- subject access --------------------------------------------------------------------------------


@role_required(LEADERSHIP)
@require_http_methods(["GET", "POST"])
def access(request):
    nursery = request.nursery
    form = forms.PersonRequestForm(request.POST or None, nursery=nursery,
                                   initial={"received_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            sar = services.request_subject_access(request.user, nursery=nursery, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"{sar} recorded: the export is being built, and you will be told when it "
                                      "is ready.")
            return redirect("retention:access")
    requests = SubjectAccessRequest.objects.filter(nursery=nursery).select_related(
        "subject", "requested_by", "last_downloaded_by"
    )
    page = Paginator(requests, 25).get_page(request.GET.get("page"))
    return render(request, "retention/access.html", {"form": form, "page": page},
                  status=400 if form.errors else 200)


def _access_request(request, pk) -> SubjectAccessRequest:
    return get_object_in_nursery(request, SubjectAccessRequest.objects.select_related("nursery"), pk=pk)


@role_required(LEADERSHIP)
@require_http_methods(["GET"])
def access_download(request, pk):
    sar = _access_request(request, pk)
    if sar.status != SubjectAccessRequest.Status.READY or not sar.file:
        raise Http404
    services.record_download(request.user, sar=sar)
    response = FileResponse(sar.file.open("rb"), content_type="application/zip", as_attachment=True,
                            filename=f"subject-access-{sar.pk}.zip")
    response["Cache-Control"] = "private, no-store"
    return response


@role_required(LEADERSHIP)
@require_POST
def access_retry(request, pk):
    sar = _access_request(request, pk)
    try:
        services.retry_subject_access(request.user, sar=sar)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"{sar} is being built again.")
    return redirect("retention:access")


# --- erasure ---------------------------------------------------------------------------------------


@role_required(LEADERSHIP)
@require_http_methods(["GET", "POST"])
def erasure_list(request):
    nursery = request.nursery
    form = forms.PersonRequestForm(request.POST or None, nursery=nursery, initial={"received_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            erasure = services.record_erasure_request(request.user, nursery=nursery, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"{erasure} recorded. Check what can be erased now, then carry it out.")
            return redirect("retention:erasure", pk=erasure.pk)
    requests = ErasureRequest.objects.filter(nursery=nursery).select_related("subject", "requested_by")
    page = Paginator(requests, 25).get_page(request.GET.get("page"))
    return render(request, "retention/erasure_list.html", {"form": form, "page": page},
                  status=400 if form.errors else 200)


def _erasure(request, pk) -> ErasureRequest:
    return get_object_in_nursery(
        request, ErasureRequest.objects.select_related("nursery", "subject", "carried_out_by"), pk=pk
    )


@role_required(LEADERSHIP)
@require_http_methods(["GET"])
def erasure(request, pk):
    found = _erasure(request, pk)
    lines = assess(found.nursery, found.subject) if found.status == ErasureRequest.Status.RECORDED else None
    return render(request, "retention/erasure.html", {"erasure": found, "lines": lines})


@role_required(LEADERSHIP)
@require_POST
def erasure_carry_out(request, pk):
    found = _erasure(request, pk)
    try:
        services.carry_out_erasure(request.user, erasure=found)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"{found} carried out. The record below says what was erased and what was kept.")
    return redirect("retention:erasure", pk=found.pk)
