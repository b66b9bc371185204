import sys

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpResponse, HttpResponseServerError, JsonResponse
from django.shortcuts import redirect, render
from django.template import loader
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from nursery import outbox
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
    """For monitoring: 200 when all is well; 503 "unavailable" when the database or broker is down, and 503
    "degraded" when the oldest outbox message has waited longer than OUTBOX_DEGRADED_AFTER_SECONDS (a worker
    or beat has stopped: emails and platform calls are piling up)."""
    checks: dict = {"database": _check_database(), "broker": _check_broker()}
    if checks["database"] == "ok":
        checks["outbox"] = outbox.backlog()
    if checks["database"] != "ok" or checks["broker"] != "ok":
        status = "unavailable"
    elif checks["outbox"]["oldest_seconds"] > settings.OUTBOX_DEGRADED_AFTER_SECONDS:
        status = "degraded"
    else:
        status = "ok"
    return JsonResponse({"status": status, **checks}, status=200 if status == "ok" else 503)


def server_error(request):
    """The 500 handler; a database that is down gets the 503 page instead: "try again shortly", no traceback.

    Rendered without the request's context processors, which would query the database again."""
    if isinstance(sys.exc_info()[1], (OperationalError, InterfaceError)):
        return HttpResponse(loader.render_to_string("503.html"), status=503, headers={"Retry-After": "60"})
    return HttpResponseServerError(loader.render_to_string("500.html"))


def _check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means "down"; the reason is reported
        return f"down: {exc.__class__.__name__}"


def _check_broker() -> str:
    from nursery.celery import app

    try:
        with app.connection_for_write(url=settings.CELERY_BROKER_URL) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return "ok"
    except Exception as exc:  # noqa: BLE001
        return f"down: {exc.__class__.__name__}"
