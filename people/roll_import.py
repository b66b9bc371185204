"""Importing the roll: a plan of what a file would change (the preview), then writing that plan in bulk.

A child is matched by first name, last name and date of birth within the nursery (case-insensitive); a
guardian by email (one account per email, whatever the nursery). Importing the same file again changes
nothing. The plan reads the nursery's records in a handful of queries and writes in bulk with history, so
10,000 rows take seconds (bench/import_roll.py).
"""

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db.models.functions import Lower
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from nursery.models import Child, Guardianship, Membership, Nursery, Role, Room
from people.roll import Row, RowError


@dataclass
class RowPlan:
    row: Row
    what: str  # "add", "change" or "unchanged"
    notes: list[str] = field(default_factory=list)


@dataclass
class Plan:
    nursery: Nursery
    rows: list[RowPlan] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    rooms_to_add: list[str] = field(default_factory=list)
    new_children: dict = field(default_factory=dict)  # child key -> first Row
    changed_children: dict = field(default_factory=dict)  # child id -> (Child, {field: value})
    new_guardians: dict = field(default_factory=dict)  # email -> first Row
    new_links: list[Row] = field(default_factory=list)
    changed_links: dict = field(default_factory=dict)  # guardianship id -> (Guardianship, {field: value})

    def of(self, what: str) -> list[RowPlan]:
        return [r for r in self.rows if r.what == what]

    @property
    def counts(self) -> dict[str, int]:
        return {"add": len(self.of("add")), "change": len(self.of("change")),
                "unchanged": len(self.of("unchanged")), "errors": len(self.errors)}


def plan_roll(nursery: Nursery, rows: list[Row], errors: list[RowError]) -> Plan:
    plan = Plan(nursery=nursery, errors=list(errors))
    rooms = {r.name.lower(): r for r in Room.objects.filter(nursery=nursery)}
    children = {
        (c.first_name.lower(), c.last_name.lower(), c.date_of_birth): c
        for c in Child.objects.filter(nursery=nursery).select_related("room")
    }
    emails = {row.guardian_email for row in rows}
    users = {
        u.email_lower: u for u in get_user_model().objects.annotate(email_lower=Lower("email"))
        .filter(email_lower__in=emails)
    }
    # Every guardianship of the nursery, not "of these users": a 10,000-id IN list is slow to plan.
    links = {(g.child_id, g.user_id): g for g in Guardianship.objects.filter(child__nursery=nursery)}
    seen_child: dict = {}
    seen_pair: dict = {}
    new_rooms: set[str] = set()
    for row in sorted(rows, key=lambda r: r.line):
        room_key = row.room.lower()
        room = rooms.get(room_key) if row.room else None
        if room is not None and room.archived_at:
            plan.errors.append(RowError(row.line, f"the room {room.name} is archived"))
            continue
        first = seen_child.get(row.child_key)
        if first is not None and (first.room.lower() != room_key or first.joined_on != row.joined_on):
            plan.errors.append(RowError(row.line, f"the room or joining date differs from line {first.line}"))
            continue
        pair = (row.child_key, row.guardian_email)
        if pair in seen_pair:
            plan.errors.append(RowError(row.line, f"repeats line {seen_pair[pair]}"))
            continue
        seen_pair[pair] = row.line
        seen_child.setdefault(row.child_key, row)
        notes, what = [], "unchanged"
        if row.room and room is None and room_key not in new_rooms:
            new_rooms.add(room_key)
            plan.rooms_to_add.append(row.room)
            notes.append(f"new room {row.room}")
        child = children.get(row.child_key)
        if child is None:
            what = "add"
            if row.child_key not in plan.new_children:
                plan.new_children[row.child_key] = row
                notes.append("new child")
        elif first is None:
            changes = {}
            if (child.room.name.lower() if child.room else "") != room_key:
                changes["room"] = row.room
                notes.append(f"moves to {row.room or 'no room'}")
            if child.joined_on != row.joined_on:
                changes["joined_on"] = row.joined_on
                notes.append(f"joined on {row.joined_on:%-d %b %Y}")
            if changes:
                plan.changed_children[child.pk] = (child, changes)
                what = "change"
        elif child.pk in plan.changed_children:
            what = "change"
        user = users.get(row.guardian_email)
        link = links.get((child.pk, user.pk)) if child is not None and user is not None else None
        if user is None and row.guardian_email not in plan.new_guardians:
            plan.new_guardians[row.guardian_email] = row
            notes.append(f"new parent or carer {row.guardian_email}")
        if link is None:
            plan.new_links.append(row)
            what = "add"
        else:
            changes = {}
            if link.relationship != row.relationship:
                changes["relationship"] = row.relationship
            if link.has_parental_responsibility != row.parental_responsibility:
                changes["has_parental_responsibility"] = row.parental_responsibility
                notes.append("parental responsibility " + ("recorded" if row.parental_responsibility else "removed"))
            if changes:
                plan.changed_links[link.pk] = (link, changes)
                what = "add" if what == "add" else "change"
        plan.rows.append(RowPlan(row, what, notes))
    plan.errors.sort(key=lambda e: e.line)
    return plan


