from tests.access import Access, expect, leadership_page


def hold(world):
    if "hold" not in world.extra:
        from retention.services import place_legal_hold

        world.extra["hold"] = place_legal_hold(world.leader, nursery=world.nursery, child=world.child,
                                               reason="Claim by the family")
    return {"pk": world.extra["hold"].pk}


ACCESS = [
    Access("retention:overview", leadership_page()),
    Access("retention:schedule", leadership_page()),
    Access("retention:hold_new", leadership_page()),
    Access("retention:hold_release", expect(leader=302), kwargs=hold, method="post",
           note="an empty reason is refused with a message and a redirect; another nursery's hold is a 404"),
]
