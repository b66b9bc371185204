from dataclasses import dataclass
from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from nursery.errors import ServiceError
from nursery.exports import csv_lines
from nursery.http import client_ip
from nursery.models import STAFF_ROLES, Role
from nursery.paging import page_by_ids
from nursery.permissions import get_object_in_nursery, has_role, role_required, roles_of
from staff_conduct import forms, queries, services
from staff_conduct.models import AUDIENCE, Evidence, Incident, PolicyDocument, PolicyKind, Source

LEADERSHIP = Role.LEADERSHIP
# Staff read the parents' rules too (they explain them to families); parents never see the staff policy.
READERS = {PolicyKind.STAFF: STAFF_ROLES, PolicyKind.PARENTS: STAFF_ROLES | {Role.PARENT}}


def _client(request) -> dict:
    return {"ip_address": client_ip(request), "user_agent": request.META.get("HTTP_USER_AGENT", "")}


def _kind_or_404(kind: str) -> str:
    if kind not in PolicyKind.values:
        raise Http404
    return kind


# --- Policies and acknowledgements ---------------------------------------------------------------


def _policy_page(request, kind: str, form=None, status: int = 200):
    nursery = request.nursery
    version = queries.current_version(nursery, kind)
    must_acknowledge = bool(AUDIENCE[kind] & roles_of(request.user, nursery))
    acknowledgement = None
    if version and must_acknowledge:
        acknowledgement = version.acknowledgements.filter(user=request.user).first()
    return render(request, "staff_conduct/policy.html", {
        "kind": kind, "title": PolicyKind(kind).label, "version": version,
        "clauses": version.clauses.all() if version else [], "must_acknowledge": must_acknowledge,
        "acknowledgement": acknowledgement, "form": form or forms.AcknowledgeForm(),
    }, status=status)


@login_required
@require_GET
def policy(request, kind):
    kind = _kind_or_404(kind)
    if not has_role(request.user, request.nursery, *READERS[kind]):
        raise PermissionDenied
    return _policy_page(request, kind)


@login_required
@require_POST
def acknowledge(request, kind):
    kind = _kind_or_404(kind)
    if not has_role(request.user, request.nursery, *AUDIENCE[kind]):
        raise PermissionDenied
    form = forms.AcknowledgeForm(request.POST, signer=request.user)
    if not form.is_valid():
        return _policy_page(request, kind, form, status=400)
    version = queries.current_version(request.nursery, kind)
    if version is None or str(version.pk) != request.POST.get("version"):
        messages.error(request, "A newer version has been published since you opened this page. Please read it.")
        return redirect("staff_conduct:policy", kind=kind)
    try:
        services.acknowledge_policy(request.user, version=version, signature=form.cleaned_data["signature"],
                                    **_client(request))
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("staff_conduct:policy", kind=kind)
    messages.success(request, f"Thank you: you have acknowledged the {version.document.title.lower()}.")
    return redirect("home")


@role_required(LEADERSHIP)
@require_GET
def policies(request):
    documents = {d.kind: d for d in PolicyDocument.objects.filter(nursery=request.nursery).prefetch_related(
        "versions__published_by")}
    current = queries.current_versions(request.nursery)
    rows = [{"kind": kind, "label": label, "document": documents.get(kind), "current": current.get(kind)}
            for kind, label in PolicyKind.choices]
    return render(request, "staff_conduct/policies.html", {"rows": rows})


@role_required(LEADERSHIP)
@require_http_methods(["GET", "POST"])
def publish(request, kind):
    kind = _kind_or_404(kind)
    current = queries.current_version(request.nursery, kind)
    if request.method == "POST":
        form = forms.PublishVersionForm(request.POST, kind=kind)
        if form.is_valid():
            try:
                version = services.publish_policy_version(
                    request.user, nursery=request.nursery, kind=kind, text=form.cleaned_data["text"],
                    clauses=form.clause_lines(), effective_on=form.cleaned_data["effective_on"],
                )
            except ServiceError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, f"Version {version.version} published. Everyone concerned is asked to "
                                          "acknowledge it once it is in force.")
                return redirect("staff_conduct:policies")
    else:
        initial = {"effective_on": timezone.localdate()}
        if current:
            initial |= {"text": current.text, "clauses": "\n".join(c.text for c in current.clauses.all())}
        form = forms.PublishVersionForm(initial=initial, kind=kind)
    return render(request, "staff_conduct/publish.html", {
        "form": form, "title": PolicyKind(kind).label, "current": current})


