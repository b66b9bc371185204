"""Finding personal data in free text: shared by caption checks (posts) and comment screening (moderation).

Each detector returns ``Hit``s with character offsets, so pages can highlight exactly what matched.
The patterns are linear (no nested quantifiers) so they stay fast on hostile input.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Hit:
    kind: str
    start: int
    end: int
    text: str


# UK numbers: +44 / 0044 (optionally followed by "(0)") / 0, then 9-10 more digits, optionally grouped by
# spaces, dots or dashes, with the area code possibly in brackets: "(0113) 496 0000", "+44 (0)7700 900123".
PHONE = re.compile(r"(?<![\w+(])(?:(?:\+44|0044)\s?(?:\(0\)\s?)?|\(?0)(?:\d(?:\)\s?|[\s.\-])?){8,9}\d(?!\d)")
EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})+")
# Full UK postcodes, e.g. LS6 2AB, SW1A 1AA, M1 1AE (case-insensitive, space optional).
POSTCODE = re.compile(r"\b(?:[A-Z]{1,2}\d[A-Z\d]?|GIR)\s?\d[A-Z]{2}\b", re.IGNORECASE)


def _hits(kind: str, pattern: re.Pattern, text: str) -> list[Hit]:
    return [Hit(kind, m.start(), m.end(), m.group(0)) for m in pattern.finditer(text)]


def phone_numbers(text: str) -> list[Hit]:
    return _hits("phone number", PHONE, text)


def email_addresses(text: str) -> list[Hit]:
    return _hits("email address", EMAIL, text)


def postcodes(text: str) -> list[Hit]:
    return _hits("postcode", POSTCODE, text)


def personal_data(text: str) -> list[Hit]:
    return phone_numbers(text) + email_addresses(text) + postcodes(text)


def names_in(text: str, names: Iterable[str], kind: str = "name") -> list[Hit]:
    """Whole-word, case-insensitive matches of any of ``names`` (multi-word names allow any spacing)."""
    wanted = sorted({n.strip() for n in names if n and n.strip()}, key=len, reverse=True)
    if not wanted:
        return []
    alternatives = "|".join(r"\s+".join(re.escape(part) for part in name.split()) for name in wanted)
    pattern = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)
    return _hits(kind, pattern, text)
