"""Screening a comment's text against the nursery's rules, and keeping regular-expression rules safe.

Python's ``re`` cannot be interrupted, so a catastrophic pattern would hang a worker. Screening stays bounded
in time by two things together. Every regular expression is checked when it is saved: it compiles, has at
most 200 characters, no repeat inside a repeat, no alternation inside a repeat, no back-references, and a
worst-case cost within budget (the text length times the number of ways each repeat can match, an
open-ended repeat counting as the whole text: one ``.*`` is fine, ``.*a.*b`` is cubic and refused). And at
most ``MAX_SCREENED_CHARS`` of a text is screened (Facebook's own limit for a comment is 8,000 characters).
Rules that fail the check at screening time (e.g. changed in the database directly) are skipped and logged.
"""

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from django.core.exceptions import ValidationError

from nursery.detectors import Hit, email_addresses, names_in, phone_numbers, postcodes

try:  # Python 3.11 keeps the parser private; it is the only way to inspect a pattern's structure.
    from re import _constants as sre_constants
    from re import _parser as sre_parse
except ImportError:  # pragma: no cover - older Pythons
    import sre_constants
    import sre_parse

logger = logging.getLogger(__name__)

MAX_PATTERN_LENGTH = 200
MAX_SCREENED_CHARS = 8000
# About half a second of matching in the worst case on this machine class (measured: '.*b' on 8,000 'a's).
MAX_COST = 70_000_000

# Attempts to move a conversation with staff somewhere private (policy: no friend requests, no private messages).
CONTACT_PHRASES = [
    "friend request", "add me", "add me on", "dm me", "dm", "direct message", "message me", "msg me",
    "inbox me", "pm me", "private message", "privately", "whatsapp me", "text me", "call me", "my number",
    "follow me", "snapchat", "my insta",
]


def word_list(words: str) -> list[str]:
    return [line.strip() for line in (words or "").splitlines() if line.strip()]


def contact_attempts(text: str) -> list[Hit]:
    return names_in(text, CONTACT_PHRASES, kind="contact attempt")


# --- regular expressions -------------------------------------------------------------------------------------

_REPEATS = {sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT}
_POSSESSIVE = getattr(sre_constants, "POSSESSIVE_REPEAT", None)


def _walk(items, inside_repeat: bool, counts: dict) -> None:
    for op, arg in items:
        if op in _REPEATS or (_POSSESSIVE is not None and op == _POSSESSIVE):
            low, high, body = arg
            repeats_many = high == sre_constants.MAXREPEAT or high > 1
            counts["cost"] *= MAX_SCREENED_CHARS if high == sre_constants.MAXREPEAT else max(high - low + 1, 1)
            if inside_repeat and repeats_many:
                raise ValidationError("Repeats inside repeats (like (a+)+) can take forever on some text: simplify.")
            _walk(body, inside_repeat or repeats_many, counts)
        elif op == sre_constants.BRANCH:
            if inside_repeat:
                raise ValidationError(
                    "Alternatives inside a repeat (like (a|ab)*) can take forever on some text: "
                    "use a word list rule for alternatives."
                )
            for branch in arg[1]:
                _walk(branch, inside_repeat, counts)
        elif op == sre_constants.SUBPATTERN:
            _walk(arg[-1], inside_repeat, counts)
        elif op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT):
            _walk(arg[1], inside_repeat, counts)
        elif op in (sre_constants.GROUPREF, sre_constants.GROUPREF_EXISTS):
            raise ValidationError("Back-references (like \\1) are not allowed in screening rules.")


def check_pattern(pattern: str) -> None:
    """Refuse a regular expression that is invalid, too long or able to backtrack catastrophically."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise ValidationError(f"Keep the expression under {MAX_PATTERN_LENGTH} characters.")
    try:
        re.compile(pattern)
        parsed = sre_parse.parse(pattern)
    except (re.error, RecursionError, OverflowError) as exc:
        raise ValidationError(f"This is not a valid regular expression: {exc}.") from exc
    counts = {"cost": MAX_SCREENED_CHARS}
    _walk(parsed, False, counts)
    if counts["cost"] > MAX_COST:
        raise ValidationError(
            "This expression could take too long on a long comment: use at most one open-ended repeat "
            "(* or +) and keep ranges like {0,50} short. A word list is better for phrases."
        )


@lru_cache(maxsize=512)
def _compiled(pattern: str) -> re.Pattern | None:
    try:
        check_pattern(pattern)
    except ValidationError:
        logger.error("Screening rule pattern %r fails the safety check and is skipped", pattern)
        return None
    return re.compile(pattern, re.IGNORECASE)


# --- screening ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Found:
    """A rule's hit on a text."""

    rule_id: int | None
    rule_name: str
    category: str
    severity: int
    start: int
    end: int
    matched: str


@dataclass
class Context:
    """What name detectors need to know about the nursery and the post the comment is on."""

    full_names: list[str] = field(default_factory=list)
    pictured_first_names: list[str] = field(default_factory=list)


DETECTORS: dict[str, Callable[[str, Context], list[Hit]]] = {
    "child_full_names": lambda text, ctx: names_in(text, ctx.full_names, kind="child's name"),
    "child_first_names": lambda text, ctx: names_in(text, ctx.pictured_first_names, kind="pictured child's name"),
    "phone": lambda text, ctx: phone_numbers(text),
    "email": lambda text, ctx: email_addresses(text),
    "postcode": lambda text, ctx: postcodes(text),
    "contact_attempt": lambda text, ctx: contact_attempts(text),
}


def _rule_hits(rule, text: str, context: Context) -> list[tuple[int, int, str]]:
    if rule.kind == "words":
        return [(h.start, h.end, h.text) for h in names_in(text, word_list(rule.words), kind=rule.category)]
    if rule.kind == "regex":
        compiled = _compiled(rule.pattern)
        if compiled is None:
            return []
        return [(m.start(), m.end(), m.group(0)) for m in compiled.finditer(text) if m.end() > m.start()]
    detector = DETECTORS.get(rule.detector)
    if detector is None:
        logger.error("Screening rule %s names an unknown detector %r", rule.pk, rule.detector)
        return []
    return [(h.start, h.end, h.text) for h in detector(text, context)]


def screen(text: str, rules: Iterable, context: Context) -> list[Found]:
    """Every hit of every active rule on the (length-capped) text, in reading order."""
    text = (text or "")[:MAX_SCREENED_CHARS]
    found = [
        Found(rule.pk, rule.name, rule.category, rule.severity, start, end, matched[:200])
        for rule in rules
        if rule.active
        for start, end, matched in _rule_hits(rule, text, context)
    ]
    return sorted(found, key=lambda f: (f.start, -f.severity, f.rule_name))


SEVERITY_POINTS = {1: 1, 2: 5, 3: 20}


def score(found: Iterable[Found]) -> int:
    return sum(SEVERITY_POINTS.get(f.severity, 0) for f in found)
