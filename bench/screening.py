"""How long does screening take on the longest comment, against fifty rules, now that expressions run on RE2?

Screens a comment of MAX_SCREENED_CHARS (8,000) characters against the shipped rule set plus regular
expressions up to 50 rules in all (among them ones that hang a backtracking engine, like ``(a+)+$``), with
the full names of 300 children to look for, and prints the median time beside the floor: the same text
with no rules at all. No database is needed.

    .venv/bin/python bench/screening.py [--rules 50] [--repeat 50]
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nursery.settings")

PATTERNS = [
    r"(a+)+$", r"(\w+\s?)*$", r"(a|aa)*$", r".*photo.*share", r"(x+x+)+y", r"kids\s?count", r"\bsnap(chat)?\b",
    r"[0-9]{5,}", r"photo.{0,40}share", r"\d{3}\s?\d{3}\s?\d{4}", r"screen\s?shots?", r"insta(gram)?\s?story",
    r"whats\s?app", r"tik\s?tok", r"(send|share|post)\w*\s+(it|this|them)", r"@[a-z0-9_.]{3,}",
]


def median_ms(work, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rules", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()

    import django

    django.setup()
    from moderation.models import ScreeningRule
    from moderation.screening import MAX_SCREENED_CHARS, Context, screen
    from moderation.services import DEFAULT_RULES

    rules = []
    for name, kind, category, severity, spec in DEFAULT_RULES:
        field = {"detector": "detector", "words": "words", "regex": "pattern"}[kind]
        rules.append(ScreeningRule(name=name, kind=kind, category=category, severity=severity, **{field: spec}))
    n = 0
    while len(rules) < args.rules:
        pattern = PATTERNS[n % len(PATTERNS)] + ("" if n < len(PATTERNS) else f"|rule{n}")
        rules.append(ScreeningRule(name=f"regex {n}", kind="regex", category="sharing", severity=1, pattern=pattern))
        n += 1
    rules = rules[:args.rules]
    context = Context(full_names=[f"Child{i} Family{i}" for i in range(300)],
                      pictured_first_names=[f"Child{i}" for i in range(30)])
    sentence = "What a lovely sports day, thank you to all the staff! I shared a photo with my sister aaaa. "
    text = (sentence * (MAX_SCREENED_CHARS // len(sentence) + 1))[:MAX_SCREENED_CHARS - 1] + "!"
    screen(text, rules, context)  # warm up: RE2 compiles each pattern once
    floor = median_ms(lambda: screen(text, [], context), args.repeat)
    full = median_ms(lambda: screen(text, rules, context), args.repeat)
    kinds = {kind: sum(r.kind == kind for r in rules) for kind in ("detector", "words", "regex")}
    print(f"screening {len(text)} characters: no rules {floor:.2f} ms; {len(rules)} rules ({kinds}) "
          f"{full:.2f} ms (median of {args.repeat}); {len(screen(text, rules, context))} hits")


if __name__ == "__main__":
    main()
