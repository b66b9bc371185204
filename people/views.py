"""Leadership's pages for people, rooms and children: thin, every change through people.services."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.forms import SetPasswordForm
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_POST

from nursery.errors import ServiceError
from nursery.http import carry_out, require_valid
from nursery.middleware import SESSION_KEY
from nursery.models import Child, Guardianship, Membership, Role, Room
from nursery.permissions import get_object_in_nursery, role_required
from nursery.services import remove_guardian, set_parental_responsibility
from people import forms, queries, services
from people.models import Invitation
from people.roll import COLUMNS, MAX_BYTES, RollFileError


def _child(request, pk) -> Child:
    return get_object_in_nursery(request, Child.objects.select_related("nursery", "room"), pk=pk)


@role_required(Role.LEADERSHIP)
def child_leaving(request, pk):
    child = _child(request, pk)
    form = forms.LeavingForm(request.POST or None, initial={"left_on": child.left_on})
    if request.method == "POST" and form.is_valid():
        left_on = form.cleaned_data["left_on"]
        if carry_out(request, lambda: services.mark_child_leaving(request.user, child=child, left_on=left_on,
                                                                  reason=form.cleaned_data["reason"]),
                     f"{child.first_name} leaves on {left_on:%-d %B %Y}." if left_on
                     else f"{child.first_name} is no longer leaving.", form=form):
            return redirect("people:child", child.pk)
    return render(request, "people/child_leaving.html", {"child": child, "form": form})


# --- Invitations --------------------------------------------------------------------------------------


@role_required(Role.LEADERSHIP)
@require_GET
def invitations(request):
    q, status = request.GET.get("q", "").strip(), request.GET.get("status", "")
    found = queries.invitations(request.nursery, q=q, status=status)
    page = Paginator(found, 25).get_page(request.GET.get("page"))
    return render(request, "people/invitations.html", {
        "page": page, "q": q, "status": status, "now": timezone.now(),
        "statuses": [("", "All"), ("open", "Waiting"), ("accepted", "Accepted"), ("revoked", "Revoked")],
    })


@role_required(Role.LEADERSHIP)
def invite(request):
    initial = {"role": Role.PARENT, "parental_responsibility": True}
    if request.GET.get("child"):
        initial["child"] = request.GET["child"]
    if request.GET.get("role") in Role.values:
        initial["role"] = request.GET["role"]
    form = forms.InviteForm(request.POST or None, nursery=request.nursery, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if carry_out(request, lambda: services.invite_person(
            request.user, nursery=request.nursery, email=data["email"], first_name=data["first_name"],
            last_name=data["last_name"], role=data["role"], child=data["child"],
            relationship=data["relationship"], parental_responsibility=data["parental_responsibility"],
        ), lambda invitation: f"Invitation emailed to {data['email']}." if invitation else
                f"{data['email']} already has an account: they were told they now have access.", form=form):
            return redirect("people:invitations")
    return render(request, "people/invite.html", {"form": form})


def _invitation(request, pk) -> Invitation:
    return get_object_in_nursery(request, Invitation, pk=pk)


@role_required(Role.LEADERSHIP)
@require_POST
def invitation_resend(request, pk):
    invitation = _invitation(request, pk)
    carry_out(request, lambda: services.resend_invitation(request.user, invitation=invitation),
              f"A new link was emailed to {invitation.email}; the previous one no longer works.")
    return redirect("people:invitations")


@role_required(Role.LEADERSHIP)
@require_POST
def invitation_revoke(request, pk):
    invitation = _invitation(request, pk)
    carry_out(request, lambda: services.revoke_invitation(request.user, invitation=invitation),
              f"The invitation to {invitation.email} was revoked.")
    return redirect("people:invitations")


# --- The invited person -------------------------------------------------------------------------------

INVITATION_SESSION_KEY = "people_invitation_token"


@never_cache
@require_GET
def invitation(request, token):
    """The emailed link: the token moves into the session and out of the address bar (and Referer)."""
    try:
        services.invitation_for_token(token)
    except ServiceError as error:
        return render(request, "people/invitation_invalid.html", {"message": error.message}, status=410)
    request.session[INVITATION_SESSION_KEY] = token
    return redirect("people:invitation_accept")


@never_cache
@sensitive_post_parameters()
def invitation_accept(request):
    token = request.session.get(INVITATION_SESSION_KEY, "")
    try:
        invitation = services.invitation_for_token(token)
    except ServiceError as error:
        return render(request, "people/invitation_invalid.html", {"message": error.message}, status=410)
    form = SetPasswordForm(invitation.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitation = services.accept_invitation(token=token, password=form.cleaned_data["new_password1"])
        except ServiceError as error:
            return render(request, "people/invitation_invalid.html", {"message": error.message}, status=410)
        request.session.pop(INVITATION_SESSION_KEY, None)
        login(request, invitation.user, backend="django.contrib.auth.backends.ModelBackend")
        request.session[SESSION_KEY] = invitation.nursery_id
        messages.success(request, f"Welcome to {invitation.nursery.name}. Your password is set.")
        return redirect(services.landing_url(invitation.role))
    return render(request, "people/invitation_accept.html", {"invitation": invitation, "form": form})


# --- Children -----------------------------------------------------------------------------------------


def _int(value) -> int | None:
    return int(value) if str(value or "").isdigit() else None


@role_required(Role.LEADERSHIP)
@require_GET
def children(request):
    q, status = request.GET.get("q", "").strip(), request.GET.get("status") or "on_roll"
    room_id = _int(request.GET.get("room"))
    found = queries.children(request.nursery, q=q, room_id=room_id, status=status)
    page = Paginator(found, 25).get_page(request.GET.get("page"))
    return render(request, "people/children.html", {
        "page": page, "q": q, "status": status, "room_id": room_id, "statuses": queries.CHILD_STATUSES,
        "rooms": Room.objects.filter(nursery=request.nursery).order_by("name"),
    })


def _child_data(form) -> dict:
    data = dict(form.cleaned_data)
    data.pop("reason", None)
    return data


@role_required(Role.LEADERSHIP)
def child_new(request):
    form = forms.ChildForm(request.POST or None, nursery=request.nursery)
    if request.method == "POST" and form.is_valid() and (added := carry_out(
        request, lambda: services.add_child(request.user, nursery=request.nursery, **_child_data(form)),
        lambda child: f"{child.full_name} was added. Now invite their parents or carers.", form=form,
    )):
        return redirect("people:child", added.result.pk)
    return render(request, "people/child_form.html", {"form": form})


@role_required(Role.LEADERSHIP)
def child(request, pk):
    child = _child(request, pk)
    initial = {f: getattr(child, f) for f in ("first_name", "last_name", "date_of_birth", "joined_on", "room")}
    form = forms.ChildForm(request.POST or None, nursery=request.nursery, initial=initial)
    if request.method == "POST" and form.is_valid() and carry_out(
        request, lambda: services.update_child(request.user, child=child, reason=form.cleaned_data["reason"],
                                               **_child_data(form)), "Saved.", form=form,
    ):
        return redirect("people:child", child.pk)
    return render(request, "people/child.html", {
        "child": child, "form": form, "history": queries.child_history(child),
        "guardianships": child.guardianships.select_related("user").order_by("-has_parental_responsibility", "pk"),
        "invitations": {i.user_id: i for i in Invitation.objects.filter(nursery=request.nursery,
                                                                        user__guardianships__child=child)},
        "now": timezone.now(),
    })


def _guardianship(request, pk) -> Guardianship:
    return get_object_in_nursery(request, Guardianship.objects.select_related("child__nursery", "user"), pk=pk,
                                 nursery_field="child__nursery")


@role_required(Role.LEADERSHIP)
@require_POST
def guardian_remove(request, pk):
    guardianship = _guardianship(request, pk)
    form = forms.ReasonForm(request.POST)
    carry_out(request, lambda: remove_guardian(
        request.user, guardianship=guardianship,
        reason=require_valid(form, "Say why this parent or carer is being removed.")["reason"],
    ), lambda ended: f"{guardianship.user.get_full_name() or guardianship.user.username} was removed."
                     + (" Photo consent no longer holds; posts are being stopped." if ended else ""))
    return redirect("people:child", guardianship.child_id)


@role_required(Role.LEADERSHIP)
@require_POST
def guardian_responsibility(request, pk):
    guardianship = _guardianship(request, pk)
    form = forms.ReasonForm(request.POST)
    value = request.POST.get("value") == "yes"
    carry_out(request, lambda: set_parental_responsibility(
        request.user, guardianship=guardianship, value=value,
        reason=require_valid(form, "Say why parental responsibility changed.")["reason"],
    ), "Parental responsibility updated.")
    return redirect("people:child", guardianship.child_id)


# --- Rooms --------------------------------------------------------------------------------------------


@role_required(Role.LEADERSHIP)
def rooms(request):
    form = forms.RoomForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and carry_out(
        request, lambda: services.add_room(request.user, nursery=request.nursery, name=form.cleaned_data["name"]),
        lambda room: f"Room {room.name} added.", form=form,
    ):
        return redirect("people:rooms")
    return render(request, "people/rooms.html", {"rooms": queries.rooms(request.nursery), "form": form})


@role_required(Role.LEADERSHIP)
@require_POST
def room_rename(request, pk):
    room = get_object_in_nursery(request, Room, pk=pk)
    form = forms.RoomForm(request.POST)
    carry_out(request, lambda: services.rename_room(
        request.user, room=room, name=require_valid(form, "Give the room a name.")["name"],
    ), "Room renamed.")
    return redirect("people:rooms")


@role_required(Role.LEADERSHIP)
@require_POST
def room_archive(request, pk):
    room = get_object_in_nursery(request, Room, pk=pk)
    carry_out(request, lambda: services.archive_room(request.user, room=room), f"Room {room.name} archived.")
    return redirect("people:rooms")


# --- Staff --------------------------------------------------------------------------------------------


@role_required(Role.LEADERSHIP)
@require_GET
def staff(request):
    q, role = request.GET.get("q", "").strip(), request.GET.get("role", "")
    page = Paginator(queries.staff(request.nursery, q=q, role=role), 25).get_page(request.GET.get("page"))
    return render(request, "people/staff.html", {
        "page": page, "q": q, "role": role, "roles": [(r.value, r.label) for r in queries.STAFF_ROLE_ORDER],
        "history": queries.staff_history(request.nursery),
    })


def _membership(request, pk) -> Membership:
    return get_object_in_nursery(request, Membership.objects.select_related("user", "nursery"), pk=pk)


@role_required(Role.LEADERSHIP)
@require_POST
def staff_role(request, pk):
    membership = _membership(request, pk)
    form = forms.StaffRoleForm(request.POST)
    carry_out(request, lambda: services.change_staff_role(
        request.user, membership=membership, role=require_valid(form, "Choose a staff role.")["role"],
    ), "Role changed.")
    return redirect("people:staff")


@role_required(Role.LEADERSHIP)
@require_POST
def staff_remove(request, pk):
    membership = _membership(request, pk)
    form = forms.ReasonForm(request.POST)
    carry_out(request, lambda: services.remove_staff_role(
        request.user, membership=membership,
        reason=require_valid(form, "Say why this role is being removed.")["reason"],
    ), "Role removed.")
    return redirect("people:staff")


# --- Importing the roll -------------------------------------------------------------------------------

ROLL_SESSION_KEY = "people_roll_import"
PREVIEW_ROWS = 200


@role_required(Role.LEADERSHIP)
def roll_import(request):
    form = forms.RollUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            if upload.size > MAX_BYTES:
                raise RollFileError("The file is larger than 5 MB.")
            content = upload.read()
            services.preview_roll(request.nursery, content)
        except RollFileError as error:
            form.add_error("file", str(error))
        else:
            # The text waits in the session (not on disk) until the leader confirms or cancels.
            request.session[ROLL_SESSION_KEY] = {
                "nursery": request.nursery.pk, "name": upload.name[:100], "invite": form.cleaned_data["invite"],
                "content": content.decode("utf-8-sig"),
            }
            return redirect("people:roll_import_preview")
    return render(request, "people/roll_import.html", {"form": form, "columns": ",".join(COLUMNS)})


@role_required(Role.LEADERSHIP)
def roll_import_preview(request):
    pending = request.session.get(ROLL_SESSION_KEY)
    if not pending or pending.get("nursery") != request.nursery.pk:
        messages.info(request, "Choose a roll file first.")
        return redirect("people:roll_import")
    if request.method == "POST":
        if "cancel" in request.POST:
            request.session.pop(ROLL_SESSION_KEY, None)
            messages.info(request, "Nothing was imported.")
            return redirect("people:roll_import")
        try:
            plan = services.import_roll(request.user, nursery=request.nursery, content=pending["content"],
                                        invite=pending["invite"], valid_rows_only="valid_rows_only" in request.POST)
        except (ServiceError, RollFileError) as error:
            messages.error(request, getattr(error, "message", str(error)))
        else:
            request.session.pop(ROLL_SESSION_KEY, None)
            counts = plan.counts
            messages.success(request, f"Imported: {counts['add']} row(s) added, {counts['change']} changed, "
                                      f"{counts['unchanged']} unchanged"
                                      + (f", {counts['errors']} skipped with errors." if counts["errors"] else "."))
            return redirect("people:children")
    try:
        plan = services.preview_roll(request.nursery, pending["content"])
    except RollFileError as error:
        request.session.pop(ROLL_SESSION_KEY, None)
        messages.error(request, str(error))
        return redirect("people:roll_import")
    sections = [(what, title, plan.of(what)) for what, title in
                (("add", "To add"), ("change", "To change"), ("unchanged", "Unchanged"))]
    return render(request, "people/roll_preview.html", {
        "plan": plan, "pending": pending, "limit": PREVIEW_ROWS,
        "sections": [(what, title, rows[:PREVIEW_ROWS], len(rows)) for what, title, rows in sections],
    })
