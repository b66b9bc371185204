from tests.access import Access, leadership_page

ACCESS = [
    Access("inspection:audit", leadership_page()),
    Access("inspection:audit_csv", leadership_page(), query="?start=2026-01-01&end=2026-12-31",
           note="streamed CSV of the leader's own nursery; confidentiality tested in test_audit_export"),
]
