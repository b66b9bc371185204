from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from consent import queries, services
from consent.forms import ChooseChildForm, GrantForm, PaperForm, SeenForm, WordingForm
from consent.models import ConsentDecision, ConsentWording, Decision, Scope
from consent.queries import STATE_LABELS, State, consent_state
from consent.uploads import CONTENT_TYPES, sniff
from nursery.errors import ServiceError
from nursery.exports import csv_lines
from nursery.http import client_ip
from nursery.models import STAFF_ROLES, Guardianship, Role
from nursery.permissions import get_child_in_nursery, get_object_in_nursery, is_leader, role_required

PARENT = Role.PARENT
STAFF = tuple(STAFF_ROLES)


def _guardianship(request, child_pk) -> Guardianship:
    """The user's own guardianship of a child in the current nursery; any other child is a 404."""
    return get_object_in_nursery(request, Guardianship.objects.select_related("child__nursery", "child__room"),
                                 nursery_field="child__nursery", user=request.user, child_id=child_pk)


def _scope_or_404(scope: str) -> str:
    if scope not in Scope.values:
        raise Http404
    return scope


def _client(request) -> dict:
    return {"ip_address": client_ip(request),
            "user_agent": request.META.get("HTTP_USER_AGENT", "")}


# --- Parents ------------------------------------------------------------------------------------------


@role_required(PARENT)
@require_GET
def mine(request):
    return render(request, "consent/mine.html", {"children": queries.parent_children(request.user, request.nursery)})


@role_required(PARENT)
@require_GET
def decide(request, child_pk, scope):
    guardianship = _guardianship(request, child_pk)
    return _decide_page(request, guardianship, _scope_or_404(scope))


def _decide_page(request, guardianship, scope, form=None, status=200):
    child = guardianship.child
    state = consent_state(child, scope)
    wording = ConsentWording.objects.filter(nursery_id=child.nursery_id, scope=scope).order_by("-version").first()
    own = ConsentDecision.objects.filter(child=child, scope=scope, guardian=request.user).order_by(
        "-decided_at", "-pk").select_related("wording").first()
    seen = services.latest_decision_id(child, scope)
    agreed_current = own is not None and own.decision == Decision.GRANTED and wording and own.wording_id == wording.pk \
        and state.state not in (State.EXPIRED, State.RENEWAL_DUE)
    if form is None and wording is not None:
        form = GrantForm(initial={"wording": wording.pk, "seen": seen})
    return render(request, "consent/decide.html", {
        "child": child, "guardianship": guardianship, "scope": scope, "view": queries.ScopeView(state),
        "state": state, "wording": wording, "own": own, "form": form, "agreed_current": agreed_current,
        "can_decide": guardianship.has_parental_responsibility, "title": queries.SCOPE_TITLES[scope],
        "takedown_hours": child.nursery.takedown_deadline_hours,
    }, status=status)


@role_required(PARENT)
@require_POST
def grant(request, child_pk, scope):
    guardianship = _guardianship(request, child_pk)
    scope = _scope_or_404(scope)
    if not guardianship.has_parental_responsibility:
        raise PermissionDenied("Only a parent or carer with parental responsibility can decide.")
    form = GrantForm(request.POST, signer=request.user)
    if not form.is_valid():
        return _decide_page(request, guardianship, scope, form=form, status=400)
    try:
        services.grant_consent(
            request.user, child=guardianship.child, scope=scope, wording_id=form.cleaned_data["wording"],
            signature=form.cleaned_data["signature"], seen_decision_id=form.cleaned_data["seen"], **_client(request),
        )
    except services.AlreadyRecorded as exc:
        messages.info(request, exc.message)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        state = consent_state(guardianship.child, scope)
        if state.effective:
            messages.success(request, f"Thank you. {queries.plain_words(state)}. We have emailed you a copy.")
        else:
            messages.warning(request, "Your consent is recorded, but another parent or carer has said no, so we "
                             "still do not share photos until they agree too.")
    return redirect("consent:decide", guardianship.child_id, scope)


