from django.apps import AppConfig


class NurseryConfig(AppConfig):
    name = "nursery"
    verbose_name = "Nursery"
