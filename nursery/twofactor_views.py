"""Two-factor sign-in pages: the code after the password, setting up an authenticator, recovery codes, and
leadership's page to reset a colleague's lost device. The rules live in ``nursery.twofactor``."""

import django_otp
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from django_otp.plugins.otp_static.models import StaticDevice

from nursery import twofactor
from nursery.errors import ServiceError
from nursery.http import carry_out, safe_next
from nursery.models import Role
from nursery.permissions import get_object_in_nursery, role_required


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def verify(request):
    user = request.user
    if not twofactor.has_device(user):
        return redirect("two_factor_enrol") if twofactor.needs_two_factor(user) else redirect("home")
    if user.is_verified():
        return redirect(safe_next(request, "home"))
    error = ""
    if request.method == "POST":
        device = twofactor.verify(user, request.POST.get("code", ""))
        if device is not None:
            django_otp.login(request, device)
            if isinstance(device, StaticDevice):
                left = device.token_set.count()
                messages.warning(request, f"You used a recovery code; {left} left. If you lost your phone, ask "
                                          "another leader to reset your two-factor sign-in.")
            return redirect(safe_next(request, "home"))
        error = "That code is not right, or too many were tried: wait a few seconds and type the newest code."
    return render(request, "nursery/two_factor/verify.html", {"error": error, "next": request.GET.get("next", "")},
                  status=400 if error else 200)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def enrol(request):
    user = request.user
    if not twofactor.needs_two_factor(user):
        return redirect("home")  # asked of those who can read safeguarding records; nobody else is asked for it
    if twofactor.has_device(user) and not user.is_verified():
        return redirect("two_factor_verify")  # replacing a device needs the old one first (or a reset)
    device = twofactor.pending_device(user)
    error = ""
    if request.method == "POST":
        try:
            codes = twofactor.confirm_device(user, device=device, token=request.POST.get("code", ""))
        except ServiceError as exc:
            error = exc.message
        else:
            django_otp.login(request, device)
            return render(request, "nursery/two_factor/codes.html", {"codes": codes, "first_time": True})
    return render(request, "nursery/two_factor/enrol.html", {
        "qr": twofactor.qr_svg(device), "secret": twofactor.secret_text(device), "error": error,
        "replacing": twofactor.has_device(user),
    }, status=400 if error else 200)


@never_cache
@login_required
@require_POST
def recovery_codes(request):
    if not (twofactor.has_device(request.user) and request.user.is_verified()):
        return redirect("two_factor_enrol")
    return render(request, "nursery/two_factor/codes.html", {"codes": twofactor.new_recovery_codes(request.user)})


def _team(request):
    return get_user_model().objects.filter(
        memberships__nursery=request.nursery, memberships__role__in=twofactor.TWO_FACTOR_ROLES, is_active=True,
    ).distinct().order_by("first_name", "last_name")


@role_required(Role.LEADERSHIP)
def team(request):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    users = list(_team(request))
    enrolled = set(TOTPDevice.objects.filter(user__in=users, confirmed=True).values_list("user_id", flat=True))
    return render(request, "nursery/two_factor/team.html", {"rows": [(u, u.pk in enrolled) for u in users]})


@role_required(Role.LEADERSHIP)
@require_POST
def reset(request, user_pk):
    person = get_object_in_nursery(request, get_user_model().objects.filter(is_active=True).distinct(),
                                   nursery_field="memberships__nursery", pk=user_pk)
    carry_out(request, lambda: twofactor.reset_two_factor(request.user, user=person,
                                                           reason=request.POST.get("reason", "")),
              f"Two-factor sign-in of {person.get_full_name() or person.username} reset; "
              "they were signed out and told.")
    return redirect("two_factor_team")
