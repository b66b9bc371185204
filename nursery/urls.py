from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from nursery import twofactor_views, views

handler500 = "nursery.views.server_error"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/read/", views.notifications_read, name="notifications_read"),
    path("nursery/switch/", views.switch_nursery, name="switch_nursery"),
    path("accounts/two-factor/", twofactor_views.verify, name="two_factor_verify"),
    path("accounts/two-factor/set-up/", twofactor_views.enrol, name="two_factor_enrol"),
    path("accounts/two-factor/recovery-codes/", twofactor_views.recovery_codes, name="two_factor_codes"),
    path("two-factor/team/", twofactor_views.team, name="two_factor_team"),
    path("two-factor/team/<int:user_pk>/reset/", twofactor_views.reset, name="two_factor_reset"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("", include("consent.urls")),
    path("", include("posts.urls")),
    path("", include("moderation.urls")),
    path("", include("staff_conduct.urls")),
    path("", include("retention.urls")),
    path("", include("inspection.urls")),
    path("", include("people.urls")),
]