@role_required(LEADERSHIP)
@require_GET
def acknowledgements(request):
    outstanding_only = request.GET.get("outstanding") == "1"
    search = request.GET.get("q", "").strip()[:100]
    statuses = queries.acknowledgement_pages(
        request.nursery, pages={kind: request.GET.get(f"page_{kind}") for kind in PolicyKind.values},
        outstanding_only=outstanding_only, search=search,
    )
    for status in statuses:
        if status.page is not None:
            status.previous_query = _page_query(request, status, -1)
            status.next_query = _page_query(request, status, +1)
    return render(request, "staff_conduct/acknowledgements.html", {
        "statuses": statuses, "outstanding_only": outstanding_only, "search": search})


def _page_query(request, status, step: int) -> str:
    params = request.GET.copy()
    params[f"page_{status.kind}"] = status.page.number + step
    return f"?{params.urlencode()}"


@role_required(LEADERSHIP)
@require_GET
def acknowledgements_csv(request):
    def rows():
        # Streamed a batch of people at a time: the whole audience, never the whole file in memory.
        for status, row in queries.all_status_rows(request.nursery):
            ack = row.acknowledgement
            yield [
                status.label, status.version.version if status.version else "", row.user.get_full_name(),
                row.user.username, ", ".join(Role(r).label for r in row.roles), "yes" if ack else "no",
                timezone.localtime(ack.acknowledged_at).strftime("%Y-%m-%d %H:%M") if ack else "",
                ack.signature if ack else "", row.reminders, "yes" if row.reported_to_leadership else "no",
            ]

    header = ["policy", "version", "name", "username", "roles", "acknowledged", "acknowledged at", "signature",
              "reminders sent", "reported to leadership"]
    response = StreamingHttpResponse(csv_lines(header, rows()), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y-%m-%d")
    response["Content-Disposition"] = f'attachment; filename="acknowledgements-{stamp}.csv"'
    return response


# --- Reporting a concern -------------------------------------------------------------------------


@role_required(*STAFF_ROLES)
@require_http_methods(["GET", "POST"])
def report_concern(request):
    kwargs = {"nursery": request.nursery, "reporter": request.user}
    if request.method == "POST":
        form = forms.ReportConcernForm(request.POST, request.FILES, **kwargs)
        if form.is_valid():
            data = form.cleaned_data
            try:
                incident = services.report_incident(
                    request.user, nursery=request.nursery, subject=data["subject"], source=data["source"],
                    occurred_on=data["occurred_on"], description=data["description"], where=data["where"],
                    clauses=data["clauses"], evidence=data["evidence"],
                )
            except ServiceError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, _thanks(incident))
                if incident.source == Source.NAMED and has_role(request.user, request.nursery, LEADERSHIP):
                    return redirect("staff_conduct:incident", pk=incident.pk)
                return redirect("home")
    else:
        form = forms.ReportConcernForm(**kwargs)
    return render(request, "staff_conduct/report.html", {"form": form})


def _thanks(incident: Incident) -> str:
    if incident.source == Source.ANONYMOUS:
        return "Thank you. Your report was passed to the leadership team without your name."
    if incident.source == Source.WHISTLEBLOWING:
        return ("Thank you. Your report was passed to the leadership team; only the whistleblowing officer can "
                "see that it came from you.")
    return f"Thank you. Your report ({incident.reference}) was passed to the leadership team."


# --- Incidents (leadership) ----------------------------------------------------------------------


def _incident_for(request, pk) -> Incident:
    """An incident of the current nursery that this leader may see: never one about themselves (404)."""
    return get_object_in_nursery(
        request, queries.incidents_for(request.user, request.nursery).select_related(
            "nursery", "subject", "reported_by", "investigator", "outcome_decided_by", "appeal_decided_by",
            "closed_by",
        ),
        pk=pk,
    )


@role_required(LEADERSHIP)
@require_GET
def incident_list(request):
    nursery = request.nursery
    filters = forms.IncidentFilterForm(request.GET or None, nursery=nursery, viewer=request.user)
    chosen = filters.cleaned_data if filters.is_valid() else {}
    matching = queries.incident_list(request.user, nursery, status=chosen.get("status") or "",
                                     clause=chosen.get("clause"), subject=chosen.get("subject"))
    # The page's ids come off an index on the incidents table alone; only those 25 rows are then joined.
    page = page_by_ids(matching, queries.incident_rows(nursery), per_page=25, number=request.GET.get("page"))
    queries.dress_incidents(request.user, nursery, page.object_list)
    return render(request, "staff_conduct/incident_list.html", {"filters": filters, "page": page})


@dataclass
class Event:
    at: datetime
    what: str
    who: str
    detail: str = ""
    evidence: Evidence | None = None


