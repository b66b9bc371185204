"""A URL whose view finds the database down, for the 503 page test."""

from django.db import OperationalError
from django.urls import path


def database_down(request):
    raise OperationalError('connection to server at "127.0.0.1", port 5432 failed: Connection refused')


handler500 = "nursery.views.server_error"
urlpatterns = [path("", database_down)]
