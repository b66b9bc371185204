from django.urls import path

from inspection import views

app_name = "inspection"

urlpatterns = [
    path("inspection/trends/", views.dashboard, name="dashboard"),
    path("inspection/audit/", views.audit_export, name="audit"),
    path("inspection/audit.csv", views.audit_csv, name="audit_csv"),
    path("inspection/packs/", views.packs, name="packs"),
    path("inspection/packs/<int:pk>/", views.pack, name="pack"),
    path("inspection/packs/<int:pk>/progress/", views.pack_progress, name="pack_progress"),
    path("inspection/packs/<int:pk>/download/", views.pack_download, name="pack_download"),
]