def _timeline(request, incident: Incident) -> list[Event]:
    reporter = queries.reporter_label(request.user, incident)
    events = []
    for row in incident.history.select_related("history_user").order_by("history_date", "history_id"):
        if row.history_type == "+":
            events.append(Event(incident.reported_at, "Reported", reporter))
        elif row.history_change_reason:
            who = row.history_user.get_full_name() or row.history_user.username if row.history_user else "The system"
            events.append(Event(row.history_date, row.history_change_reason, who))
    for note in incident.notes.select_related("author"):
        events.append(Event(note.written_at, "Note", forms.person_label(note.author), note.text))
    for item in incident.evidence.select_related("uploaded_by"):
        who = forms.person_label(item.uploaded_by) if item.uploaded_by else reporter
        events.append(Event(item.uploaded_at, "Evidence added", who, item.description, evidence=item))
    return sorted(events, key=lambda e: e.at)  # stable: the report comes before evidence sent with it


ACTIONS = {
    "assign": forms.AssignForm,
    "decide_outcome": forms.OutcomeForm,
    "close": forms.CloseForm,
    "record_appeal": forms.AppealForm,
    "decide_appeal": forms.AppealDecisionForm,
    "note": forms.NoteForm,
    "evidence": forms.EvidenceForm,
}


def _action_form(name, incident, data=None, files=None):
    form_class = ACTIONS[name]
    extra = {"incident": incident} if form_class is forms.AssignForm else {}
    return form_class(data, files, prefix=name, **extra)


def _detail_page(request, incident: Incident, bound: dict | None = None, status: int = 200):
    allowed = services.allowed_actions(incident) | {"note", "evidence"}
    action_forms = {name: (bound or {}).get(name) or _action_form(name, incident) for name in allowed}
    return render(request, "staff_conduct/incident_detail.html", {
        "incident": incident, "reporter": queries.reporter_label(request.user, incident),
        "clauses": incident.clauses.select_related("version"), "timeline": _timeline(request, incident),
        "forms": action_forms, "appeal_deadline": incident.appeal_deadline(),
        "evidence": incident.evidence.all(),
    }, status=status)


@role_required(LEADERSHIP)
@require_GET
def incident_detail(request, pk):
    return _detail_page(request, _incident_for(request, pk))


def _run_action(user, incident, name, data) -> str:
    if name == "assign":
        services.assign_investigator(user, incident=incident, investigator=data["investigator"], due_on=data["due_on"])
        return "Investigator assigned; they have been told."
    if name == "decide_outcome":
        services.decide_outcome(user, incident=incident, outcome=data["outcome"], reason=data["reason"],
                                decided_on=data["decided_on"])
        return "Outcome recorded. The staff member has been told the outcome (not given the record)."
    if name == "close":
        services.close_incident(user, incident=incident)
        return "Incident closed."
    if name == "record_appeal":
        services.record_appeal(user, incident=incident, received_on=data["received_on"], grounds=data["grounds"])
        return "Appeal recorded: the incident is open again for a decision on the appeal."
    if name == "decide_appeal":
        services.decide_appeal(user, incident=incident, decision=data["decision"], reason=data["reason"],
                               decided_on=data["decided_on"], varied_outcome=data["varied_outcome"])
        return "Appeal decided; the staff member has been told."
    if name == "note":
        services.add_investigation_note(user, incident=incident, text=data["text"])
        return "Note added."
    services.add_evidence(user, incident=incident, upload=data["file"], description=data["description"])
    return "Evidence added."


@role_required(LEADERSHIP)
@require_POST
def incident_action(request, pk, action):
    incident = _incident_for(request, pk)
    form = _action_form(action, incident, request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "Please correct the errors below.")
        return _detail_page(request, incident, {action: form}, status=400)
    try:
        done = _run_action(request.user, incident, action, form.cleaned_data)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return _detail_page(request, incident, {action: form}, status=400)
    messages.success(request, done)
    return redirect("staff_conduct:incident", pk=incident.pk)


@role_required(LEADERSHIP)
@require_GET
def evidence_file(request, pk, evidence_pk):
    incident = _incident_for(request, pk)
    item = get_object_in_nursery(request, Evidence, nursery_field="incident__nursery", incident=incident,
                                 pk=evidence_pk)
    response = FileResponse(item.file.open("rb"), content_type=item.content_type,
                            as_attachment=not item.is_image, filename=item.original_name)
    # Whatever the file holds, it must not run as a page of this site.
    response["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
    response["Cache-Control"] = "private, no-store"
    return response
