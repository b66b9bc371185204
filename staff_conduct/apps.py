from django.apps import AppConfig


class StaffConductConfig(AppConfig):
    name = "staff_conduct"
    verbose_name = "Staff conduct"
