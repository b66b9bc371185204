from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from nursery.middleware import SESSION_KEY
from nursery.permissions import nurseries_of
from nursery.services import mark_notifications_read


@login_required
def home(request):
    """Each role's work, in the order it matters: the partials of each app decide what to show."""
    return render(request, "nursery/home.html")


@login_required
def notifications(request):
    page = Paginator(request.user.notifications.all(), 25).get_page(request.GET.get("page"))
    return render(request, "nursery/notifications.html", {"page": page})


@login_required
@require_POST
def notifications_read(request):
    count = mark_notifications_read(user=request.user)
    messages.success(request, f"{count} notification{'s' if count != 1 else ''} marked as read.")
    return redirect("notifications")


@login_required
@require_POST
def switch_nursery(request):
    nursery = nurseries_of(request.user).filter(pk=request.POST.get("nursery") or 0).first()
    if nursery is None:
        messages.error(request, "You are not a member of that nursery.")
    else:
        request.session[SESSION_KEY] = nursery.pk
        messages.success(request, f"You are now working in {nursery.name}.")
    return redirect("home")


@never_cache
@require_GET
def healthz(request):
    checks = {"database": _check_database(), "broker": _check_broker()}
    healthy = all(state == "ok" for state in checks.values())
    return JsonResponse({"status": "ok" if healthy else "unavailable", **checks}, status=200 if healthy else 503)


def _check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means "down"; the reason is reported
        return f"down: {exc.__class__.__name__}"


def _check_broker() -> str:
    from django.conf import settings

    from nursery.celery import app

    try:
        with app.connection_for_write(url=settings.CELERY_BROKER_URL) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return "ok"
    except Exception as exc:  # noqa: BLE001
        return f"down: {exc.__class__.__name__}"
