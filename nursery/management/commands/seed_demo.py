"""Demo data: the nursery "Kids Count" with rooms, about 30 children, guardians and every role.

Idempotent: running it again changes nothing. Each app adds its own demo records in ``<app>/demo.py``
(a ``seed(demo)`` function), called in dependency order after the core records exist.
"""

import importlib
from dataclasses import dataclass, field
from datetime import date

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand
from django.db import transaction

from nursery import twofactor
from nursery.audit import acting_as
from nursery.models import Child, Guardianship, Membership, Nursery, Role, Room

DEMO_PASSWORD = "kidscount-demo"
TWO_FACTOR_DEMO_USERS = ["leader", "deputy", "dsl", "admin", "acorns_leader"]
APPS_WITH_DEMO_DATA = ["consent", "posts", "moderation", "staff_conduct", "people"]

FAMILIES = [
    # (surname, children: (first name, room, date of birth), guardians: (username, first name, relationship))
    ("Okafor", [("Amara", "Preschool", date(2022, 3, 14)), ("Tobi", "Toddlers", date(2023, 9, 2))],
     [("parent", "Grace", "mother"), ("parent_okafor_dad", "Emeka", "father")]),
    ("Hughes", [("Isla", "Preschool", date(2022, 6, 21))], [("parent2", "Sophie", "mother")]),
]
MORE_CHILDREN = [
    ("Noah", "Patel", "Preschool"), ("Olivia", "Smith", "Preschool"), ("Leo", "Jones", "Preschool"),
    ("Ava", "Williams", "Preschool"), ("Oscar", "Brown", "Preschool"), ("Mia", "Taylor", "Preschool"),
    ("Arlo", "Davies", "Preschool"), ("Freya", "Evans", "Preschool"), ("Theo", "Thomas", "Toddlers"),
    ("Lily", "Roberts", "Toddlers"), ("Finn", "Walker", "Toddlers"), ("Rosie", "Wright", "Toddlers"),
    ("Jack", "Green", "Toddlers"), ("Ivy", "Hall", "Toddlers"), ("Alfie", "Wood", "Toddlers"),
    ("Poppy", "Clarke", "Toddlers"), ("Harry", "Khan", "Babies"), ("Ella", "Lewis", "Babies"),
    ("George", "Young", "Babies"), ("Evie", "King", "Babies"), ("Max", "Scott", "Babies"),
    ("Daisy", "Baker", "Babies"), ("Ezra", "Adams", "Babies"), ("Maya", "Ali", "Babies"),
    ("Sam", "Mitchell", "Preschool"), ("Zara", "Turner", "Toddlers"), ("Reuben", "Cooper", "Babies"),
]
ROOM_BIRTH_YEAR = {"Babies": 2025, "Toddlers": 2024, "Preschool": 2022}
STAFF_USERS = [
    # username, first, last, roles
    ("leader", "Helen", "Marsh", [Role.LEADERSHIP]),
    ("deputy", "Daniel", "Reid", [Role.LEADERSHIP]),
    ("dsl", "Priya", "Shah", [Role.SAFEGUARDING_LEAD]),
    ("staff", "Chloe", "Bennett", [Role.STAFF]),
    ("staff2", "Tom", "Fletcher", [Role.STAFF]),
]


@dataclass
class Demo:
    """What the app seeders receive: the records they may hang their own demo data on."""

    nursery: Nursery
    other_nursery: Nursery
    users: dict = field(default_factory=dict)
    children: list = field(default_factory=list)
    rooms: dict = field(default_factory=dict)
    stdout: object = None


