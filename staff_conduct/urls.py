from django.urls import path

from staff_conduct import views

app_name = "staff_conduct"


def _action(name: str, url: str):
    return path(f"conduct/incidents/<int:pk>/{url}/", views.incident_action, {"action": name},
                name=f"incident_{name}")


urlpatterns = [
    path("conduct/policy/<slug:kind>/", views.policy, name="policy"),
    path("conduct/policy/<slug:kind>/acknowledge/", views.acknowledge, name="acknowledge"),
    path("conduct/policies/", views.policies, name="policies"),
    path("conduct/policies/<slug:kind>/publish/", views.publish, name="publish"),
    path("conduct/acknowledgements/", views.acknowledgements, name="acknowledgements"),
    path("conduct/acknowledgements.csv", views.acknowledgements_csv, name="acknowledgements_csv"),
    path("conduct/report/", views.report_concern, name="report"),
    path("conduct/incidents/", views.incident_list, name="incidents"),
    path("conduct/incidents/<int:pk>/", views.incident_detail, name="incident"),
    _action("assign", "assign"),
    _action("decide_outcome", "outcome"),
    _action("close", "close"),
    _action("record_appeal", "appeal"),
    _action("decide_appeal", "appeal-decision"),
    _action("note", "notes"),
    _action("evidence", "evidence"),
    path("conduct/incidents/<int:pk>/evidence/<int:evidence_pk>/", views.evidence_file, name="evidence_file"),
]
