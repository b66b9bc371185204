"""Demo policies (wording written for Safe Sharing, following the nursery's social media policy),
acknowledgements where most people have signed, and a few conduct incidents at different stages."""

from datetime import timedelta

from django.utils import timezone

from nursery.models import Role
from staff_conduct.models import (
    Acknowledgement,
    ConfidentialReporter,
    Incident,
    InvestigationNote,
    Outcome,
    PolicyClause,
    PolicyDocument,
    PolicyKind,
    PolicyVersion,
    Source,
    Status,
)

STAFF_TEXT = """We ask everyone who works at {nursery} to be responsible and professional on social networking sites such as Facebook, Instagram, TikTok and WhatsApp whenever what they share has any connection to the nursery, its staff, parents and carers, or the children.

All electronic communication between staff and parents or carers is professional and goes through the nursery's official channels: work email and the nursery phone. This protects staff, children and families alike.

If any of the points below are not followed, the member of staff involved will face disciplinary action, which could result in dismissal.

When you use social networking sites, we ask you to:"""

STAFF_CLAUSES = [
    "Not name the setting you work at.",
    "Not make comments about your work or post pictures of yourself in work uniform.",
    "Not send private messages to any parents or family members of the children.",
    "Direct any parent's question about work that reaches you through social networking sites to the manager.",
    "Make sure your posts reflect your professional role in the community: no inappropriate social event photos and no inappropriate comments such as foul language.",
    "Report any concerning comments or questions from parents to the manager or the safeguarding lead.",
    "Follow the staff behaviour policy.",
    "Not post anything that could be construed to affect the nursery's reputation, or that relates to the nursery or any child attending it in any way.",
    "Follow this policy together with the whistleblowing policy.",
]

PARENTS_TEXT = """{nursery} promotes the safety and welfare of all staff and children. We ask parents, carers and visitors not to post, publicly or privately, information about any child on social media sites such as Facebook, Instagram and Twitter/X, so that information and images of children do not fall into the wrong hands.

Please:"""

PARENTS_CLAUSES = [
    "Do not send friend requests to any member of nursery staff.",
    "Do not screenshot or share any posts or pictures from the nursery on social media: they may show other children.",
    "Do not post photographs supplied by the nursery that have other children in them (for example Christmas concert photographs or photographs from an activity at nursery).",
    "Share any concern about inappropriate use of social media through the official procedures: the Parents as partners policy, the complaints procedure and the grievance policy.",
]


def seed(demo) -> None:
    now = timezone.now()
    for nursery in (demo.nursery, demo.other_nursery):
        for kind, text, clauses in (
            (PolicyKind.STAFF, STAFF_TEXT, STAFF_CLAUSES),
            (PolicyKind.PARENTS, PARENTS_TEXT, PARENTS_CLAUSES),
        ):
            document, _ = PolicyDocument.objects.get_or_create(
                nursery=nursery, kind=kind, defaults={"title": PolicyKind(kind).label}
            )
            version, created = PolicyVersion.objects.get_or_create(
                document=document, version=1,
                defaults={"text": text.format(nursery=nursery.name), "published_at": now - timedelta(days=60),
                          "effective_on": (now - timedelta(days=60)).date(), "published_by": nursery.manager},
            )
            if created:
                PolicyClause.objects.bulk_create(
                    PolicyClause(version=version, number=n, text=clause) for n, clause in enumerate(clauses, 1)
                )
    _acknowledgements(demo, now)
    _incidents(demo, now)


def _acknowledgements(demo, now) -> None:
    if Acknowledgement.objects.filter(nursery=demo.nursery).exists():
        return
    versions = {v.document.kind: v for v in PolicyVersion.objects.filter(document__nursery=demo.nursery, version=1)
                .select_related("document")}
    # Staff: everyone but Chloe (the demo practitioner acknowledges for herself). Parents: most families.
    signers = [(demo.users[name], PolicyKind.STAFF) for name in ("leader", "deputy", "dsl", "staff2")]
    parents = demo.nursery.memberships.filter(role=Role.PARENT).select_related("user").order_by("user__username")
    signers += [(m.user, PolicyKind.PARENTS) for i, m in enumerate(parents)
                if m.user.username not in ("parent", "parent_okafor_dad") and i % 5 != 2]
    for index, (user, kind) in enumerate(signers):
        Acknowledgement.objects.create(
            nursery=demo.nursery, version=versions[kind], user=user, signature=user.get_full_name(),
            acknowledged_at=now - timedelta(days=55 - index % 20),
        )


def _incidents(demo, now) -> None:
    if Incident.objects.filter(nursery=demo.nursery).exists():
        return
    clauses = {c.number: c for c in PolicyClause.objects.filter(
        version__document__nursery=demo.nursery, version__document__kind=PolicyKind.STAFF, version__version=1)}
    leader, deputy, dsl, staff2 = (demo.users[n] for n in ("leader", "deputy", "dsl", "staff2"))
    investigating = Incident.objects.create(
        nursery=demo.nursery, subject=staff2, source=Source.NAMED, reported_by=dsl,
        reported_at=now - timedelta(days=9), occurred_on=(now - timedelta(days=10)).date(),
        where="Facebook, public profile",
        description="A public Facebook post from Tom's own account names Kids Count and shows him in his nursery "
                    "uniform at the Christmas fair, with a comment about 'the little terrors in Toddlers'.",
        status=Status.UNDER_INVESTIGATION, investigator=deputy, assigned_at=now - timedelta(days=8),
        investigation_due_on=(now + timedelta(days=5)).date(),
    )
    investigating.clauses.set([clauses[1], clauses[2], clauses[8]])
    InvestigationNote.objects.create(
        incident=investigating, author=deputy, written_at=now - timedelta(days=6),
        text="Screenshot kept. Tom removed the post the same day when asked. Meeting booked for Thursday.",
    )
    whistle = Incident.objects.create(
        nursery=demo.nursery, subject=staff2, source=Source.WHISTLEBLOWING,
        reported_at=now - timedelta(days=40), occurred_on=(now - timedelta(days=41)).date(),
        where="Instagram direct messages",
        description="A colleague has been sending private Instagram messages to a parent about their child's day.",
        status=Status.REPORTED,
    )
    whistle.clauses.set([clauses[3]])
    ConfidentialReporter.objects.create(incident=whistle, reporter=demo.users["staff"])
    closed = Incident.objects.create(
        nursery=demo.nursery, subject=demo.users["staff"], source=Source.ANONYMOUS,
        reported_at=now - timedelta(days=50), occurred_on=(now - timedelta(days=52)).date(),
        description="A parent's question about nap times was answered on Facebook Messenger instead of being "
                    "passed to the manager.",
        status=Status.CLOSED, investigator=leader, assigned_at=now - timedelta(days=49),
        investigation_due_on=(now - timedelta(days=40)).date(), outcome=Outcome.INFORMAL_ADVICE,
        outcome_reason="A first, minor lapse, acknowledged at once: advice given to pass parents' questions to "
                       "the manager.",
        outcome_decided_on=(now - timedelta(days=42)).date(), outcome_decided_by=leader,
        closed_at=now - timedelta(days=41), closed_by=leader,
    )
    closed.clauses.set([clauses[3], clauses[4]])
