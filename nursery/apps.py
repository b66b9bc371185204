from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class NurseryConfig(AppConfig):
    name = "nursery"
    verbose_name = "Nursery"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from nursery.ledger import guard_cascades
        from nursery.middleware import remember_kind_of_session

        guard_cascades()
        user_logged_in.connect(remember_kind_of_session, dispatch_uid="nursery.remember_kind_of_session")


class SuperuserAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin, with the site that only superusers may enter (nursery/admin_site.py)."""

    default = False  # named in INSTALLED_APPS; NurseryConfig stays this module's default
    default_site = "nursery.admin_site.SuperuserAdminSite"
