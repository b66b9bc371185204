"""The Django admin is for the administrator (a superuser) only.

Nursery staff never work in the admin: leadership manage people, rooms and children in the app, where
every page is scoped to the nurseries they belong to. The admin is kept for auditing every record and its
history across all nurseries, which is the superuser's job. Scoping each of its model admins (querysets,
foreign-key choices, autocompletes, history views, confidential reporters) to a staff user's nurseries
would be one rule to get right in dozens of places; refusing everyone but superusers is one rule in one.
"""

from django.contrib.admin import AdminSite
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError


class SuperuserAuthenticationForm(AdminAuthenticationForm):
    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if not user.is_superuser:
            raise ValidationError(
                "The Django admin is for the administrator only. Nursery staff manage people, rooms and "
                "children in Safe Sharing itself.",
                code="not_superuser",
            )


class SuperuserAdminSite(AdminSite):
    site_header = "Safe Sharing administration"
    site_title = "Safe Sharing admin"
    login_form = SuperuserAuthenticationForm

    def has_permission(self, request):
        user = request.user
        return user.is_active and user.is_staff and user.is_superuser
