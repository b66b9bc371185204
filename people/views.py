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
from nursery.middleware import SESSION_KEY
from nursery.models import Child, Role
from nursery.permissions import get_object_in_nursery, role_required
from people import forms, queries, services
from people.models import Invitation


def _child(request, pk) -> Child:
    return get_object_in_nursery(request, Child.objects.select_related("nursery", "room"), pk=pk)


@role_required(Role.LEADERSHIP)
def child_leaving(request, pk):
    child = _child(request, pk)
    form = forms.LeavingForm(request.POST or None, initial={"left_on": child.left_on})
    if request.method == "POST" and form.is_valid():
        try:
            services.mark_child_leaving(request.user, child=child, left_on=form.cleaned_data["left_on"],
                                        reason=form.cleaned_data["reason"])
        except ServiceError as error:
            form.add_error(None, error.message)
        else:
            left_on = form.cleaned_data["left_on"]
            messages.success(request, f"{child.first_name} leaves on {left_on:%-d %B %Y}." if left_on
                             else f"{child.first_name} is no longer leaving.")
            return redirect("consent:evidence", child.pk)
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
        try:
            invitation = services.invite_person(
                request.user, nursery=request.nursery, email=data["email"], first_name=data["first_name"],
                last_name=data["last_name"], role=data["role"], child=data["child"],
                relationship=data["relationship"], parental_responsibility=data["parental_responsibility"],
            )
        except ServiceError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, f"Invitation emailed to {data['email']}." if invitation else
                             f"{data['email']} already has an account: they were told they now have access.")
            return redirect("people:invitations")
    return render(request, "people/invite.html", {"form": form})


def _invitation(request, pk) -> Invitation:
    return get_object_in_nursery(request, Invitation, pk=pk)


@role_required(Role.LEADERSHIP)
@require_POST
def invitation_resend(request, pk):
    invitation = _invitation(request, pk)
    try:
        services.resend_invitation(request.user, invitation=invitation)
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"A new link was emailed to {invitation.email}; the previous one no longer works.")
    return redirect("people:invitations")


@role_required(Role.LEADERSHIP)
@require_POST
def invitation_revoke(request, pk):
    invitation = _invitation(request, pk)
    try:
        services.revoke_invitation(request.user, invitation=invitation)
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"The invitation to {invitation.email} was revoked.")
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
