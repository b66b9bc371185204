"""The consent gate: every child pictured needs effective consent in the scope of every channel, and
every face the detector found must be accounted for (a tagged child, an adult, not identifiable, not a
face), so that a child nobody tagged cannot slip past the consent check.

A child without consent in a scope does not stop the post there when their face is blurred in that scope's
copy (posts/blur.py): every photo they are tagged in has a detected face linked to them, and each such face
is blurred, by hand or because the post blurs children without consent. A child tagged in a photo where no
face is linked to them (back to camera, face not found) still stops it: the tag says they can be identified
there, and there is no face to blur.

Submitting only warns (the author can still fix it while it waits); approving and publishing are
refused. Publishing asks with ``lock=True`` inside its own transaction: ``withdraw_consent`` locks the
same child rows, so a withdrawal committed a moment earlier is always seen.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Exists, OuterRef

from consent.models import Scope
from consent.queries import ConsentState, consent_states
from nursery.models import Child
from posts.models import Channel, DetectedFace, FaceSearch, Post, PostImage

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


def _pictured_with_faces(post: Post) -> list[Child]:
    """``pictured_children`` in the same one query, each told ``unseen`` (tagged in a photo where no face is
    linked to them) and ``unblurred`` (a face linked to them is not blurred by hand)."""
    tagged = PostImage.children.through.objects.filter(postimage__post=post, child=OuterRef("pk"))
    face_in_that_photo = DetectedFace.objects.filter(image=OuterRef("postimage"), child=OuterRef("child"))
    return list(
        Child.objects.filter(pictured_in__post=post).distinct()
        .annotate(
            unseen=Exists(tagged.filter(~Exists(face_in_that_photo))),
            unblurred=Exists(DetectedFace.objects.filter(image__post=post, child=OuterRef("pk"), blur=False)),
        )
        .order_by("first_name", "last_name", "pk")
    )


def _blurred(post: Post, child: Child) -> bool:
    """Whether every face of ``child`` is blurred in the copy for a scope where they lack consent."""
    return not child.unseen and (post.blur_unconsented or not child.unblurred)


def consent_problems(post: Post, *, now: datetime | None = None, lock: bool = False,
                     scopes: Iterable[str] | None = None) -> list[ConsentProblem]:
    """Each child pictured without consent in the scope of a channel (of ``scopes`` only, if given), unless
    their face is blurred in that scope's copy."""
    children = _pictured_with_faces(post)
    # Asked for given scopes (a channel's worker), those are checked whatever the post's channels are now.
    by_scope: dict[str, list[Channel]] = {scope: [] for scope in scopes or ()}
    for channel in sorted(post.channels.all(), key=lambda c: c.name):
        if scopes is None or channel.audience in by_scope:
            by_scope.setdefault(channel.audience, []).append(channel)
    if not children or not by_scope:
        return []
    states = consent_states([c.pk for c in children], list(by_scope), now=now, lock=lock)
    return [
        ConsentProblem(child, scope, states[(child.pk, scope)], tuple(by_scope[scope]))
        for child in children
        for scope in sorted(by_scope)
        if not states[(child.pk, scope)].effective and not _blurred(post, child)
    ]


def blurred_children(post: Post, *, now: datetime | None = None) -> dict[str, set[int]]:
    """Per scope of the post's channels, the children pictured who are blurred in that scope's copy: hidden by
    hand, or lacking consent there on a post that blurs them. What a publication records, so that a later
    withdrawal does not ask to take down a copy in which the child could not be seen."""
    children = [c for c in _pictured_with_faces(post) if _blurred(post, c)]
    scopes = {c.audience for c in post.channels.all()}
    if not children or not scopes:
        return {scope: set() for scope in scopes}
    states = consent_states([c.pk for c in children], scopes, now=now)
    return {
        scope: {c.pk for c in children if not c.unblurred or not states[(c.pk, scope)].effective}
        for scope in scopes
    }


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
