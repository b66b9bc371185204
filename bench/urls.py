"""The project's URLs plus two bare views that benchmarks measure pages against (``bench.settings``).

- ``bench/bare/``: a logged-in page rendering ``base.html`` and nothing else (session, user, nursery,
  navigation: what every page pays before its own work).
- ``bench/ok/``: an anonymous POST answered with a fixed body and no database work (the floor of a
  webhook request under the same server).
"""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt


@login_required
def bare(request):
    return render(request, "base.html")


@csrf_exempt
def ok(request):
    return HttpResponse("ok")


urlpatterns = [path("bench/bare/", bare), path("bench/ok/", ok), path("", include("nursery.urls"))]
