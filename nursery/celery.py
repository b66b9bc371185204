"""The Celery app. Configured from Django settings (``CELERY_`` names); the beat schedule is there too."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nursery.settings")

app = Celery("nursery")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
