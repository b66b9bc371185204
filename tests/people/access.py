from tests.access import Access, leadership_page

ACCESS = [
    Access("people:child_leaving", leadership_page(outsider=404), kwargs=lambda w: {"pk": w.child.pk}),
]
