"""Finding personal data in free text: shared by caption checks (posts) and comment screening (moderation).

Each detector returns ``Hit``s with character offsets, so pages can highlight exactly what matched.
The patterns are linear (no nested quantifiers) so they stay fast on hostile input.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import re2


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


# Not a word character as Python's \w sees it (RE2's own \w and \b are ASCII only); any run of spaces.
_NOT_WORD = r"[^\p{L}\p{N}_]"
_SPACES = r"[\s\p{Z}]+"


@lru_cache(maxsize=256)
def _names_pattern(wanted: tuple[str, ...]) -> re2._Regexp:
    options = re2.Options()
    options.case_sensitive = False
    # RE2 has no look-around: the characters on either side are matched (or the ends of the text) and the
    # name is group 1. Longest names first: "Amara Okafor" before "Amara".
    alternatives = "|".join(_SPACES.join(re2.escape(part) for part in name.split()) for name in wanted)
    return re2.compile(f"(?:^|{_NOT_WORD})({alternatives})(?:$|{_NOT_WORD})", options)


def names_in(text: str, names: Iterable[str], kind: str = "name") -> list[Hit]:
    """Whole-word, case-insensitive matches of any of ``names`` (multi-word names allow any spacing).

    On RE2, in time linear in the text however many names: the nursery's hundreds of children are one
    pattern. Each search starts again just after the last name found, so the character that ended one
    name can begin the next ("Amara, Amara").
    """
    wanted = tuple(sorted({n.strip() for n in names if n and n.strip()}, key=lambda n: (-len(n), n)))
    if not wanted:
        return []
    pattern, hits, position = _names_pattern(wanted), [], 0
    while (match := pattern.search(text, position)) is not None:
        start, end = match.span(1)
        hits.append(Hit(kind, start, end, text[start:end]))
        position = end
    return hits
