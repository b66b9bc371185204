SESSION_KEY = "current_nursery_id"


def current_nursery(request):
    from nursery.permissions import nurseries_of

    if not request.user.is_authenticated:
        return None
    mine = nurseries_of(request.user)
    chosen = request.session.get(SESSION_KEY)
    return (chosen and mine.filter(pk=chosen).first()) or mine.first()


class CurrentNurseryMiddleware:
    """``request.nursery``: the nursery the user works in now (chosen in the navbar when they have several)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.nursery = current_nursery(request)
        return self.get_response(request)


class PermissionsPolicyMiddleware:
    """``Permissions-Policy`` on every response: Django sets the other security headers, not this one."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.conf import settings

        response = self.get_response(request)
        response.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response


class TwoFactorMiddleware:
    """Signed in with a password but not yet with a code: only the two-factor pages, until verified.

    For whoever ``nursery.twofactor.required_for``: every page, the Django admin included, sends them to the
    code page (or to set up an authenticator, the first time), then back where they were going.
    """

    ALLOWED = ("two_factor_verify", "two_factor_enrol", "logout", "healthz")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from urllib.parse import quote

        from django.conf import settings
        from django.shortcuts import redirect
        from django.urls import Resolver404, resolve, reverse

        from nursery import twofactor

        user = request.user
        if user.is_authenticated and not user.is_verified() and twofactor.required_for(user):
            try:
                name = resolve(request.path_info).url_name
            except Resolver404:
                name = None
            if name not in self.ALLOWED and not request.path_info.startswith(settings.STATIC_URL):
                target = "two_factor_verify" if twofactor.has_device(user) else "two_factor_enrol"
                return redirect(f"{reverse(target)}?next={quote(request.get_full_path())}")
        return self.get_response(request)


class SessionIdleMiddleware:
    """Staff sessions end after ``STAFF_SESSION_IDLE_MINUTES`` without a request; parents' after
    ``PARENT_SESSION_DAYS``. A tablet left signed in on the nursery's desk must not stay open to the next
    person; a parent on their own phone should not have to sign in every day. A request starts the idle time
    again: the session's expiry is moved on at most once a minute, so a busy page does not write its session
    on every request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        import time

        if request.user.is_authenticated and time.time() - request.session.get(SEEN_KEY, 0) >= 60:
            _move_expiry(request.session)
        return self.get_response(request)


STAFF_SESSION_KEY, SEEN_KEY = "staff_session", "seen_at"


def _move_expiry(session) -> None:
    import time

    from django.conf import settings

    # Whether this is a staff session was decided once, at sign-in (remember_kind_of_session).
    staff = session.get(STAFF_SESSION_KEY, True)
    session.set_expiry(settings.STAFF_SESSION_IDLE_MINUTES * 60 if staff else settings.PARENT_SESSION_DAYS * 86400)
    session[SEEN_KEY] = int(time.time())


def remember_kind_of_session(sender, request, user, **kwargs):
    """``user_logged_in``: a staff session (anyone who works at a nursery, or the admin) or a parent's."""
    from nursery.models import STAFF_ROLES, Membership

    if request is not None and hasattr(request, "session"):
        request.session[STAFF_SESSION_KEY] = user.is_superuser or user.is_staff or Membership.objects.filter(
            user=user, role__in=STAFF_ROLES).exists()
        _move_expiry(request.session)
