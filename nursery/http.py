"""Reading a request and answering it the same way everywhere: where to go next, from where it came, and how a
service's yes or no is reported to the person who asked."""

import ipaddress
from collections.abc import Callable
from typing import Any, NamedTuple

from django.conf import settings
from django.contrib import messages
from django.shortcuts import resolve_url
from django.utils.http import url_has_allowed_host_and_scheme

from nursery.errors import ServiceError


def safe_next(request, default: str, *args) -> str:
    """The ``next`` address posted or asked for, if it stays on this site; ``default`` (a URL name) otherwise.

    An unchecked ``next`` is an open redirect: a crafted form sends a signed-in leader to a look-alike site.
    """
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return resolve_url(default, *args)


def client_ip(request) -> str | None:
    """The address of the person, not of our proxy.

    Behind ``TRUSTED_PROXY_COUNT`` reverse proxies, each appends the address it was reached from to
    ``X-Forwarded-For``: the client is the entry that many places from the right. Anything further left was
    written by the client and could be anything, so it is never read. With no trusted proxy (the default),
    ``REMOTE_ADDR`` is the client. Used for the address recorded with each online decision and by django-axes.
    """
    remote = _valid(request.META.get("REMOTE_ADDR", ""))
    count = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    if len(hops) < count:
        return remote  # not through the proxies we were told of: only the connection itself is known
    return _valid(hops[-count]) or remote


def _valid(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


class Done(NamedTuple):
    """A service call that went through, and what it returned (a tuple, so it is true even for ``None``)."""

    result: Any


def carry_out(request, action: Callable[[], Any], done: str | Callable[[Any], str], *, form=None) -> Done | None:
    """Run one service call for a view: the service decides, the view only reports.

    A ``ServiceError`` becomes the form's error when there is a form (so the person's input stays on the
    page), otherwise an error message; nothing else happens and ``None`` is returned. Success shows ``done``
    (or ``done(result)``) and any warnings the result carries, and returns ``Done(result)``.
    """
    try:
        result = action()
    except ServiceError as error:
        if form is not None:
            form.add_error(None, error.message)
        else:
            messages.error(request, error.message)
        return None
    messages.success(request, done(result) if callable(done) else done)
    for warning in getattr(result, "warnings", ()):
        messages.warning(request, warning)
    return Done(result)


def require_valid(form, missing: str):
    """The form's cleaned data, or a ServiceError saying what is missing (for one-field forms posted from a list)."""
    if not form.is_valid():
        raise ServiceError(missing)
    return form.cleaned_data