@role_required(PARENT)
@require_http_methods(["GET", "POST"])
def withdraw(request, child_pk, scope):
    guardianship = _guardianship(request, child_pk)
    scope = _scope_or_404(scope)
    child = guardianship.child
    if not guardianship.has_parental_responsibility:
        raise PermissionDenied("Only a parent or carer with parental responsibility can decide.")
    if request.method == "POST":
        form = SeenForm(request.POST)
        seen = form.cleaned_data["seen"] if form.is_valid() else -1
        try:
            services.withdraw_consent(request.user, child=child, scope=scope, seen_decision_id=seen,
                                      **_client(request))
        except services.AlreadyRecorded as exc:
            messages.info(request, exc.message)
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Done. {queries.SCOPE_WORDS[(scope, False)]} for {child.first_name}, "
                             "from now on. We have emailed you a confirmation.")
        return redirect("consent:decide", child.pk, scope)
    state = consent_state(child, scope)
    return render(request, "consent/withdraw.html", {
        "child": child, "scope": scope, "title": queries.SCOPE_TITLES[scope], "state": state,
        "form": SeenForm(initial={"seen": services.latest_decision_id(child, scope)}),
        "takedown_hours": child.nursery.takedown_deadline_hours,
    })


@role_required(PARENT)
@require_GET
def history(request, child_pk):
    guardianship = _guardianship(request, child_pk)
    return render(request, "consent/history.html", {
        "child": guardianship.child, "decisions": queries.ledger(guardianship.child),
    })


# --- Staff: paper forms -------------------------------------------------------------------------------


@role_required(*STAFF)
@require_GET
def paper_start(request):
    form = ChooseChildForm(request.GET or None, nursery=request.nursery)
    if form.is_valid():
        return redirect("consent:paper", form.cleaned_data["child"].pk)
    return render(request, "consent/paper_start.html", {"form": form})


@role_required(*STAFF)
@require_http_methods(["GET", "POST"])
def paper(request, child_pk):
    child = get_child_in_nursery(request, child_pk)
    form = PaperForm(request.POST or None, request.FILES or None, child=child)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.record_paper_decision(
                request.user, child=child, scope=data["scope"], decision=data["decision"],
                guardian=data["guardian"], signature=data["signature"], signed_on=data["signed_on"],
                wording=data["wording"], scan=data["scan"],
            )
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"The paper form for {child.full_name} is in the consent record.")
            if is_leader(request.user, request.nursery):
                return redirect("consent:evidence", child.pk)
            return redirect("consent:register")
    return render(request, "consent/paper.html", {"child": child, "form": form},
                  status=400 if form.is_bound else 200)


# --- Leadership and staff: the register ---------------------------------------------------------------


def _register_filters(request) -> dict:
    room = request.GET.get("room", "")
    return {
        "room_id": int(room) if room.isdigit() else None,
        "search": request.GET.get("q", "").strip()[:100],
        "state": request.GET.get("state", "") if request.GET.get("state", "") in STATE_LABELS else "",
        "scope": request.GET.get("scope", "") if request.GET.get("scope", "") in Scope.values else "",
    }


@role_required(*STAFF)
@require_GET
def register(request):
    filters = _register_filters(request)
    rooms, roomless = queries.rooms_on_roll(request.nursery)
    on_roll = sum(n for _, n in rooms) + roomless
    # How many children the room filter leaves is known already: the page's count costs no query.
    count = next((n for room, n in rooms if room.pk == filters["room_id"]), None) if filters["room_id"] else on_roll
    page, groups = queries.register_page(request.nursery, page=request.GET.get("page"), count=count, **filters)
    evidence = reverse("consent:evidence", args=[0])  # one reverse for the page's links, not one a row
    for _, rows in groups:
        for row in rows:
            row.evidence_url = evidence.replace("/0/", f"/{row.child.pk}/", 1)
    return render(request, "consent/register.html", {
        "page": page, "groups": groups, "filters": filters, "full": is_leader(request.user, request.nursery),
        "all_rooms": rooms, "on_roll": on_roll,
        "states": [(k, v) for k, v in STATE_LABELS.items() if k != State.LEFT], "scopes": Scope.choices,
    })


@role_required(*STAFF)
@require_GET
def register_counts(request):
    """Per room, how many children on roll lack consent in each scope, have none at all, or need a decision
    or renewal. Every child's consent is computed (a fixed number of queries, linear time), so the register
    loads this after its rows (htmx) instead of making every page of it wait; without JavaScript, a link."""
    rooms = queries.consent_by_room(request.nursery)
    totals = {f: sum(getattr(r, f) for r in rooms) for f in ("on_roll", "closed_lacking", "public_lacking",
                                                              "no_photos", "attention")}
    template = "consent/_register_counts.html" if request.headers.get("HX-Request") else "consent/register_counts.html"
    return render(request, template, {"rooms": rooms, "totals": totals})


