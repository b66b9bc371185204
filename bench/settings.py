"""The project's settings with ``bench.urls`` as the URL configuration (the bare views to compare with)."""

from nursery.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
