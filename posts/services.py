"""Every change to a post, one function per step of the workflow.

Each service locks the post row, asks ``workflow.move()`` whether the step is allowed (status and
role), applies its own rules (four eyes, the exact version approved, the consent gate), writes the
post's history (``PostEvent``) and the audit trail (``acting_as``), and notifies people; emails go
after commit.
"""

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from consent.queries import State, consent_states
from nursery import outbox
from nursery.audit import acting_as
from nursery.errors import ServiceError
from nursery.models import Child, Nursery, Role
from nursery.permissions import is_leader, is_staff_member, users_with_role
from nursery.services import notify
from posts import workflow
from posts.captions import CaptionCheck, check_caption
from posts.faces import detect_faces_in_file
from posts.gate import (
    SCOPE_WORDS,
    blurred_children,
    consent_problems,
    face_problems,
    pictured_children,
    refusal,
)
from posts.images import process_upload
from posts.models import (
    Channel,
    DetectedFace,
    FaceMarking,
    FaceSearch,
    Occasion,
    Post,
    PostEvent,
    PostImage,
    PostStatus,
    Publication,
    Takedown,
)
from posts.publishing import publisher_for, publisher_named

Action = PostEvent.Action
S = PostStatus
MESSAGE = "posts/email/message.txt"
logger = logging.getLogger(__name__)


@dataclass
class Submission:
    post: Post
    warnings: list[str] = field(default_factory=list)


# --- helpers ---------------------------------------------------------------------------------------


def post_url(post: Post) -> str:
    return reverse("posts:detail", args=[post.pk])


def _locked(post: Post) -> Post:
    return Post.objects.select_for_update(of=("self",)).select_related("nursery", "author").get(pk=post.pk)


def _log(post: Post, action: str, from_status: str, actor, now: datetime, note: str = "") -> PostEvent:
    return PostEvent.objects.create(
        post=post, action=action, from_status=from_status, to_status=post.status, version=post.version,
        actor=actor, at=now, note=note,
    )


def _clear_approval(post: Post) -> None:
    post.approved_version = post.approved_by = post.approved_at = None


def _approval_lapses(post: Post, user, what: str) -> None:
    """An approved post changed: the approval does not survive it, and its approver is told."""
    approver = post.approved_by
    _clear_approval(post)
    _tell([approver], "An approved post was changed", post,
          f"{user.get_full_name() or user} {what}. It is waiting for approval again.")


def _leadership(nursery: Nursery, *, besides=None) -> list:
    return [u for u in users_with_role(nursery, Role.LEADERSHIP) if besides is None or u.pk != besides.pk]


def _tell(users: Iterable, subject: str, post: Post, message: str, *, url: str = "") -> None:
    notify(users, subject, MESSAGE, {"message": message, "post": post}, nursery=post.nursery,
           url=url or post_url(post))


