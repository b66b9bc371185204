from tests.access import Access, expect, leadership_page


def hold(world):
    if "hold" not in world.extra:
        from retention.services import place_legal_hold

        world.extra["hold"] = place_legal_hold(world.leader, nursery=world.nursery, child=world.child,
                                               reason="Claim by the family")
    return {"pk": world.extra["hold"].pk}


def ready_export(world):
    if "sar" not in world.extra:
        from django.utils import timezone

        from retention.services import build_subject_access_export, request_subject_access

        sar = request_subject_access(world.leader, nursery=world.nursery, subject=world.parent,
                                     received_on=timezone.localdate())
        world.extra["sar"] = build_subject_access_export(request_id=sar.pk)
    return {"pk": world.extra["sar"].pk}


def erasure(world):
    if "erasure" not in world.extra:
        from django.utils import timezone

        from retention.services import record_erasure_request

        world.extra["erasure"] = record_erasure_request(world.leader, nursery=world.nursery, subject=world.parent,
                                                        received_on=timezone.localdate())
    return {"pk": world.extra["erasure"].pk}


ACCESS = [
    Access("retention:overview", leadership_page()),
    Access("retention:schedule", leadership_page()),
    Access("retention:hold_new", leadership_page()),
    Access("retention:hold_release", expect(leader=302), kwargs=hold, method="post",
           note="an empty reason is refused with a message and a redirect; another nursery's hold is a 404"),
    Access("retention:access", leadership_page()),
    Access("retention:access_download", expect(leader=200), kwargs=ready_export),
    Access("retention:access_retry", expect(leader=302), kwargs=ready_export, method="post",
           note="a ready export is not rebuilt: a message and a redirect"),
    Access("retention:erasure_list", leadership_page()),
    Access("retention:erasure", expect(leader=200), kwargs=erasure),
    Access("retention:erasure_carry_out", expect(leader=302), kwargs=erasure, method="post",
           note="the leader carries it out (the parent's child is on roll: most is kept) and is sent back"),
]
