from django.urls import path

from inspection import views

app_name = "inspection"

urlpatterns = [
    path("inspection/audit/", views.audit_export, name="audit"),
    path("inspection/audit.csv", views.audit_csv, name="audit_csv"),
]
