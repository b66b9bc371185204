"""The consent gate: every child pictured needs effective consent in the scope of every channel, and
every face the detector found must be accounted for (a tagged child, an adult, not identifiable, not a
face), so that a child nobody tagged cannot slip past the consent check.

Submitting only warns (the author can still fix it while it waits); approving and publishing are
refused. Publishing asks with ``lock=True`` inside its own transaction: ``withdraw_consent`` locks the
same child rows, so a withdrawal committed a moment earlier is always seen.
"""

from dataclasses import dataclass
from datetime import datetime

from consent.models import Scope
from consent.queries import ConsentState, consent_states
from nursery.models import Child
from posts.models import Channel, FaceSearch, Post, PostImage

SCOPE_WORDS = {Scope.CLOSED: "closed (parents' pages)", Scope.PUBLIC: "public"}


@dataclass(frozen=True)
class ConsentProblem:
    child: Child
    scope: str
    state: ConsentState
    channels: tuple[Channel, ...]

    @property
    def message(self) -> str:
        child, names = self.child, ", ".join(c.name for c in self.channels)
        return (
            f"{child.full_name} has no {SCOPE_WORDS[self.scope]} photo consent ({self.state.label.lower()}), "
            f"which {names} needs. Remove {child.first_name}'s photo, choose only channels that "
            f"{child.first_name}'s consent covers, or ask {child.first_name}'s parent or carer for consent."
        )


def pictured_children(post: Post) -> list[Child]:
    """Every child tagged in any image of the post, once each, by name."""
    return list(Child.objects.filter(pictured_in__post=post).distinct().order_by("first_name", "last_name", "pk"))


def consent_problems(post: Post, *, now: datetime | None = None, lock: bool = False) -> list[ConsentProblem]:
    children = pictured_children(post)
    channels = list(post.channels.all())
    if not children or not channels:
        return []
    by_scope: dict[str, list[Channel]] = {}
    for channel in sorted(channels, key=lambda c: c.name):
        by_scope.setdefault(channel.audience, []).append(channel)
    states = consent_states([c.pk for c in children], list(by_scope), now=now, lock=lock)
    return [
        ConsentProblem(child, scope, states[(child.pk, scope)], tuple(by_scope[scope]))
        for child in children
        for scope in sorted(by_scope)
        if not states[(child.pk, scope)].effective
    ]


def refusal(action: str, problems: list[ConsentProblem]) -> str:
    return f"This post cannot be {action} yet. " + " ".join(p.message for p in problems)


def face_problems(post: Post) -> list[str]:
    """What stops a post while faces are not accounted for: one message per photo.

    A photo whose faces are still being counted waits (it takes seconds); one whose detection failed, or
    that was added before faces were counted, is checked by its tags and confirmation alone, as before.
    """
    problems = []
    images = PostImage.objects.filter(post=post).prefetch_related("faces").order_by("position", "pk")
    for number, image in enumerate(images, start=1):
        if image.face_search == FaceSearch.PENDING:
            problems.append(f"Photo {number}: its faces are still being counted; try again in a moment.")
            continue
        open_faces = [face.number for face in image.faces.all() if not face.accounted_for]
        if open_faces:
            which = _numbers(open_faces)
            problems.append(
                f"Photo {number}: {which} not accounted for. On the edit page, link each face to a tagged "
                "child, or mark it as an adult, not identifiable or not a face."
            )
    return problems


def _numbers(numbers: list[int]) -> str:
    if len(numbers) == 1:
        return f"face {numbers[0]} is"
    return "faces " + ", ".join(str(n) for n in numbers[:-1]) + f" and {numbers[-1]} are"