class Command(BaseCommand):
    help = "Create (or top up) the Kids Count demo nursery, its users and a second nursery."

    def handle(self, *args, **options):
        password = make_password(DEMO_PASSWORD)  # hashed once: hashing 40 users one by one takes minutes
        with transaction.atomic(), acting_as(None, "Demo data"):
            demo = self.seed_core(password)
            for app in APPS_WITH_DEMO_DATA:
                try:
                    module = importlib.import_module(f"{app}.demo")
                except ModuleNotFoundError as exc:
                    if exc.name != f"{app}.demo":
                        raise
                    continue
                module.seed(demo)
            enrolled = twofactor.enrol_demo(demo.users[name] for name in TWO_FACTOR_DEMO_USERS)
        self.stdout.write(self.style.SUCCESS("Demo data ready. Every demo login uses the password " + DEMO_PASSWORD))
        for username in ["leader", "deputy", "dsl", "staff", "parent", "parent2", "admin", "acorns_leader"]:
            self.stdout.write(f"  {username}" + ("  (then a two-factor code)" if username in enrolled else ""))
        self.stdout.write(
            "Two-factor sign-in: " + ", ".join(enrolled) + " share the demo authenticator key "
            f"{twofactor.DEMO_TOTP_SECRET} (add it to any authenticator app), or run "
            "`python manage.py demo_code` for the current code."
        )

    def user(self, password, username, first, last, *, email_domain="kidscount.example", **extra):
        User = get_user_model()
        user, _ = User.objects.get_or_create(
            username=username,
            defaults={"first_name": first, "last_name": last, "email": f"{username}@{email_domain}",
                      "password": password, **extra},
        )
        return user

    def seed_core(self, password) -> Demo:
        admin = self.user(password, "admin", "Ada", "Admin", is_staff=True, is_superuser=True)
        nursery, _ = Nursery.objects.get_or_create(
            name="Kids Count",
            defaults={"address": "12 Orchard Lane, Leeds LS6 2AB", "contact_email": "office@kidscount.example"},
        )
        other, _ = Nursery.objects.get_or_create(
            name="Little Acorns", defaults={"address": "3 Mill Road, York YO1 7AA",
                                            "contact_email": "hello@littleacorns.example"},
        )
        demo = Demo(nursery=nursery, other_nursery=other, stdout=self.stdout)
        demo.users["admin"] = admin
        for username, first, last, roles in STAFF_USERS:
            user = self.user(password, username, first, last)
            demo.users[username] = user
            for role in roles:
                Membership.objects.get_or_create(user=user, nursery=nursery, role=role)
        if nursery.manager_id is None:
            nursery.manager = demo.users["leader"]
            nursery.whistleblowing_officer = demo.users["deputy"]
            nursery.save()

        demo.rooms = {name: Room.objects.get_or_create(nursery=nursery, name=name)[0]
                      for name in ("Babies", "Toddlers", "Preschool")}
        joined = date(2025, 9, 1)
        for surname, kids, guardians in FAMILIES:
            children = [self.child(nursery, demo.rooms[room], first, surname, born, joined)
                        for first, room, born in kids]
            for username, first, relationship in guardians:
                user = self.user(password, username, first, surname)
                demo.users[username] = user
                Membership.objects.get_or_create(user=user, nursery=nursery, role=Role.PARENT)
                for child in children:
                    Guardianship.objects.get_or_create(
                        user=user, child=child,
                        defaults={"relationship": relationship, "has_parental_responsibility": True},
                    )
            demo.children.extend(children)
        for index, (first, surname, room) in enumerate(MORE_CHILDREN):
            born = date(ROOM_BIRTH_YEAR[room], 1 + index % 12, 1 + index % 27)
            child = self.child(nursery, demo.rooms[room], first, surname, born, joined)
            guardian = self.user(password, f"guardian_{surname.lower()}", f"Parent of {first}", surname)
            Membership.objects.get_or_create(user=guardian, nursery=nursery, role=Role.PARENT)
            Guardianship.objects.get_or_create(
                user=guardian, child=child, defaults={"relationship": "parent", "has_parental_responsibility": True}
            )
            demo.children.append(child)

        # A second nursery, to show that nurseries never see each other's records.
        acorns_leader = self.user(password, "acorns_leader", "Ruth", "Oakley", email_domain="littleacorns.example")
        acorns_parent = self.user(password, "acorns_parent", "Ben", "Ash", email_domain="littleacorns.example")
        demo.users.update(acorns_leader=acorns_leader, acorns_parent=acorns_parent)
        Membership.objects.get_or_create(user=acorns_leader, nursery=other, role=Role.LEADERSHIP)
        Membership.objects.get_or_create(user=acorns_parent, nursery=other, role=Role.PARENT)
        if other.manager_id is None:
            other.manager = acorns_leader
            other.save()
        room = Room.objects.get_or_create(nursery=other, name="Acorns")[0]
        acorn_child = self.child(other, room, "Willow", "Ash", date(2023, 4, 4), joined)
        Guardianship.objects.get_or_create(
            user=acorns_parent, child=acorn_child, defaults={"relationship": "father"}
        )
        return demo

    def child(self, nursery, room, first, last, born, joined) -> Child:
        return Child.objects.get_or_create(
            nursery=nursery, first_name=first, last_name=last,
            defaults={"room": room, "date_of_birth": born, "joined_on": joined},
        )[0]
