from tests.access import Access, expect, leadership_page, staff_page
from tests.consent.access import signed


def _incident(world):
    """One named report about the practitioner, with a screenshot, made once per test world."""
    if "incident" not in world.extra:
        from django.utils import timezone

        from staff_conduct import services
        from staff_conduct.models import Source
        from tests.staff_conduct.factories import png_upload

        world.extra["incident"] = services.report_incident(
            world.dsl, nursery=world.nursery, subject=world.practitioner, source=Source.NAMED,
            occurred_on=timezone.localdate(), description="Named the nursery.", evidence=png_upload(),
        )
    return world.extra["incident"]


def incident(world):
    return {"pk": _incident(world).pk}


def evidence(world):
    found = _incident(world)
    return {"pk": found.pk, "evidence_pk": found.evidence.get().pk}


def leadership_action(url_name, data=None, *, leader=400):
    return Access(url_name, expect(leader=leader), kwargs=incident, method="post", data=data,
                  note="an empty form is refused with its errors (400); the others may not act")


def kind(name):
    return lambda world: {"kind": name}


ACCESS = [
    Access("staff_conduct:policy", staff_page(), kwargs=kind("staff"),
           note="parents never see the staff policy; everyone reads the parents' rules (tested in test_views)"),
    Access("staff_conduct:acknowledge", expect(practitioner=302, dsl=302, leader=302, outsider=302),
           kwargs=kind("staff"), method="post", data=lambda w: {"signature": signed, "version": "0"},
           note="staff acknowledge the staff policy (a stale version is sent back to read it again)"),
    Access("staff_conduct:policies", leadership_page()),
    Access("staff_conduct:publish", leadership_page(), kwargs=kind("staff")),
    Access("staff_conduct:acknowledgements", leadership_page()),
    Access("staff_conduct:acknowledgements_csv", leadership_page()),
    Access("staff_conduct:report", staff_page()),
    Access("staff_conduct:incidents", leadership_page()),
    Access("staff_conduct:incident", expect(leader=200), kwargs=incident),
    leadership_action("staff_conduct:incident_assign"),
    leadership_action("staff_conduct:incident_decide_outcome"),
    leadership_action("staff_conduct:incident_close"),
    leadership_action("staff_conduct:incident_record_appeal"),
    leadership_action("staff_conduct:incident_decide_appeal"),
    leadership_action("staff_conduct:incident_note", lambda w: {"note-text": "Spoke to them."}, leader=302),
    leadership_action("staff_conduct:incident_evidence"),
    Access("staff_conduct:evidence_file", expect(leader=200), kwargs=evidence),
]
