"""Screening a comment's text against the nursery's rules, and keeping regular-expression rules safe.

Regular-expression rules run on RE2 (``google-re2``), which matches in time linear in the text by
construction: no pattern can make a worker hang, so no pattern needs judging for its cost. What RE2 cannot
express (back-references, look-ahead and look-behind) is refused when the rule is saved, with a plain
message. At most ``MAX_SCREENED_CHARS`` of a text is screened (Facebook's own limit for a comment is
8,000 characters). A rule that RE2 refuses at screening time (put into the database directly) is skipped
and logged.
"""

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache

import re2
from django.core.exceptions import ValidationError

from nursery.detectors import Hit, email_addresses, names_in, phone_numbers, postcodes

logger = logging.getLogger(__name__)

MAX_PATTERN_LENGTH = 200
MAX_SCREENED_CHARS = 8000
MAX_PATTERN_MEMORY = 8 << 20  # bytes RE2 may use for one compiled rule; a bigger one is refused

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


def _options() -> re2.Options:
    options = re2.Options()
    options.case_sensitive = False
    options.max_mem = MAX_PATTERN_MEMORY
    options.log_errors = False
    return options


# RE2's error for each construct it leaves out on purpose, and how a leader would call it.
UNSUPPORTED = {
    **{f"invalid escape sequence: \\{n}": "back-references (like \\1)" for n in range(1, 10)},
    "invalid perl operator: (?=": "look-ahead (?=…)",
    "invalid perl operator: (?!": "look-ahead (?!…)",
    "invalid perl operator: (?<": "look-behind (?<=…) or (?<!…)",
}


def compile_pattern(pattern: str) -> re2._Regexp:
    """The rule's expression compiled by RE2 (case-insensitive), or a ``ValidationError`` in plain words."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise ValidationError(f"Keep the expression under {MAX_PATTERN_LENGTH} characters.")
    try:
        return re2.compile(pattern, _options())
    except re2.error as exc:
        reason = exc.args[0].decode(errors="replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        for start, words in UNSUPPORTED.items():
            if reason.startswith(start):
                raise ValidationError(
                    f"Screening rules cannot use {words}: they can take forever on some text. "
                    "Rewrite the expression without it, or use a word list."
                ) from exc
        raise ValidationError(f"This is not a valid regular expression: {reason}.") from exc


def check_pattern(pattern: str) -> None:
    """Refuse an expression that is too long, invalid, or beyond what RE2 runs in linear time."""
    compile_pattern(pattern)


@lru_cache(maxsize=512)
def _compiled(pattern: str) -> re2._Regexp | None:
    try:
        return compile_pattern(pattern)
    except ValidationError as exc:
        logger.error("Screening rule pattern %r is refused and skipped: %s", pattern, exc.messages[0])
        return None


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
