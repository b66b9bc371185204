from django.urls import path

from retention import views

app_name = "retention"

urlpatterns = [
    path("retention/", views.overview, name="overview"),
    path("retention/schedule/", views.schedule, name="schedule"),
    path("retention/holds/new/", views.hold_new, name="hold_new"),
    path("retention/holds/<int:pk>/release/", views.hold_release, name="hold_release"),
    path("retention/access/", views.access, name="access"),
    path("retention/access/<int:pk>/download/", views.access_download, name="access_download"),
    path("retention/access/<int:pk>/retry/", views.access_retry, name="access_retry"),
    path("retention/erasure/", views.erasure_list, name="erasure_list"),
    path("retention/erasure/<int:pk>/", views.erasure, name="erasure"),
    path("retention/erasure/<int:pk>/carry-out/", views.erasure_carry_out, name="erasure_carry_out"),
]
