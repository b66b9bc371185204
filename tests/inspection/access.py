from tests.access import Access, expect, leadership_page


def pack(world):
    """One pack of the world's nursery, built, made once per test world."""
    if "pack" not in world.extra:
        from inspection import services
        from inspection.audit import Period

        made = services.request_pack(world.leader, nursery=world.nursery, period=Period.last_months(12))
        services.build_pack(pack_id=made.pk)
        world.extra["pack"] = made
    return {"pk": world.extra["pack"].pk}


ACCESS = [
    Access("inspection:dashboard", leadership_page()),
    Access("inspection:audit", leadership_page()),
    Access("inspection:audit_csv", leadership_page(), query="?start=2026-01-01&end=2026-12-31",
           note="streamed CSV of the leader's own nursery; confidentiality tested in test_audit_export"),
    Access("inspection:packs", leadership_page()),
    Access("inspection:pack", expect(leader=200), kwargs=pack),
    Access("inspection:pack_progress", expect(leader=200), kwargs=pack),
    Access("inspection:pack_download", expect(leader=200), kwargs=pack, note="each download is recorded"),
]
