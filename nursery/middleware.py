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