def _username(email: str, taken: set[str]) -> str:
    username, n = email[:150], 1
    while username.lower() in taken:
        n += 1
        username = f"{email[:140]}-{n}"
    taken.add(username.lower())
    return username


def apply_plan(plan: Plan, *, user, reason: str) -> dict[str, list]:
    """Write the plan (inside the caller's transaction and ``acting_as``). Returns the new guardians' users."""
    nursery = plan.nursery
    User = get_user_model()
    created_rooms = bulk_create_with_history(
        [Room(nursery=nursery, name=name) for name in plan.rooms_to_add], Room,
        default_user=user, default_change_reason=reason,
    )
    rooms = {r.name.lower(): r for r in Room.objects.filter(nursery=nursery)}
    bulk_create_with_history([
        Child(nursery=nursery, room=rooms.get(row.room.lower()), first_name=row.first_name, last_name=row.last_name,
              date_of_birth=row.date_of_birth, joined_on=row.joined_on)
        for row in plan.new_children.values()
    ], Child, batch_size=1000, default_user=user, default_change_reason=reason)
    changed = []
    for child, changes in plan.changed_children.values():
        if "room" in changes:
            child.room = rooms.get(changes["room"].lower()) if changes["room"] else None
        child.joined_on = changes.get("joined_on", child.joined_on)
        changed.append(child)
    bulk_update_with_history(changed, Child, ["room", "joined_on"], batch_size=1000, default_user=user,
                             default_change_reason=reason)
    taken = {
        name.lower() for name in User.objects.filter(
            username__in=[e[:150] for e in plan.new_guardians]).values_list("username", flat=True)
    }
    unusable = make_password(None)
    new_users = User.objects.bulk_create([
        User(username=_username(email, taken), email=email, password=unusable,
             first_name=row.guardian_name.split(" ", 1)[0][:150],
             last_name=(row.guardian_name.split(" ", 1)[1:] or [""])[0][:150])
        for email, row in plan.new_guardians.items()
    ], batch_size=1000)
    children = {
        (c.first_name.lower(), c.last_name.lower(), c.date_of_birth): c.pk
        for c in Child.objects.filter(nursery=nursery).only("pk", "first_name", "last_name", "date_of_birth")
    }
    users = {
        u.email_lower: u.pk for u in User.objects.annotate(email_lower=Lower("email"))
        .filter(email_lower__in={row.guardian_email for row in plan.new_links}).only("pk", "email")
    }
    bulk_create_with_history([
        Guardianship(child_id=children[row.child_key], user_id=users[row.guardian_email],
                     relationship=row.relationship, has_parental_responsibility=row.parental_responsibility)
        for row in plan.new_links
    ], Guardianship, batch_size=1000, default_user=user, default_change_reason=reason)
    links = []
    for link, changes in plan.changed_links.values():
        for name, value in changes.items():
            setattr(link, name, value)
        links.append(link)
    bulk_update_with_history(links, Guardianship, ["relationship", "has_parental_responsibility"], batch_size=1000,
                             default_user=user, default_change_reason=reason)
    parents = set(users.values()) | {
        u.pk for u in User.objects.annotate(email_lower=Lower("email"))
        .filter(email_lower__in={r.row.guardian_email for r in plan.rows}).only("pk")
    }
    members = set(Membership.objects.filter(nursery=nursery, role=Role.PARENT, user__in=parents)
                  .values_list("user_id", flat=True))
    bulk_create_with_history([
        Membership(user_id=pk, nursery=nursery, role=Role.PARENT) for pk in sorted(parents - members)
    ], Membership, batch_size=1000, default_user=user, default_change_reason=reason)
    return {"rooms": created_rooms, "new_users": new_users,
            "responsibility_removed": [link for link in links if not link.has_parental_responsibility
                                       and "has_parental_responsibility" in plan.changed_links[link.pk][1]]}
