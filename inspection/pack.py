"""What goes into an inspection pack, read in a fixed number of queries, and how it is written out.

``collect`` gathers every table of the pack for one nursery and period; ``write_zip`` renders the PDF from
``templates/inspection/pack/`` (xhtml2pdf: pure Python, nothing to install beside pip) and writes each table
again as CSV beside it. The PDF and the CSV files are made from the same ``Table`` objects, so they always
agree. The long sections (each child's ledger, each post with the children pictured) are set as compact
paragraphs in the PDF, not table rows: xhtml2pdf lays out paragraphs several times faster than table cells,
which is what keeps a 2,000-child pack under a minute.
"""

import io
import statistics
import zipfile
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count
from django.template.loader import render_to_string
from django.utils import timezone

from consent.models import ConsentDecision, ConsentWording, Decision, Scope
from consent.queries import STATE_LABELS, consent_state_at
from inspection.audit import Period
from moderation.models import Comment, Escalation, ModerationItem, Priority, RuleHit
from moderation.models import ItemStatus as ModerationStatus
from nursery.exports import csv_lines
from nursery.models import Child, Guardianship, Membership, Nursery
from posts.models import Platform, PostImage, Publication, Takedown
from staff_conduct.models import (
    AUDIENCE,
    Acknowledgement,
    Incident,
    Outcome,
    PolicyClause,
    PolicyKind,
    PolicyVersion,
    Status,
)

SCOPES = (Scope.CLOSED, Scope.PUBLIC)
SCOPE_LABELS = dict(Scope.choices)


@dataclass
class Table:
    """One table of the pack: a section of the PDF and a CSV file of the same rows."""

    name: str
    title: str
    header: list[str]
    rows: list[list] = field(default_factory=list)

    @property
    def filename(self) -> str:
        return f"{self.name}.csv"


@dataclass
class ChildEntry:
    child: Child
    room: str
    states: dict[str, str]
    ledger: list[ConsentDecision]


@dataclass
class PostEntry:
    """One publication, set as a paragraph in the PDF (the CSV has a row per child pictured)."""

    published: str
    post: str
    channel: str
    scope: str
    occasion: str
    approved_by: str
    published_by: str
    consent: list[tuple[str, str]]


@dataclass
class PackContents:
    nursery: Nursery
    period: Period
    generated_at: datetime
    moment: datetime  # consent states are as at this moment: the end of the period, or now if sooner
    summary: Table
    register: Table
    children: list[ChildEntry]
    ledger: Table
    posts: Table
    post_entries: list[PostEntry]
    withdrawals: Table
    moderation_platforms: Table
    moderation_categories: Table
    moderation_review: Table
    moderation_escalations: Table
    incidents_status: Table
    incidents_outcome: Table
    acknowledgements: Table
    wordings: list[ConsentWording]
    policies: list[PolicyVersion]

    @property
    def tables(self) -> list[Table]:
        return [self.summary, self.register, self.ledger, self.posts, self.withdrawals, self.moderation_platforms,
                self.moderation_categories, self.moderation_review, self.moderation_escalations,
                self.incidents_status, self.incidents_outcome, self.acknowledgements]


def local(moment: datetime | None) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}" if moment else ""


def _name(user) -> str:
    return (user.get_full_name() or user.username) if user else ""