@role_required(*STAFF)
@require_GET
def photo_list(request):
    rooms = queries.consent_register(request.nursery, room_id=_register_filters(request)["room_id"])
    for room in rooms:
        queries.name_on_the_wall(room.rows)
    return render(request, "consent/photo_list.html", {"rooms": rooms, "today": timezone.localdate()})


@role_required(Role.LEADERSHIP)
@require_GET
def register_csv(request):
    filters = _register_filters(request)
    children = queries.register_children(request.nursery, room_id=filters["room_id"], search=filters["search"])

    def rows():
        # Streamed: every row of the register, a chunk of children at a time, never the whole file in memory.
        for row in queries.register_rows(children, state=filters["state"], scope=filters["scope"],
                                         chunk=queries.CHUNK):
            latest = row.latest
            yield [
                row.child.room.name if row.child.room else "No room", row.child.first_name, row.child.last_name,
                row.closed.label, row.public.label, _date(row.closed.expires_at), _date(row.public.expires_at),
                f"{latest.get_decision_display()} ({latest.get_scope_display()}) {_date(latest.decided_at)}"
                if latest else "", latest.guardian.get_full_name() if latest else "",
                latest.get_method_display() if latest else "",
            ]

    header = ["Room", "First name", "Last name", "Private parents' pages", "Public pages", "Private: expires",
              "Public: expires", "Last decision", "Decided by", "How"]
    response = StreamingHttpResponse(csv_lines(header, rows()), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="consent-register-{timezone.localdate():%Y-%m-%d}.csv"'
    return response


def _date(moment) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d}" if moment else ""


@role_required(Role.LEADERSHIP)
@require_GET
def evidence(request, child_pk):
    child = get_child_in_nursery(request, child_pk)
    states = queries.consent_states([child.pk])
    return render(request, "consent/evidence.html", {
        "child": child, "views": [queries.ScopeView(states[(child.pk, s)]) for s in Scope.values],
        "decisions": queries.ledger(child),
        "guardianships": child.guardianships.select_related("user").order_by("-has_parental_responsibility"),
        "guardianship_changes": queries.guardianship_changes(child),
        "requests": child.consent_requests.select_related("recipient").order_by("-sent_at", "-pk")[:50],
        "now": timezone.now(),
    })


@never_cache
@role_required(Role.LEADERSHIP)
@require_GET
def scan(request, decision_pk):
    decision = get_object_in_nursery(request, ConsentDecision, pk=decision_pk)
    if not decision.paper_scan:
        raise Http404
    handle = decision.paper_scan.open("rb")
    kind = sniff(handle.read(8)) or "pdf"
    handle.seek(0)
    response = FileResponse(handle, content_type=CONTENT_TYPES[kind], as_attachment=kind == "pdf",
                            filename=f"consent-form-{decision.pk}.{kind}")
    response["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'"
    response["Cache-Control"] = "private, no-store"
    return response


# --- Leadership: wording ------------------------------------------------------------------------------


@role_required(Role.LEADERSHIP)
@require_GET
def wordings(request):
    versions = ConsentWording.objects.filter(nursery=request.nursery).select_related("published_by")
    by_scope = [(value, label, [w for w in versions if w.scope == value]) for value, label in Scope.choices]
    return render(request, "consent/wordings.html", {"by_scope": by_scope})


@role_required(Role.LEADERSHIP)
@require_http_methods(["GET", "POST"])
def publish_wording(request, scope):
    scope = _scope_or_404(scope)
    current = ConsentWording.objects.filter(nursery=request.nursery, scope=scope).order_by("-version").first()
    form = WordingForm(request.POST or None, initial={"text": current.text if current else ""})
    if request.method == "POST" and form.is_valid():
        try:
            wording = services.publish_wording(request.user, nursery=request.nursery, scope=scope,
                                               text=form.cleaned_data["text"])
        except ServiceError as exc:
            form.add_error("text", exc.message)
        else:
            messages.success(request, f"Version {wording.version} is published. Families who agreed to the old "
                             "wording are being asked to agree again.")
            return redirect("consent:wordings")
    affected = queries.consent_states(
        request.nursery.children.on_roll().values_list("pk", flat=True), [scope]
    )
    return render(request, "consent/publish_wording.html", {
        "form": form, "scope": scope, "scope_label": Scope(scope).label, "current": current,
        "affected": sum(1 for s in affected.values() if s.effective),
    }, status=400 if form.is_bound else 200)
