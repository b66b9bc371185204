"""Caption safety: what a caption must not say about the nursery's children, and what deserves a second look.

- A child's full name or surname blocks submission: with a photo, it tells anyone exactly who the child is.
  Every child on roll counts, not only those pictured: a caption can name a child who is not in the photo.
- A first name of a child in the photos is a warning: it is often fine, but it is the author's decision.
- Phone numbers, email addresses and postcodes are warnings, except the nursery's own.

Surnames are often ordinary words (Hall, Wood, King, Brown), so a surname only counts written as a name:
"Hall" or "HALL", not "the sports hall". First names (Hope, Summer, Rose) follow the same rule. A full name
counts in any case, since two names in a row are very rarely an accident.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from nursery.detectors import Hit, email_addresses, names_in, phone_numbers, postcodes
from nursery.models import Child, Nursery


@dataclass(frozen=True)
class CaptionCheck:
    blocking: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # Everything that matched, with offsets, so a page can highlight it in the caption.
    hits: list[Hit] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.blocking


def check_caption(caption: str, *, nursery: Nursery, pictured_children: Iterable[Child]) -> CaptionCheck:
    """Check ``caption`` against the nursery's children on roll and the children tagged in its photos.

    One query (the children on roll), however many children there are; ``pictured_children`` are
    Child objects (a list, or a queryset that is evaluated once).
    """
    caption = caption or ""
    pictured = list(pictured_children)
    children = {child.pk: child for child in Child.objects.on_roll().filter(nursery=nursery).only(
        "first_name", "last_name"
    )}
    children.update((child.pk, child) for child in pictured)

    full_names = names_in(caption, {child.full_name for child in children.values()}, kind="full name")
    pictured_first_names = {child.first_name for child in pictured}
    first_names = _written_as_names(caption, pictured_first_names, "first name")
    # A word that is the first name of a child in the photo is read as that first name, even if another
    # child has it as a surname: "Thomas loved the drums" is about Thomas in the photo.
    taken = full_names + first_names
    surnames = [
        hit for hit in _written_as_names(caption, {child.last_name for child in children.values()}, "surname")
        if not _overlaps(hit, taken)
    ]
    first_names = [hit for hit in first_names if not _overlaps(hit, full_names)]

    blocking = [f"Remove the full name '{hit.text}': we never name children in posts." for hit in full_names]
    blocking += [f"Remove the surname '{hit.text}': we never name children in posts." for hit in surnames]
    warnings = [
        f"'{hit.text}' is the first name of a child in the photos. Together with the photo it can identify "
        "them: keep it only if you are sure it is needed."
        for hit in first_names
    ]
    contact_details = _not_the_nurserys_own(
        phone_numbers(caption) + email_addresses(caption) + postcodes(caption), nursery
    )
    warnings += [
        f"The caption contains a {hit.kind} ({hit.text}). Posts are public to their audience: remove "
        f"it unless it is the nursery's own {hit.kind}."
        for hit in contact_details
    ]
    return CaptionCheck(
        blocking=_unique(blocking),
        warnings=_unique(warnings),
        hits=sorted(full_names + surnames + first_names + contact_details, key=lambda hit: hit.start),
    )


def _written_as_names(caption: str, names: Iterable[str], kind: str) -> list[Hit]:
    """Matches of ``names`` written as a name: as recorded, capitalised or in capitals (not "hall" for Hall)."""
    names = {" ".join(name.split()) for name in names} - {""}
    forms = {form for name in names for form in (name, name[0].upper() + name[1:], name.upper())}
    return [hit for hit in names_in(caption, names, kind=kind) if " ".join(hit.text.split()) in forms]


def _overlaps(hit: Hit, others: list[Hit]) -> bool:
    return any(hit.start < other.end and other.start < hit.end for other in others)


def _not_the_nurserys_own(hits: list[Hit], nursery: Nursery) -> list[Hit]:
    """Drop the nursery's own contact email and the phone number and postcode in its address."""
    own = {_normalised(nursery.contact_email)} if nursery.contact_email else set()
    own |= {_normalised(hit.text) for hit in phone_numbers(nursery.address) + postcodes(nursery.address)}
    return [hit for hit in hits if _normalised(hit.text) not in own]


def _normalised(text: str) -> str:
    """One spelling per email, postcode or phone number: any case, no spaces or punctuation, +44 read as 0."""
    if "@" in text:
        return text.strip().casefold()
    return re.sub(r"^(?:\+44|0044)0?", "0", re.sub(r"[\s().\-]", "", text).casefold())


def _unique(messages: list[str]) -> list[str]:
    return list(dict.fromkeys(messages))
