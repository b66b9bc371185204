from django.urls import path

from consent import views

app_name = "consent"

urlpatterns = [
    path("consent/", views.mine, name="mine"),
    path("consent/child/<int:child_pk>/history/", views.history, name="history"),
    path("consent/child/<int:child_pk>/evidence/", views.evidence, name="evidence"),
    path("consent/child/<int:child_pk>/paper/", views.paper, name="paper"),
    path("consent/child/<int:child_pk>/<slug:scope>/", views.decide, name="decide"),
    path("consent/child/<int:child_pk>/<slug:scope>/grant/", views.grant, name="grant"),
    path("consent/child/<int:child_pk>/<slug:scope>/withdraw/", views.withdraw, name="withdraw"),
    path("consent/paper/", views.paper_start, name="paper_start"),
    path("consent/decision/<int:decision_pk>/scan/", views.scan, name="scan"),
    path("consent/register/", views.register, name="register"),
    path("consent/register/photo-list/", views.photo_list, name="photo_list"),
    path("consent/register/counts/", views.register_counts, name="register_counts"),
    path("consent/register.csv", views.register_csv, name="register_csv"),
    path("consent/wording/", views.wordings, name="wordings"),
    path("consent/wording/<slug:scope>/new/", views.publish_wording, name="publish_wording"),
]
