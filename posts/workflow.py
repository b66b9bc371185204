"""The post approval workflow, declared once.

Every service in ``posts/services.py`` asks ``move()`` before it changes a post's status: the table
below says from which statuses an action is allowed, where it leads and who may take it. Anything
else is refused with one clear message. Pages ask ``actions_for()`` which buttons to show.

As in Wagtail's moderation workflow, an approval pins one exact version of the post
(``Post.approved_version``): editing an approved post sends it back to "waiting for approval".
"""

from dataclasses import dataclass

from nursery.errors import ServiceError
from nursery.permissions import is_leader, is_staff_member
from posts.models import Post, PostEvent, PostStatus

S = PostStatus
Action = PostEvent.Action


class Who:
    AUTHOR = "author"  # the member of staff who wrote the post
    EDITOR = "editor"  # the author, or any leader
    LEADERSHIP = "leadership"
    SYSTEM = "system"  # consent withdrawal, scheduled publication: never a button


@dataclass(frozen=True)
class Transition:
    action: str
    verb: str  # "approve": fits "You cannot approve this post"
    moves: dict[str, str]  # from status -> to status
    who: str


def _to(target: str, *sources: str) -> dict[str, str]:
    return dict.fromkeys(sources, target)


UNPUBLISHED = (S.DRAFT, S.SUBMITTED, S.CHANGES_REQUESTED, S.APPROVED)

TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in [
        # Editing keeps the status, except that an approval does not survive a change.
        Transition(Action.EDITED, "edit", {**{s: s for s in UNPUBLISHED}, S.APPROVED: S.SUBMITTED}, Who.EDITOR),
        Transition(Action.SUBMITTED, "submit", _to(S.SUBMITTED, S.DRAFT, S.CHANGES_REQUESTED), Who.AUTHOR),
        Transition(Action.WITHDRAWN, "withdraw", _to(S.DRAFT, S.SUBMITTED, S.APPROVED), Who.AUTHOR),
        Transition(Action.APPROVED, "approve", _to(S.APPROVED, S.SUBMITTED), Who.LEADERSHIP),
        Transition(Action.CHANGES_REQUESTED, "ask for changes to", _to(S.CHANGES_REQUESTED, S.SUBMITTED, S.APPROVED),
                   Who.LEADERSHIP),
        Transition(Action.REJECTED, "reject", _to(S.REJECTED, S.SUBMITTED, S.APPROVED), Who.LEADERSHIP),
        Transition(Action.PUBLISHED, "publish", _to(S.PUBLISHED, S.APPROVED), Who.LEADERSHIP),
        Transition(Action.TAKEN_DOWN, "take down", _to(S.TAKEN_DOWN, S.PUBLISHED), Who.LEADERSHIP),
        Transition(Action.RETURNED_TO_DRAFT, "send back to draft", _to(S.DRAFT, *UNPUBLISHED), Who.SYSTEM),
    ]
}

WHO_MAY = {
    Who.AUTHOR: "Only the post's author can {verb} it.",
    Who.EDITOR: "Only the post's author or the leadership team can {verb} it.",
    Who.LEADERSHIP: "Only the leadership team can {verb} posts.",
    Who.SYSTEM: "Nobody can {verb} a post by hand.",
}


def may_act(user, post: Post, who: str) -> bool:
    if who == Who.SYSTEM:
        return user is None
    if user is None or not is_staff_member(user, post.nursery_id):
        return False
    if who == Who.AUTHOR:
        return post.author_id == user.pk
    if who == Who.EDITOR:
        return post.author_id == user.pk or is_leader(user, post.nursery_id)
    return is_leader(user, post.nursery_id)


def move(user, post: Post, action: str) -> str:
    """The status ``action`` leads to from where ``post`` is now, or ServiceError saying why not."""
    transition = TRANSITIONS[action]
    if not may_act(user, post, transition.who):
        raise ServiceError(WHO_MAY[transition.who].format(verb=transition.verb))
    if post.status not in transition.moves:
        allowed = ", ".join(PostStatus(s).label.lower() for s in transition.moves)
        raise ServiceError(
            f"You cannot {transition.verb} this post: it is {post.get_status_display().lower()}. "
            f"Only posts that are {allowed} can be."
        )
    return transition.moves[post.status]


def actions_for(user, post: Post) -> set[str]:
    """The actions ``user`` may take on ``post`` now (further rules, such as four eyes, are the services')."""
    return {
        action
        for action, t in TRANSITIONS.items()
        if t.who != Who.SYSTEM and post.status in t.moves and may_act(user, post, t.who)
    }