def _percent(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else "n/a"


def _duration(delta: timedelta | None) -> str:
    if delta is None:
        return ""
    minutes = int(delta.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


def percentile(values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile (the value at or below which ``fraction`` of the values lie)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * fraction // 1))
    return ordered[int(rank) - 1]


def collect(nursery: Nursery, period: Period, *, now: datetime | None = None,
            progress: Callable[[int, str], None] = lambda percent, step: None) -> PackContents:
    now = now or timezone.now()
    start, end = period.start_at, period.end_at
    moment = min(end, now)
    in_period = {"__gte": start, "__lt": end}

    def during(name: str) -> dict:
        return {f"{name}{k}": v for k, v in in_period.items()}

    progress(5, "Reading the consent ledger")
    children = {c.pk: c for c in Child.objects.filter(nursery=nursery).select_related("room", "nursery")}
    responsible: dict[int, set[int]] = defaultdict(set)
    for child_id, user_id in Guardianship.objects.filter(
        child__nursery=nursery, has_parental_responsibility=True
    ).values_list("child_id", "user_id"):
        responsible[child_id].add(user_id)
    wordings = list(ConsentWording.objects.filter(nursery=nursery).order_by("scope", "version"))
    wordings_by_scope = {s: [w for w in wordings if w.scope == s] for s in SCOPES}
    version_of = {w.pk: w.version for w in wordings}
    ledger_by: dict[tuple[int, str], list[ConsentDecision]] = defaultdict(list)
    decisions = list(
        ConsentDecision.objects.filter(nursery=nursery)
        .select_related("guardian", "recorded_by")
        .only("child_id", "scope", "decision", "guardian", "signature", "wording_id", "decided_at", "recorded_at",
              "method", "recorded_by", "guardian__username", "guardian__first_name", "guardian__last_name",
              "recorded_by__username", "recorded_by__first_name", "recorded_by__last_name")
        .order_by("decided_at", "pk")
    )
    for d in decisions:
        d.wording_version = version_of.get(d.wording_id, "?")
        ledger_by[(d.child_id, d.scope)].append(d)

    def state_at(child: Child, scope: str, when: datetime):
        return consent_state_at(child, scope, ledger_by[(child.pk, scope)], wordings_by_scope[scope],
                                responsible[child.pk], when)

    progress(20, "Reading the posts published in the period")
    publications = list(
        Publication.objects.filter(post__nursery=nursery, **during("published_at"))
        .select_related("post", "channel", "post__occasion", "post__approved_by", "published_by")
        .order_by("published_at", "pk")
    )
    pictured: dict[int, set[int]] = defaultdict(set)
    for post_id, child_id in PostImage.children.through.objects.filter(
        postimage__post_id__in={p.post_id for p in publications}
    ).values_list("postimage__post_id", "child_id"):
        pictured[post_id].add(child_id)

    # Children: everyone on roll at the end of the period, and everyone pictured in a post published in it.
    last_day = period.end
    shown_ids = {c.pk for c in children.values() if c.is_on_roll(last_day)}
    shown_ids |= {child_id for ids in pictured.values() for child_id in ids}
    shown = sorted((children[i] for i in shown_ids if i in children),
                   key=lambda c: ((c.room.name if c.room else "~"), c.first_name, c.last_name, c.pk))

    progress(30, "Working out consent states")
    entries, ledger_rows = [], []
    for child in shown:
        states = {s: state_at(child, s, moment) for s in SCOPES}
        ledger = sorted(ledger_by[(child.pk, Scope.CLOSED)] + ledger_by[(child.pk, Scope.PUBLIC)],
                        key=lambda d: (d.decided_at, d.pk))
        room = child.room.name if child.room else "No room"
        entries.append(ChildEntry(child, room, {s: st.label for s, st in states.items()}, ledger))
        for d in ledger:
            ledger_rows.append([child.full_name, room, SCOPE_LABELS[d.scope], d.get_decision_display(),
                                f"v{d.wording_version}", local(d.decided_at), local(d.recorded_at),
                                _name(d.guardian), d.signature, d.get_method_display(), _name(d.recorded_by)])

    on_roll = [c for c in shown if c.is_on_roll(last_day)]
    by_room: dict[str, list] = defaultdict(list)
    for entry in entries:
        if entry.child.is_on_roll(last_day):
            by_room[entry.room].append(entry)
    register = Table("consent-register", "Consent register by room",
                     ["Room", "Children on roll", "Private pages: consent", "Private pages: coverage",
                      "Public pages: consent", "Public pages: coverage"])
    granted_labels = {STATE_LABELS["granted"], STATE_LABELS["renewal_due"]}
    totals = Counter()
    for room, room_entries in sorted(by_room.items()):
        counts = {s: sum(e.states[s] in granted_labels for e in room_entries) for s in SCOPES}
        totals.update({"children": len(room_entries), **counts})
        register.rows.append([room, len(room_entries), counts[Scope.CLOSED],
                              _percent(counts[Scope.CLOSED], len(room_entries)), counts[Scope.PUBLIC],
                              _percent(counts[Scope.PUBLIC], len(room_entries))])
    register.rows.append(["All rooms", totals["children"], totals[Scope.CLOSED],
                          _percent(totals[Scope.CLOSED], totals["children"]), totals[Scope.PUBLIC],
                          _percent(totals[Scope.PUBLIC], totals["children"])])

    ledger = Table("consent-ledger", "Consent ledger of each child",
                   ["Child", "Room", "Scope", "Decision", "Wording", "Decided", "Recorded", "Guardian",
                    "Signature", "How", "Entered by"], ledger_rows)

    posts = Table("posts-published", "Posts published in the period, with the consent of each child pictured",
                  ["Published", "Post", "Channel", "Scope needed", "Occasion", "Approved by", "Published by",
                   "Child pictured", "Consent at publication"])
    post_entries = []
    for publication in publications:
        post, scope = publication.post, publication.channel.audience
        base = [local(publication.published_at), f"#{post.pk} {_caption(post.caption)}", publication.channel.name,
                SCOPE_LABELS[scope], str(post.occasion) if post.occasion else "", _name(post.approved_by),
                _name(publication.published_by)]
        kids = sorted((children[i] for i in pictured[post.pk] if i in children), key=lambda c: c.first_name)
        consent = [(child.full_name, state_at(child, scope, publication.published_at).label) for child in kids]
        post_entries.append(PostEntry(*base, consent))
        if not kids:
            posts.rows.append([*base, "No child pictured", ""])
        for name, label in consent:
            posts.rows.append([*base, name, label])

    progress(40, "Reading withdrawals and takedowns")
    takedowns = defaultdict(list)
    for takedown in Takedown.objects.filter(nursery=nursery, opened_at__gte=start).select_related("post").order_by(
        "opened_at", "pk"
    ):
        takedowns[(takedown.child_id, takedown.scope)].append(takedown)
    deadline_hours = nursery.takedown_deadline_hours
    withdrawals = Table("withdrawals-and-takedowns", "Withdrawals and the takedowns they caused",
                        ["Withdrawn", "Child", "Scope", "By", "Post taken down", "Takedown opened", "Deadline",
                         "Removal confirmed", "Time to removal", f"Within {deadline_hours} h deadline"])
    withdrawal_count = 0
    for (child_id, scope), rows in ledger_by.items():
        for i, d in enumerate(rows):
            if d.decision != Decision.WITHDRAWN or not (start <= d.decided_at < end):
                continue
            withdrawal_count += 1
            following = rows[i + 1].recorded_at if i + 1 < len(rows) else None
            caused = [t for t in takedowns[(child_id, scope)]
                      if t.opened_at >= d.recorded_at and (following is None or t.opened_at < following)]
            child = children[child_id]
            base = [local(d.decided_at), child.full_name, SCOPE_LABELS[scope], _name(d.guardian)]
            if not caused:
                withdrawals.rows.append([*base, "None live", "", "", "", "", ""])
            for t in caused:
                taken = (t.confirmed_at - t.opened_at) if t.confirmed_at else None
                met = ("Open, overdue" if t.deadline <= now else "Open") if not t.confirmed_at else (
                    "Yes" if t.confirmed_at <= t.deadline else "No, late")
                withdrawals.rows.append([*base, f"#{t.post_id} {_caption(t.post.caption)}", local(t.opened_at),
                                         local(t.deadline), local(t.confirmed_at), _duration(taken), met])
    withdrawals.rows.sort(key=lambda r: r[0])

    progress(50, "Reading moderation")
    platform_labels = dict(Platform.choices)
    moderation_platforms = Table("moderation-comments-by-platform", "Comments received, by platform",
                                 ["Platform", "Comments"])
    for row in (Comment.objects.filter(nursery=nursery, **during("received_at")).values("platform")
                .annotate(n=Count("pk")).order_by("platform")):
        moderation_platforms.rows.append([platform_labels.get(row["platform"], row["platform"]), row["n"]])
    moderation_categories = Table("moderation-flagged-by-category", "Items flagged, by category",
                                  ["Category", "Items flagged"])
    from moderation.models import Category

    category_labels = dict(Category.choices)
    for row in (RuleHit.objects.filter(item__nursery=nursery, **during("item__opened_at")).values("category")
                .annotate(n=Count("item", distinct=True)).order_by("category")):
        moderation_categories.rows.append([category_labels.get(row["category"], row["category"]), row["n"]])
    waits: dict[int, list[float]] = defaultdict(list)
    open_items = Counter()
    for priority, status, opened_at, resolved_at in ModerationItem.objects.filter(
        nursery=nursery, **during("opened_at")
    ).values_list("priority", "status", "opened_at", "resolved_at"):
        if status == ModerationStatus.RESOLVED and resolved_at:
            waits[priority].append((resolved_at - opened_at).total_seconds() / 60)
        else:
            open_items[priority] += 1
    targets = {Priority.CONCERN: nursery.moderation_target_high_minutes,
               Priority.HIGH: nursery.moderation_target_high_minutes,
               Priority.MEDIUM: nursery.moderation_target_medium_minutes}
    moderation_review = Table("moderation-time-to-review", "Time to review, per priority, against the targets",
                              ["Priority", "Reviewed", "Median", "95th percentile", "Target",
                               "Reviewed within target", "Still open"])
    for priority in sorted(Priority, reverse=True):
        values = waits[priority]
        target = targets.get(priority, nursery.moderation_target_low_minutes)
        median = statistics.median(values) if values else None
        p95 = percentile(values, 0.95)
        moderation_review.rows.append([
            priority.label, len(values), _duration(timedelta(minutes=median)) if median is not None else "",
            _duration(timedelta(minutes=p95)) if p95 is not None else "", _duration(timedelta(minutes=target)),
            _percent(sum(v <= target for v in values), len(values)), open_items[priority],
        ])
    moderation_escalations = Table("moderation-escalations", "Escalations of items left waiting",
                                   ["Level", "Escalations"])
    level_labels = dict(Escalation.Level.choices)
    for row in (Escalation.objects.filter(item__nursery=nursery, **during("sent_at")).values("level")
                .annotate(n=Count("pk")).order_by("level")):
        moderation_escalations.rows.append([level_labels.get(row["level"], row["level"]), row["n"]])

    progress(55, "Reading conduct incidents and acknowledgements")
    # Counts only: no subject, reporter or witness is named anywhere in the pack.
    incidents = list(Incident.objects.filter(nursery=nursery, **during("reported_at")).only(
        "status", "outcome", "appeal_decision", "varied_outcome"))
    incidents_status = Table("incidents-by-status", "Conduct incidents reported in the period, by status",
                             ["Status", "Incidents"])
    by_status = Counter(i.status for i in incidents)
    for status in Status:
        incidents_status.rows.append([status.label, by_status[status]])
    incidents_outcome = Table("incidents-by-outcome", "Conduct incidents reported in the period, by outcome",
                              ["Outcome (after any appeal)", "Incidents"])
    by_outcome = Counter(i.final_outcome for i in incidents)
    for outcome in Outcome:
        incidents_outcome.rows.append([outcome.label, by_outcome[outcome]])
    incidents_outcome.rows.append(["No outcome yet", by_outcome[""]])

    versions = list(
        PolicyVersion.objects.filter(document__nursery=nursery, effective_on__lte=period.end)
        .select_related("document").order_by("document__kind", "-version")
    )
    audience = {kind: set(Membership.objects.filter(nursery=nursery, role__in=roles, user__is_active=True)
                          .values_list("user_id", flat=True)) for kind, roles in AUDIENCE.items()}
    acknowledged = defaultdict(set)
    for version_id, user_id in Acknowledgement.objects.filter(nursery=nursery).values_list("version_id", "user_id"):
        acknowledged[version_id].add(user_id)
    acknowledgements = Table("policy-acknowledgements", "Policy acknowledgement completion per version",
                             ["Policy", "Version", "In force from", "Acknowledged", "Of (current audience)",
                              "Completion"])
    in_force: dict[str, PolicyVersion] = {}
    for version in versions:
        in_force.setdefault(version.document.kind, version)
        people = audience[version.document.kind]
        done = len(acknowledged[version.pk] & people)
        acknowledgements.rows.append([version.document.title, version.version, f"{version.effective_on:%Y-%m-%d}",
                                      done, len(people), _percent(done, len(people))])
    policies = [in_force[k] for k in PolicyKind.values if k in in_force]
    clauses = defaultdict(list)
    for clause in PolicyClause.objects.filter(version__in=policies).order_by("number"):
        clauses[clause.version_id].append(clause)
    for version in policies:
        version.clause_list = clauses[version.pk]
    # Every wording version (the ledger names them), newest first per scope, those in force marked.
    for scope in SCOPES:
        published = [w for w in wordings_by_scope[scope] if w.published_at <= moment]
        for w in wordings_by_scope[scope]:
            w.in_force = bool(published) and w.pk == max(published, key=lambda x: x.version).pk
    all_wordings = sorted(wordings, key=lambda w: (w.scope, -w.version))

    late = sum(1 for r in withdrawals.rows if r[-1] in ("No, late", "Open, overdue"))
    summary = Table("summary", "Summary", ["Measure", "Figure"], [
        ["Children on roll at the end of the period", len(on_roll)],
        ["Consent for private parents' pages", f"{totals[Scope.CLOSED]} ({register.rows[-1][3]})"],
        ["Consent for public pages", f"{totals[Scope.PUBLIC]} ({register.rows[-1][5]})"],
        ["Posts published", len({p.post_id for p in publications})],
        ["Posts published picturing a child without consent at the time",
         sum(1 for r in posts.rows if r[-1] and r[-1] not in granted_labels)],
        ["Withdrawals of consent", withdrawal_count],
        ["Takedowns late or overdue", late],
        ["Comments received", sum(r[1] for r in moderation_platforms.rows)],
        ["Moderation items reviewed", sum(len(v) for v in waits.values())],
        ["Conduct incidents reported", len(incidents)],
    ])
    progress(60, "Laying out the PDF")
    return PackContents(
        nursery=nursery, period=period, generated_at=now, moment=moment, summary=summary, register=register,
        children=entries, ledger=ledger, posts=posts, post_entries=post_entries, withdrawals=withdrawals,
        moderation_platforms=moderation_platforms, moderation_categories=moderation_categories,
        moderation_review=moderation_review, moderation_escalations=moderation_escalations,
        incidents_status=incidents_status, incidents_outcome=incidents_outcome, acknowledgements=acknowledgements,
        wordings=all_wordings, policies=policies,
    )


def _caption(caption: str) -> str:
    text = " ".join((caption or "").split())
    return text[:60] + ("…" if len(text) > 60 else "")


def render_pdf(contents: PackContents, *, requested_by=None) -> bytes:
    from xhtml2pdf import pisa

    html = render_to_string("inspection/pack/pdf.html", {
        "pack": contents, "requested_by": _name(requested_by),
    })
    out = io.BytesIO()
    result = pisa.CreatePDF(html, dest=out, encoding="utf-8")
    if result.err:
        raise RuntimeError(f"The PDF could not be laid out ({result.err} errors).")
    return out.getvalue()


def write_zip(contents: PackContents, *, requested_by=None,
              progress: Callable[[int, str], None] = lambda percent, step: None) -> bytes:
    pdf = render_pdf(contents, requested_by=requested_by)
    progress(90, "Writing the CSV files")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("inspection-pack.pdf", pdf)
        for table in contents.tables:
            archive.writestr(f"csv/{table.filename}", "".join(csv_lines(table.header, table.rows)))
    return out.getvalue()