def _required(text: str, what: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ServiceError(f"Please write {what}.")
    return text


def _when(moment: datetime) -> str:
    return date_format(timezone.localtime(moment), "j M Y, H:i")


def _check_belongs(nursery_id: int, *, channels: Iterable[Channel] = (), occasion: Occasion | None = None,
                   children: Iterable[Child] = ()) -> None:
    if any(c.nursery_id != nursery_id for c in channels):
        raise ServiceError("Choose channels of this nursery only.")
    if occasion is not None and occasion.nursery_id != nursery_id:
        raise ServiceError("Choose an occasion of this nursery.")
    if any(c.nursery_id != nursery_id for c in children):
        raise ServiceError("Only children of this nursery can be tagged.")


def _check_schedule(scheduled_for: datetime | None, now: datetime) -> None:
    if scheduled_for is not None and scheduled_for <= now:
        raise ServiceError("Choose a scheduled time in the future, or leave it empty to publish by hand.")


def readiness(post: Post) -> tuple[list[str], list[str]]:
    """What stops the post being submitted or approved, and what the author should look at again."""
    problems: list[str] = []
    channels = list(post.channels.all())
    images = list(post.images.prefetch_related("children"))
    if not channels:
        problems.append("Choose at least one channel.")
    problems += [f"{c.name} is no longer in use: choose another channel." for c in channels if not c.active]
    if not images and not post.caption.strip():
        problems.append("Write a caption or add a photo.")
    for number, image in enumerate(images, start=1):
        tagged = bool(image.children.all())
        if not image.alt_text.strip():
            problems.append(f"Photo {number} needs a description for people who cannot see it (alt text).")
        if tagged and image.no_identifiable_child:
            problems.append(
                f"Photo {number} has children tagged but is also marked as showing no identifiable child: "
                "choose one."
            )
        elif not tagged and not image.no_identifiable_child:
            problems.append(
                f"Photo {number}: tag every child who can be identified, or confirm that no child can be."
            )
    if post.occasion_id is None and any(image.children.all() for image in images):
        problems.append("Photos of children are shared only for special occasions: choose the occasion.")
    elif any(image.children.all() for image in images):
        day = timezone.localdate(post.scheduled_for) if post.scheduled_for else timezone.localdate()
        problems += occasion_problems(post, day)
    check: CaptionCheck = check_caption(post.caption, nursery=post.nursery, pictured_children=pictured_children(post))
    return problems + list(check.blocking), list(check.warnings)


def _refuse_unaccounted_faces(post: Post, action: str) -> None:
    problems = face_problems(post)
    if problems:
        raise ServiceError(f"This post cannot be {action} yet. " + " ".join(problems))


def occasion_problems(post: Post, day) -> list[str]:
    """A post picturing children goes out only within its occasion's window: not about a day long past."""
    occasion = post.occasion
    if occasion is None or occasion.covers(day):
        return []
    first, last = occasion.window()
    return [f"“{occasion.name}” was on {_day(occasion.date)}: posts picturing children about it go out between "
            f"{_day(first)} and {_day(last)}, and this one would go out on {_day(day)}. Choose the occasion the "
            f"photos are from, or ask leadership to add it."]


def _day(day) -> str:
    return date_format(day, "j M Y")


def _refuse_unless_ready(post: Post) -> list[str]:
    problems, warnings = readiness(post)
    if problems:
        raise ServiceError(" ".join(problems))
    return warnings


# --- drafting --------------------------------------------------------------------------------------


def create_draft(
    user, *, nursery: Nursery, caption: str = "", channels: Iterable[Channel] = (), occasion: Occasion | None = None,
    scheduled_for: datetime | None = None, photos: Iterable = (), now: datetime | None = None,
) -> Post:
    """A new draft, with its photos made safe first: if one is refused, nothing is stored."""
    now = now or timezone.now()
    channels = list(channels)
    if not is_staff_member(user, nursery):
        raise ServiceError("Only the nursery's staff can draft posts.")
    _check_belongs(nursery.pk, channels=channels, occasion=occasion)
    _check_schedule(scheduled_for, now)
    processed = [process_upload(upload) for upload in photos]
    with transaction.atomic(), acting_as(user, "Drafted a post"):
        post = Post.objects.create(
            nursery=nursery, author=user, edited_by=user, caption=caption.strip(), occasion=occasion,
            scheduled_for=scheduled_for,
        )
        post.channels.set(channels)
        for position, photo in enumerate(processed):
            _attach(post, photo, position=position)
        _log(post, Action.CREATED, S.DRAFT, user, now,
             f"With {len(processed)} photo{'s' if len(processed) != 1 else ''}." if processed else "")
    return post


def _attach(post: Post, processed, *, position: int, alt_text: str = "", children: Iterable[Child] = (),
            no_identifiable_child: bool = False) -> PostImage:
    image = PostImage(post=post, alt_text=alt_text.strip()[:250], no_identifiable_child=no_identifiable_child,
                      position=position)
    image.image.save(processed.image.name, processed.image, save=False)
    image.thumbnail.save(processed.thumbnail.name, processed.thumbnail, save=False)
    image.save()
    image.children.set(children)
    from posts.tasks import find_faces

    # Through the outbox: the search is recorded with the photo and runs once it has committed, even if
    # the broker is down at that moment.
    outbox.enqueue(find_faces, image.pk, key=f"find-faces-{image.pk}")
    return image


def _edit(user, post: Post, what: str, change, *, now: datetime) -> Post:
    """Apply ``change(post)`` as a new version; an approval does not survive it."""
    with transaction.atomic(), acting_as(user, f"Edited a post: {what}"):
        post = _locked(post)
        before = post.status
        post.status = workflow.move(user, post, Action.EDITED)
        change(post)
        post.version += 1
        post.edited_by = user
        note = what
        if before == S.APPROVED:
            _approval_lapses(post, user, f"changed a post you approved ({what.lower()})")
            note += ". The approval was of the earlier version, so the post waits for approval again"
        post.save()
        _log(post, Action.EDITED, before, user, now, note)
    return post


def edit_post(
    user, *, post: Post, caption: str, channels: Iterable[Channel], occasion: Occasion | None,
    scheduled_for: datetime | None, now: datetime | None = None,
) -> Post:
    now = now or timezone.now()
    channels = list(channels)
    _check_belongs(post.nursery_id, channels=channels, occasion=occasion)
    if scheduled_for != post.scheduled_for:
        _check_schedule(scheduled_for, now)
    changed = [
        label for label, differs in [
            ("caption", caption.strip() != post.caption),
            ("channels", {c.pk for c in channels} != set(post.channels.values_list("pk", flat=True))),
            ("occasion", (occasion.pk if occasion else None) != post.occasion_id),
            ("scheduled time", scheduled_for != post.scheduled_for),
        ] if differs
    ]
    if not changed:
        return post

    def change(p: Post) -> None:
        p.caption, p.occasion, p.scheduled_for = caption.strip(), occasion, scheduled_for
        p.schedule_held_at = None
        p.channels.set(channels)

    return _edit(user, post, "Changed the " + ", ".join(changed), change, now=now)


def add_images(user, *, post: Post, photos: Iterable, now: datetime | None = None) -> list[PostImage]:
    """Make each upload safe (re-encoded, metadata stripped) and attach it; the originals are not kept."""
    now = now or timezone.now()
    workflow.move(user, post, Action.EDITED)  # refuse before the work of processing the photos
    processed = [process_upload(upload) for upload in photos]
    if not processed:
        raise ServiceError("Choose at least one photo.")
    created: list[PostImage] = []

    def change(p: Post) -> None:
        start = p.images.count()
        created.extend(_attach(p, photo, position=start + i) for i, photo in enumerate(processed))

    _edit(user, post, f"Added {len(processed)} photo{'s' if len(processed) != 1 else ''}", change, now=now)
    return created


def describe_image(
    user, *, image: PostImage, alt_text: str, children: Iterable[Child], no_identifiable_child: bool,
    now: datetime | None = None,
) -> PostImage:
    """Alt text and who is pictured: what the consent gate and the approver rely on."""
    now = now or timezone.now()
    children = list(children)
    _check_belongs(image.post.nursery_id, children=children)
    if children and no_identifiable_child:
        raise ServiceError("Either tag the children pictured or confirm that no child can be identified, not both.")

    def change(p: Post) -> None:
        image.alt_text = alt_text.strip()[:250]
        image.no_identifiable_child = no_identifiable_child
        # Only these fields: the worker may have stored the face search since ``image`` was read.
        image.save(update_fields=["alt_text", "no_identifiable_child"])
        image.children.set(children)
        # A face linked to a child who is no longer tagged is unaccounted for again.
        for face in image.faces.filter(marking=FaceMarking.CHILD).exclude(child__in=children):
            face.marking, face.child = "", None
            face.save()

    _edit(user, image.post, "Changed a photo's description or the children tagged", change, now=now)
    return image


def remove_image(user, *, image: PostImage, now: datetime | None = None) -> None:
    now = now or timezone.now()
    files = [image.image.name, image.thumbnail.name]
    storage = image.image.storage

    def change(p: Post) -> None:
        image.delete()
        # A removed photo of a child should not linger on disk; only once the removal has committed.
        transaction.on_commit(lambda: [storage.delete(name) for name in files if name])

    _edit(user, image.post, "Removed a photo", change, now=now)


# --- faces -----------------------------------------------------------------------------------------


def find_faces(*, image_id: int, now: datetime | None = None) -> int | None:
    """Count the faces in one photo and store where they are (boxes only): the worker's job, never a request's.

    Safe to run twice: only a photo still waiting is searched, and the result is written with its row
    locked, so two workers racing store one set of boxes. A photo whose search fails says so, and its
    post is checked as before face detection (each child tagged by hand, or no child confirmed).
    Returns the number of faces found, or None when there was nothing to do.
    """
    image = PostImage.objects.filter(pk=image_id, face_search=FaceSearch.PENDING).first()
    if image is None:
        return None
    try:
        with image.image.open("rb") as file:
            boxes = detect_faces_in_file(file)
        outcome = FaceSearch.DONE
    except Exception:
        # Anything from a missing file to a damaged one or the task's time limit: say so on the page.
        logger.exception("Face detection failed for photo %s", image_id)
        boxes, outcome = [], FaceSearch.FAILED
    with transaction.atomic():
        image = PostImage.objects.select_for_update().filter(pk=image_id, face_search=FaceSearch.PENDING).first()
        if image is None:
            return None
        image.face_search, image.faces_searched_at = outcome, now or timezone.now()
        image.save(update_fields=["face_search", "faces_searched_at"])
        DetectedFace.objects.bulk_create(
            DetectedFace(image=image, number=number, x=box.x, y=box.y, width=box.width, height=box.height)
            for number, box in enumerate(boxes, start=1)
        )
    return len(boxes)


def account_for_faces(
    user, *, image: PostImage, marks: Mapping[int, tuple[str, Child | None]], now: datetime | None = None,
) -> PostImage:
    """Say what each detected face is: one of the photo's tagged children, an adult, not identifiable, or
    not a face (``marks`` maps a face's id to its marking and child; an empty marking undoes one)."""
    now = now or timezone.now()
    faces = {face.pk: face for face in image.faces.select_related("child")}
    tagged = {child.pk: child for child in image.children.all()}
    changes = []
    for face_id, (marking, child) in marks.items():
        face = faces.get(face_id)
        if face is None:
            raise ServiceError("That face is not in this photo; reload the page.")
        if marking and marking not in FaceMarking.values:
            raise ServiceError("Choose what the face is from the list.")
        if (marking == FaceMarking.CHILD) != (child is not None):
            raise ServiceError(f"Face {face.number}: choose the child, or another answer.")
        if child is not None and child.pk not in tagged:
            raise ServiceError(f"Face {face.number}: {child.full_name} is not tagged in this photo; tag them first.")
        if (face.marking, face.child_id) != (marking, child.pk if child else None):
            changes.append((face, marking, child))
    if not changes:
        return image

    def change(p: Post) -> None:
        for face, marking, child in changes:
            face.marking, face.child = marking, child
            face.save()

    said = "; ".join(f"face {face.number}: {_face_answer(marking, child)}"
                     for face, marking, child in sorted(changes, key=lambda c: c[0].number))
    number = list(image.post.images.values_list("pk", flat=True)).index(image.pk) + 1
    _edit(user, image.post, f"Accounted for faces in photo {number} ({said})", change, now=now)
    return image


def choose_blurring(
    user, *, post: Post, blur_unconsented: bool | None = None, faces: Mapping[int, bool] | None = None,
    now: datetime | None = None,
) -> Post:
    """Leadership's choice of what each channel's copy hides: the faces of children without consent in the
    channel's scope (``blur_unconsented``, for the whole post), and any face by hand (``faces`` maps a face's
    id to blur or not). Recorded in the post's history as who chose to blur whom.

    Not an edit of the post (its version and author's words stay), so an approval survives more blurring;
    blurring less on an approved post sends it back for approval, since the approver saw those faces hidden.
    Copies are made when they are sent (posts/blur.py), so there is no work to queue here.
    """
    now = now or timezone.now()
    faces = dict(faces or {})
    if not is_leader(user, post.nursery_id):
        raise ServiceError("Only the leadership team can choose which faces are blurred.")
    with transaction.atomic(), acting_as(user, "Chose which faces to blur"):
        post = _locked(post)
        if post.status not in workflow.UNPUBLISHED:
            raise ServiceError(f"This post is {post.get_status_display().lower()}: what went out cannot be "
                               "blurred any more. Take it down if a face must not be seen.")
        found = {
            face.pk: face for face in DetectedFace.objects.select_for_update(of=("self",))
            .filter(image__post=post, pk__in=list(faces)).select_related("child", "image")
        }
        if set(faces) - set(found):
            raise ServiceError("That face is not in this post; reload the page.")
        numbers = {pk: n for n, pk in enumerate(post.images.values_list("pk", flat=True), start=1)}
        changed = [(found[pk], bool(blur)) for pk, blur in faces.items() if found[pk].blur != bool(blur)]
        said, less = [], False
        for face, blur in sorted(changed, key=lambda c: (numbers[c[0].image_id], c[0].number)):
            who = face.child.full_name if face.child else _face_answer(face.marking, None)
            where = f"face {face.number} in photo {numbers[face.image_id]} ({who})"
            said.append(f"Blur {where} in every copy" if blur else f"Stop blurring {where}")
            less = less or not blur
            face.blur = blur
            face.save()
        if blur_unconsented is not None and blur_unconsented != post.blur_unconsented:
            post.blur_unconsented = blur_unconsented
            said.append(_blur_unconsented_words(post, now) if blur_unconsented
                        else "Stop blurring children without consent: they hold the post back again")
            less = less or not blur_unconsented
        if not said:
            return post
        before = post.status
        note = ". ".join(said) + "."
        if before == S.APPROVED and less:
            post.status = workflow.move(user, post, Action.EDITED)
            _approval_lapses(post, user, "chose to blur fewer faces in a post you approved")
            note += " The approval was given with these faces hidden, so the post waits for approval again."
        post.save()
        _log(post, Action.BLURRING, before, user, now, note)
    return post


def _blur_unconsented_words(post: Post, now: datetime) -> str:
    """Whom the post-wide choice blurs as things stand, scope by scope: the history says who chose to blur whom."""
    hidden = blurred_children(post, now=now)
    names = {c.pk: c.full_name for c in pictured_children(post)}
    parts = [f"{', '.join(sorted(names[pk] for pk in hidden[scope]))} in {SCOPE_WORDS[scope]} copies"
             for scope in sorted(hidden) if hidden[scope]]
    return ("Blur the faces of children without consent in each channel's scope"
            + (f": today {'; '.join(parts)}" if parts else ": nobody needs it today"))


def _face_answer(marking: str, child: Child | None) -> str:
    if child is not None:
        return child.full_name
    return FaceMarking(marking).label.lower() if marking else "not accounted for"


# --- the approval workflow ------------------------------------------------------------------------------


def submit_post(user, *, post: Post, now: datetime | None = None) -> Submission:
    """Send for approval. Missing consent only warns here: the author can still fix it while it waits."""
    now = now or timezone.now()
    with transaction.atomic(), acting_as(user, "Submitted a post for approval"):
        post = _locked(post)
        before = post.status
        post.status = workflow.move(user, post, Action.SUBMITTED)
        warnings = _refuse_unless_ready(post)
        warnings += face_problems(post)
        warnings += [p.message for p in consent_problems(post, now=now)]
        post.submitted_at = now
        post.consent_note = ""
        post.approval_reminded_at = post.schedule_held_at = None
        post.save()
        _log(post, Action.SUBMITTED, before, user, now)
        _tell(_leadership(post.nursery, besides=user), "A post is waiting for approval", post,
              f"{user.get_full_name() or user} submitted a post for approval.")
    return Submission(post, warnings)


def withdraw_submission(user, *, post: Post, now: datetime | None = None) -> Post:
    now = now or timezone.now()
    with transaction.atomic(), acting_as(user, "Withdrew a post from approval"):
        post = _locked(post)
        before = post.status
        post.status = workflow.move(user, post, Action.WITHDRAWN)
        _clear_approval(post)
        post.save()
        _log(post, Action.WITHDRAWN, before, user, now)
    return post


def approve_post(user, *, post: Post, version: int, now: datetime | None = None) -> Post:
    """Approve the exact version the leader looked at; never one they wrote or last changed themselves."""
    now = now or timezone.now()
    with transaction.atomic(), acting_as(user, "Approved a post"):
        post = _locked(post)
        before = post.status
        target = workflow.move(user, post, Action.APPROVED)
        if version != post.version:
            raise ServiceError(
                "The post has changed since you opened it. Please look at the latest version before approving."
            )
        if post.nursery.four_eyes_approval and user.pk in (post.author_id, post.edited_by_id):
            raise ServiceError(
                "You wrote or last changed this post, so another member of the leadership team must approve it."
            )
        _refuse_unless_ready(post)
        _refuse_unaccounted_faces(post, "approved")
        problems = consent_problems(post, now=now)
        if problems:
            raise ServiceError(refusal("approved", problems))
        post.status = target
        post.approved_version, post.approved_by, post.approved_at = post.version, user, now
        post.save()
        _log(post, Action.APPROVED, before, user, now)
        _tell([post.author], "Your post was approved", post,
              f"{user.get_full_name() or user} approved your post."
              + (f" It is scheduled for {_when(post.scheduled_for)}." if post.scheduled_for else ""))
    return post


def request_changes(user, *, post: Post, comment: str, now: datetime | None = None) -> Post:
    comment = _required(comment, "what should change")
    return _send_back(user, post, Action.CHANGES_REQUESTED, comment, now=now, reason="Asked for changes to a post",
                      subject="Changes requested to your post", said="asked for changes to your post")


def reject_post(user, *, post: Post, reason: str, now: datetime | None = None) -> Post:
    reason = _required(reason, "why the post is rejected")
    return _send_back(user, post, Action.REJECTED, reason, now=now, reason="Rejected a post",
                      subject="Your post was rejected", said="rejected your post")


def _send_back(user, post: Post, action: str, note: str, *, now, reason: str, subject: str, said: str) -> Post:
    """A leader's answer that returns the post to its author with a note: changes asked for, or rejected."""
    now = now or timezone.now()
    with transaction.atomic(), acting_as(user, reason):
        post = _locked(post)
        before = post.status
        post.status = workflow.move(user, post, action)
        _clear_approval(post)
        post.save()
        _log(post, action, before, user, now, note)
        _tell([post.author], subject, post, f"{user.get_full_name() or user} {said}:\n\n{note}")
    return post


def _check_urls(post: Post, urls: Mapping[int, str]) -> None:
    validate = URLValidator(schemes=["https", "http"])
    for channel in post.channels.all():
        url = (urls.get(channel.pk) or "").strip()
        if url:
            try:
                validate(url)
            except ValidationError:
                raise ServiceError(f"The address for {channel.name} is not a web address.") from None


def _go_out(post: Post, *, published_by, urls: Mapping[int, str], now: datetime) -> list[Publication]:
    """Hand the post to each channel's backend; the caller holds the post and the children locked."""
    publications = []
    for channel in post.channels.order_by("name"):
        if not channel.active:
            raise ServiceError(f"{channel.name} is no longer in use: edit the post's channels first.")
        publications.append(
            publisher_for(channel).publish(post, channel, published_by=published_by,
                                           url=urls.get(channel.pk, ""), now=now)
        )
    post.status, post.published_at = S.PUBLISHED, now
    post.save()
    # Who each channel's copy hides: a later withdrawal need not take down a copy the child cannot be seen in.
    blurred = blurred_children(post, now=now)
    for publication in publications:
        publication.blurred_children.set(blurred.get(publication.channel.audience, ()))
    return publications


def publish_post(
    user, *, post: Post, urls: Mapping[int, str] | None = None, now: datetime | None = None,
) -> list[Publication]:
    """Publish the approved version on every channel of the post, if every child's consent still holds."""
    now = now or timezone.now()
    urls = urls or {}
    with transaction.atomic(), acting_as(user, "Published a post"):
        post = _locked(post)
        before = post.status
        workflow.move(user, post, Action.PUBLISHED)
        if post.approved_version != post.version:
            raise ServiceError("Only the approved version can be published; this one waits for approval.")
        _check_urls(post, urls)
        # Re-read consent with the children's rows locked, inside this transaction: a withdrawal
        # committed since approval (or racing this request) must stop the post here. The faces are read
        # here too: accounting for them is an edit, which the post's row lock (held) serialises.
        _refuse_unaccounted_faces(post, "published")
        problems = consent_problems(post, now=now, lock=True)
        if problems:
            raise ServiceError(refusal("published", problems))
        if pictured_children(post):
            late = occasion_problems(post, timezone.localdate(now))
            if late:
                raise ServiceError(" ".join(late))
        publications = _go_out(post, published_by=user, urls=urls, now=now)
        _log(post, Action.PUBLISHED, before, user, now)
        if post.author_id != user.pk:
            _tell([post.author], "Your post was published", post,
                  f"{user.get_full_name() or user} published your post.")
    return publications


def take_down_post(user, *, post: Post, reason: str, now: datetime | None = None) -> Post:
    """Remove the post from every channel; any takedown tasks open on it are done by this."""
    now = now or timezone.now()
    reason = _required(reason, "why the post is taken down")
    with transaction.atomic(), acting_as(user, "Took a post down"):
        post = _locked(post)
        before = post.status
        post.status = workflow.move(user, post, Action.TAKEN_DOWN)
        for publication in post.publications.filter(removed_at__isnull=True).select_related("channel"):
            publisher_for(publication.channel).take_down(publication, user=user, now=now)
        post.save()
        _log(post, Action.TAKEN_DOWN, before, user, now, reason)
        if post.author_id != user.pk:
            _tell([post.author], "Your post was taken down", post,
                  f"{user.get_full_name() or user} took your post down:\n\n{reason}")
        _settle_takedowns(post, user=user, note=reason, now=now)
    return post


def record_publication_address(user, *, publication: Publication, url: str) -> Publication:
    """Where a post published by hand (or at its scheduled time) can be found on the platform."""
    if not is_leader(user, publication.post.nursery_id):
        raise ServiceError("Only the leadership team can record where a post was published.")
    url = _required(url, "the address of the post")
    try:
        URLValidator(schemes=["https", "http"])(url)
    except ValidationError:
        raise ServiceError("That is not a web address: copy the link of the post from the platform.") from None
    with transaction.atomic(), acting_as(user, "Recorded where a post was published"):
        publication = Publication.objects.select_for_update().get(pk=publication.pk)
        if publication.removed_at is not None:
            raise ServiceError("This post was removed from the channel; its address no longer matters.")
        publication.url = url
        publication.save(update_fields=["url"])
    return publication


def _confirm(takedown: Takedown, *, user, note: str, now: datetime) -> None:
    takedown.confirmed_at, takedown.confirmed_by, takedown.confirmation_note = now, user, note
    takedown.save()


def _settle_takedowns(post: Post, *, user, note: str, now: datetime, scope: str | None = None) -> list[Takedown]:
    """After a removal was asked for: confirm each open takedown whose scope has nothing left live, and mark the
    others "removal requested" (their channels delete in the background and confirm them when done)."""
    live = set(post.publications.filter(removed_at__isnull=True).values_list("channel__audience", flat=True))
    open_ones = post.takedowns.filter(confirmed_at__isnull=True).select_related("child", "removal_requested_by")
    if scope is not None:
        open_ones = open_ones.filter(scope=scope)
    done = []
    for takedown in open_ones:
        if takedown.scope in live:
            if takedown.removal_requested_at is None and user is not None:
                takedown.removal_requested_at, takedown.removal_requested_by = now, user
                takedown.removal_note = note
                takedown.save()
            continue
        _confirm(takedown, user=takedown.removal_requested_by or user, note=takedown.removal_note or note, now=now)
        done.append(takedown)
    if done:
        _tell_removed(post, done, now)
    return done


def _tell_removed(post: Post, takedowns: list[Takedown], now: datetime) -> None:
    """The post is down everywhere the withdrawal reached: tell the parent who withdrew, and the author."""
    from consent.models import ConsentDecision, Decision

    for takedown in takedowns:
        withdrawal = (
            ConsentDecision.objects.filter(child=takedown.child, scope=takedown.scope, decision=Decision.WITHDRAWN,
                                           decided_at__lte=takedown.opened_at)
            .select_related("guardian").order_by("-decided_at", "-pk").first()
        )
        if withdrawal is not None:
            notify([withdrawal.guardian], "The post has been taken down", MESSAGE, {"message": (
                f"After you withdrew {takedown.child.first_name}'s {SCOPE_WORDS[takedown.scope]} photo consent, "
                f"the nursery's post picturing {takedown.child.first_name} was removed from every "
                f"{SCOPE_WORDS[takedown.scope]} channel on {_when(now)}."
            )}, nursery=post.nursery)
    scopes = sorted({SCOPE_WORDS[t.scope] for t in takedowns})
    _tell([post.author], "Your post is down everywhere", post,
          f"Your post was removed from every {' and '.join(scopes)} channel on {_when(now)}, as a parent's "
          f"consent withdrawal required.")


def record_platform_removal(*, post: Post, channel: Channel, removed_by, now: datetime | None = None) -> None:
    """A platform confirmed it deleted the post (the Graph worker calls this): record the removal, confirm the
    takedowns it completes, and finish taking the post down when nothing of it is left live."""
    now = now or timezone.now()
    with transaction.atomic(), acting_as(removed_by, "Removed from the platform"):
        post = _locked(post)
        publication = post.publications.select_for_update().filter(channel=channel).first()
        if publication is None or publication.removed_at is not None:
            return
        publication.removed_at, publication.removed_by = now, removed_by
        publication.save(update_fields=["removed_at", "removed_by"])
        done = _settle_takedowns(post, user=None, note="", now=now)
        before = post.status
        if done:
            _log(post, Action.TAKEDOWN_CONFIRMED, before, removed_by, now,
                 f"Deleted from {channel.name} by the platform; the removal is complete.")
        if post.status == S.PUBLISHED and not post.publications.filter(removed_at__isnull=True).exists():
            post.status = workflow.move(removed_by, post, Action.TAKEN_DOWN)
            post.save()


def confirm_takedown(user, *, takedown: Takedown, note: str = "", now: datetime | None = None) -> Takedown:
    """A leader confirms the post is off every channel of the withdrawn scope."""
    now = now or timezone.now()
    if not is_leader(user, takedown.nursery_id):
        raise ServiceError("Only the leadership team can confirm that a post was taken down.")
    with transaction.atomic(), acting_as(user, "Confirmed a takedown"):
        post = _locked(takedown.post)
        takedown = Takedown.objects.select_for_update().select_related("child").get(pk=takedown.pk)
        if not takedown.is_open:
            raise ServiceError("This takedown was already confirmed.")
        in_scope = post.publications.filter(removed_at__isnull=True, channel__audience=takedown.scope)
        for publication in in_scope.select_related("channel"):
            publisher_for(publication.channel).take_down(publication, user=user, now=now)
        # Every open takedown of this post in the scope is met by the same removal (once the platforms confirm).
        done = _settle_takedowns(post, user=user, note=note.strip(), now=now, scope=takedown.scope)
        before = post.status
        if post.status == S.PUBLISHED and not post.publications.filter(removed_at__isnull=True).exists():
            post.status = workflow.move(user, post, Action.TAKEN_DOWN)
            post.save()
        if done:
            _log(post, Action.TAKEDOWN_CONFIRMED, before, user, now,
                 f"Removed from the {SCOPE_WORDS[takedown.scope]} channels. {note.strip()}".strip())
        else:
            _log(post, Action.TAKEDOWN_REQUESTED, before, user, now,
                 f"Deleting from the {SCOPE_WORDS[takedown.scope]} channels in the background. {note.strip()}".strip())
    takedown.refresh_from_db()
    return takedown


# --- when consent is withdrawn -----------------------------------------------------------------------


def handle_consent_withdrawal(
    *, child_id: int, scope: str, now: datetime | None = None, published_only: bool = False, left: bool = False,
) -> dict[str, int]:
    """Stop every unpublished post picturing the child in the scope, and open takedowns on published ones.

    ``left``: consent ended because the child left the nursery (the notes and takedowns say so).
    Safe to run twice: a post already sent back carries the note, and an open takedown is not reopened.
    """
    now = now or timezone.now()
    child = Child.objects.select_related("nursery").get(pk=child_id)
    pictured = Post.objects.filter(images__children=child, channels__audience=scope).distinct()
    stopped = opened = 0
    if not published_only:
        for post in pictured.filter(status__in=workflow.UNPUBLISHED):
            if child.pk in blurred_children(post, now=now).get(scope, ()):
                continue  # the post blurs the child's every face in this scope's copy: it may still go out
            stopped += _send_back_for_consent(post.pk, child, scope, now, left)
    for post_id in pictured.filter(status=S.PUBLISHED).values_list("pk", flat=True):
        opened += _open_takedown(post_id, child, scope, now, left)
    return {"sent_back": stopped, "takedowns": opened}


def _left_words(child: Child) -> str:
    return f"{child.full_name} left the nursery on {child.left_on:%-d %B %Y}"


def _send_back_for_consent(post_id: int, child: Child, scope: str, now: datetime, left: bool = False) -> int:
    if left:
        note = (
            f"{_left_words(child)}, so {child.first_name}'s photos are no longer shared. Remove "
            f"{child.first_name}'s photo, then submit again."
        )
    else:
        note = (
            f"{child.full_name}'s {SCOPE_WORDS[scope]} photo consent was withdrawn on {_when(now)}. Remove "
            f"{child.first_name}'s photo or choose only channels that {child.first_name}'s consent covers, "
            "then submit again."
        )
    with transaction.atomic(), acting_as(None, "Child left the nursery" if left else "Photo consent withdrawn"):
        post = Post.objects.select_for_update(of=("self",)).select_related("nursery", "author").get(pk=post_id)
        if post.status not in workflow.UNPUBLISHED or post.consent_note == note:
            return 0
        before = post.status
        post.status = workflow.move(None, post, Action.RETURNED_TO_DRAFT)
        _clear_approval(post)
        post.consent_note = note
        post.save()
        _log(post, Action.RETURNED_TO_DRAFT, before, None, now, note)
        told = [post.author] + (_leadership(post.nursery) if before != S.DRAFT else [])
        _tell(told, f"A post was sent back to draft: {'child left' if left else 'consent withdrawn'}", post, note)
    return 1


def _open_takedown(post_id: int, child: Child, scope: str, now: datetime, left: bool = False) -> int:
    with transaction.atomic(), acting_as(None, "Child left the nursery" if left else "Photo consent withdrawn"):
        post = Post.objects.select_for_update(of=("self",)).select_related("nursery").get(pk=post_id)
        live = (
            post.publications.filter(removed_at__isnull=True, channel__audience=scope)
            .exclude(blurred_children=child).select_related("channel")  # a copy with the child blurred may stay
        )
        channels = ", ".join(p.channel.name for p in live)
        if post.status != S.PUBLISHED or not channels:
            return 0
        if post.takedowns.filter(child=child, scope=scope, confirmed_at__isnull=True).exists():
            return 0
        deadline = now + timedelta(hours=post.nursery.takedown_deadline_hours)
        cause = _left_words(child) if left else (
            f"{child.full_name}'s {SCOPE_WORDS[scope]} photo consent was withdrawn on {_when(now)}"
        )
        reason = f"{cause}; the post is still on {channels}."
        takedown = Takedown.objects.create(
            nursery=post.nursery, post=post, child=child, scope=scope, reason=reason, opened_at=now,
            deadline=deadline, next_escalation_at=deadline,
        )
        _log(post, Action.TAKEDOWN_OPENED, post.status, None, now, f"{reason} Remove it by {_when(deadline)}.")
        _tell(_leadership(post.nursery), f"Take a post down: {'child left' if left else 'consent withdrawn'}", post,
              f"{reason} Remove it from {channels} by {_when(deadline)} and confirm here.",
              url=reverse("posts:takedown", args=[takedown.pk]))
    return 1


# --- periodic work ---------------------------------------------------------------------------------


def open_missed_takedowns(*, now: datetime | None = None) -> int:
    """Safety net for the withdrawal seam: any live publication picturing a child whose consent in the
    channel's scope is withdrawn, or who has left, gets its takedown, even if the follow-up failed."""
    now = now or timezone.now()
    live = Publication.objects.filter(removed_at__isnull=True, post__status=S.PUBLISHED)
    pairs = set(
        Child.objects.filter(pictured_in__post__publications__in=live)
        .values_list("pk", "pictured_in__post__publications__channel__audience")
    )
    if not pairs:
        return 0
    states = consent_states({child for child, _ in pairs}, {scope for _, scope in pairs}, now=now)
    # Leavers too: the day after their leaving date nobody has to remember them, this finds them.
    left = set(
        Child.objects.filter(pk__in={child for child, _ in pairs}, left_on__lte=timezone.localdate(now))
        .values_list("pk", flat=True)
    )
    return sum(
        handle_consent_withdrawal(
            child_id=child, scope=scope, now=now, published_only=True, left=child in left,
        )["takedowns"]
        for child, scope in sorted(pairs)
        if states[(child, scope)].state == State.WITHDRAWN or child in left
    )



def escalate_overdue_takedowns(*, now: datetime | None = None) -> int:
    """At the deadline and every 24 hours after, tell leadership and the manager again, and record it."""
    now = now or timezone.now()
    escalated = 0
    due = Takedown.objects.filter(confirmed_at__isnull=True, next_escalation_at__lte=now)
    for takedown_id in due.values_list("pk", flat=True):
        try:
            escalated += _escalate_takedown(due, takedown_id, now)
        except Exception:  # noqa: BLE001 - one takedown must not stop the others; the next run tries it again
            logger.exception("Escalating takedown %s failed", takedown_id)
    return escalated


def _escalate_takedown(due, takedown_id: int, now: datetime) -> int:
    with transaction.atomic(), acting_as(None, "Takedown overdue"):
        # skip_locked: a second worker running the same sweep leaves this one alone.
        takedown = (
            due.select_for_update(skip_locked=True, of=("self",))
            .select_related("post__nursery__manager", "child").filter(pk=takedown_id).first()
        )
        if takedown is None:
            return 0
        takedown.escalations += 1
        takedown.last_escalated_at = now
        takedown.next_escalation_at = now + timedelta(hours=24)
        takedown.save()
        post = takedown.post
        message = (
            f"Overdue since {_when(takedown.deadline)}: {takedown.reason} Remove it and confirm the removal "
            f"(reminder {takedown.escalations})."
        )
        _log(post, Action.TAKEDOWN_ESCALATED, post.status, None, now, message)
        _tell([*_leadership(post.nursery), post.nursery.manager], "Overdue: a post must be taken down", post,
              message, url=reverse("posts:takedown", args=[takedown.pk]))
    return 1


def remind_waiting_approvals(*, now: datetime | None = None) -> int:
    """Posts waiting over 24 hours: one reminder a day to each nursery's leadership."""
    now = now or timezone.now()
    waiting = Post.objects.filter(status=S.SUBMITTED, submitted_at__lte=now - timedelta(hours=24)).filter(
        Q(approval_reminded_at__isnull=True) | Q(approval_reminded_at__lte=now - timedelta(hours=23))
    )
    reminded = 0
    for nursery in Nursery.objects.filter(pk__in=waiting.values("nursery_id")):
        try:
            reminded += _remind_approvals(nursery, waiting, now)
        except Exception:  # noqa: BLE001 - one nursery must not stop the others; the next run tries it again
            logger.exception("Approval reminders for %s failed", nursery)
    return reminded


def _remind_approvals(nursery: Nursery, waiting, now: datetime) -> int:
    with transaction.atomic():
        posts = list(waiting.filter(nursery=nursery).select_for_update(skip_locked=True).order_by("submitted_at"))
        if not posts:
            return 0
        Post.objects.filter(pk__in=[p.pk for p in posts]).update(approval_reminded_at=now)
        lines = "\n".join(f"- {p} (waiting since {_when(p.submitted_at)})" for p in posts)
        notify(_leadership(nursery), f"{len(posts)} post{'s' if len(posts) != 1 else ''} waiting for approval",
               MESSAGE, {"message": f"These posts have waited more than a day for approval:\n\n{lines}"},
               nursery=nursery, url=reverse("posts:approvals"))
    return len(posts)


def due_scheduled_posts(*, now: datetime) -> list[int]:
    return list(
        Post.objects.filter(status=S.APPROVED, scheduled_for__lte=now).order_by("scheduled_for")
        .values_list("pk", flat=True)
    )


def publish_scheduled_post(*, post_id: int, now: datetime | None = None) -> bool:
    """Publish at its time, only if still approved and every consent still holds; otherwise hold it and say why."""
    now = now or timezone.now()
    with transaction.atomic():
        post = Post.objects.select_for_update(of=("self",)).select_related("nursery", "author", "approved_by").get(
            pk=post_id
        )
        if post.status != S.APPROVED or post.scheduled_for is None or post.scheduled_for > now:
            return False
        publisher = post.approved_by
        why = ""
        try:
            workflow.move(publisher, post, Action.PUBLISHED)
        except ServiceError:
            why = f"{publisher.get_full_name() or publisher}, who approved it, is no longer in the leadership team."
        if not why and post.approved_version != post.version:
            why = "It changed after it was approved."
        if not why:
            why = " ".join(face_problems(post))
        problems = [] if why else consent_problems(post, now=now, lock=True)
        if problems:
            why = " ".join(p.message for p in problems)
        if not why and pictured_children(post):
            why = " ".join(occasion_problems(post, timezone.localdate(now)))
        if not why:
            try:
                with acting_as(publisher, "Published a scheduled post"), transaction.atomic():
                    _go_out(post, published_by=publisher, urls={}, now=now)
            except ServiceError as error:
                why = error.message
        if why:
            _hold(post, why, now)
            return False
        _log(post, Action.PUBLISHED, S.APPROVED, None, now,
             f"Published at its scheduled time, as approved by {publisher.get_full_name() or publisher}.")
        by_hand = [p.channel.name for p in post.publications.select_related("channel")
                   if publisher_for(p.channel).asks_for_url]
        message = "The post went out at its scheduled time."
        if by_hand:
            message += (f" {', '.join(by_hand)}: posted by hand, so post it there now and record its address on "
                        "the post's page.")
        _tell([*_leadership(post.nursery), post.author], "A scheduled post was published", post, message)
    return True


def _hold(post: Post, why: str, now: datetime) -> None:
    note = f"Not published at its scheduled time ({_when(post.scheduled_for)}): {why}"
    with acting_as(None, "Scheduled post held"):
        post.status = workflow.move(None, post, Action.RETURNED_TO_DRAFT)
        _clear_approval(post)
        post.consent_note = note
        post.schedule_held_at = now
        post.save()
        _log(post, Action.SCHEDULE_HELD, S.APPROVED, None, now, note)
        _tell([*_leadership(post.nursery), post.author], "A scheduled post was held", post, note)


def hold_unapproved_schedules(*, now: datetime | None = None) -> int:
    """A post whose time came before it was approved is not published: tell leadership once."""
    now = now or timezone.now()
    late = Post.objects.filter(
        status__in=[S.DRAFT, S.SUBMITTED, S.CHANGES_REQUESTED], scheduled_for__lte=now, schedule_held_at__isnull=True
    )
    held = 0
    for post in late.select_related("nursery", "author"):
        with transaction.atomic():
            if not Post.objects.filter(pk=post.pk, schedule_held_at__isnull=True).update(schedule_held_at=now):
                continue
            note = (
                f"It was scheduled for {_when(post.scheduled_for)} but is {post.get_status_display().lower()}, "
                "so it was not published. Once approved, a leader can publish it or set a new time."
            )
            _log(post, Action.SCHEDULE_HELD, post.status, None, now, note)
            _tell([*_leadership(post.nursery), post.author], "A scheduled post was not published", post, note)
            held += 1
    return held


# --- channels and occasions (leadership) ---------------------------------------------------------------


def save_channel(user, *, channel: Channel) -> Channel:
    if not is_leader(user, channel.nursery_id):
        raise ServiceError("Only the leadership team can manage channels.")
    publisher_named(channel.publisher)
    with transaction.atomic(), acting_as(user, "Saved a channel"):
        channel.full_clean()
        channel.save()
    return channel


def save_occasion(user, *, occasion: Occasion) -> Occasion:
    if not is_leader(user, occasion.nursery_id):
        raise ServiceError("Only the leadership team can manage occasions.")
    with transaction.atomic(), acting_as(user, "Saved an occasion"):
        if occasion.created_by_id is None:
            occasion.created_by = user
        occasion.full_clean()
        occasion.save()
    return occasion
