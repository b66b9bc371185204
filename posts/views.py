"""Posts pages: thin views over ``posts.services`` (changes) and ``posts.queries`` (what to show)."""

import io
import mimetypes
from collections.abc import Callable

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from consent.models import Scope
from nursery.errors import ServiceError
from nursery.http import carry_out, safe_next
from nursery.models import STAFF_ROLES, Role
from nursery.permissions import get_object_in_nursery, is_leader, role_required
from posts import queries, services, workflow
from posts.blur import scope_copy
from posts.forms import (
    AddPhotosForm,
    ChannelForm,
    FacesForm,
    NewPostForm,
    NoteForm,
    OccasionForm,
    PhotoForm,
    PostForm,
    PublishForm,
)
from posts.gate import SCOPE_WORDS
from posts.models import Channel, Occasion, Post, PostImage, Publication, Takedown

staff_only = role_required(*STAFF_ROLES)
leadership_only = role_required(Role.LEADERSHIP)
PAGE_SIZE = 25


def _page(request, items):
    return Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))


def _list(request, template: str, posts, **context):
    page = _page(request, posts)
    glance = queries.consent_at_a_glance(list(page.object_list))
    rows = [(post, glance[post.pk]) for post in page.object_list]
    return render(request, template, {"page": page, "rows": rows, **context})


# --- lists -----------------------------------------------------------------------------------------


@staff_only
def my_posts(request):
    return _list(request, "posts/my_posts.html", queries.my_posts(request.user, request.nursery))


@leadership_only
def approvals(request):
    return _list(request, "posts/approvals.html", queries.approval_queue(request.nursery))


@leadership_only
def scheduled(request):
    return _list(request, "posts/scheduled.html", queries.scheduled_posts(request.nursery),
                 ready=queries.approved_posts(request.nursery))


@staff_only
def published(request):
    return _list(request, "posts/published.html", queries.published_posts(request.nursery))


# --- one post --------------------------------------------------------------------------------------


@staff_only
def new_post(request):
    form = NewPostForm(request.POST or None, request.FILES or None, nursery=request.nursery)
    if request.method == "POST" and form.is_valid():
        try:
            post = services.create_draft(
                request.user, nursery=request.nursery, caption=form.cleaned_data["caption"],
                channels=form.cleaned_data["channels"], occasion=form.cleaned_data["occasion"],
                scheduled_for=form.cleaned_data["scheduled_for"], photos=form.cleaned_data["photos"],
            )
        except ServiceError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, "Draft saved. Now describe each photo and tag the children in it.")
            return redirect("posts:edit", post.pk)
    return render(request, "posts/new.html", {"form": form})


def _detail_context(request, post: Post) -> dict:
    actions = workflow.actions_for(request.user, post)
    glance = queries.consent_at_a_glance([post])[post.pk]
    return {
        "post": post,
        "actions": actions,
        "glance": glance,
        "publish_form": PublishForm(post=post) if "published" in actions else None,
        "copies": _copies(request, post, [ic.image for ic in glance]),
    }


def _copies(request, post: Post, images) -> dict | None:
    """Leadership's "what each channel is sent": the post-wide blurring choice and a preview per photo and scope
    (from the prefetched channels and photos: no query of its own)."""
    if not is_leader(request.user, post.nursery_id) or not images:
        return None
    scopes = sorted({channel.audience for channel in post.channels.all()})
    return {
        "scopes": [(scope, SCOPE_WORDS[scope]) for scope in scopes],
        "images": list(enumerate(images, start=1)),
        "can_choose": post.status in workflow.UNPUBLISHED,
    }


@staff_only
def detail(request, pk):
    post = queries.get_post_for_user(request, pk, queries.post_detail(pk))
    return render(request, "posts/detail.html", _detail_context(request, post))


@staff_only
@require_http_methods(["GET", "POST"])
def edit(request, pk):
    post = queries.get_post_for_user(request, pk, queries.post_detail(pk))
    if "edited" not in workflow.actions_for(request.user, post):
        messages.error(request, f"This post cannot be changed now: it is {post.get_status_display().lower()}.")
        return redirect("posts:detail", post.pk)
    form = PostForm(request.POST or None, instance=post, nursery=post.nursery)
    if request.method == "POST" and form.is_valid():
        try:
            services.edit_post(
                request.user, post=post, caption=form.cleaned_data["caption"], channels=form.cleaned_data["channels"],
                occasion=form.cleaned_data["occasion"], scheduled_for=form.cleaned_data["scheduled_for"],
            )
        except ServiceError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, "Post saved.")
            return redirect("posts:edit", post.pk)
    images = post.images.prefetch_related("children", "faces")
    photo_forms = [(image, PhotoForm(instance=image, nursery=post.nursery, prefix=f"photo{image.pk}"),
                    _faces_context(image, number))
                   for number, image in enumerate(images, start=1)]
    return render(request, "posts/edit.html", {
        "post": post, "form": form, "photo_forms": photo_forms, "add_form": AddPhotosForm(),
        "glance": queries.consent_at_a_glance([post])[post.pk],
        "copies": _copies(request, post, [image for image, _, _ in photo_forms]),
    })


@staff_only
@require_POST
def add_photos(request, pk):
    post = queries.get_post_for_user(request, pk)
    form = AddPhotosForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors["photos"]))
        return redirect("posts:edit", post.pk)
    try:
        added = services.add_images(request.user, post=post, photos=form.cleaned_data["photos"])
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"{len(added)} photo{'s' if len(added) != 1 else ''} added. "
                                  "Describe and tag them below.")
    return redirect("posts:edit", post.pk)


@staff_only
@require_POST
def describe_photo(request, pk):
    image = queries.get_image_for_user(request, pk)
    form = PhotoForm(request.POST, instance=image, nursery=image.post.nursery, prefix=f"photo{image.pk}")
    if form.is_valid():
        try:
            services.describe_image(
                request.user, image=image, alt_text=form.cleaned_data["alt_text"],
                children=form.cleaned_data["children"],
                no_identifiable_child=form.cleaned_data["no_identifiable_child"],
            )
        except ServiceError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, "Photo details saved.")
    else:
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    return redirect("posts:edit", image.post_id)


def _faces_context(image: PostImage, number: int) -> dict:
    faces = list(image.faces.all())
    return {
        "image": image, "number": number, "faces": faces,
        "form": FacesForm(image=image, faces=faces, prefix=f"faces{image.pk}") if faces else None,
        "open_faces": sum(1 for f in faces if not f.accounted_for),
        # Numbers on the photo stay legible whether it is 600 or 2,048 pixels wide.
        "label_size": max(16, max(image.width, image.height) // 28),
    }


def _number_of(image: PostImage) -> int:
    return list(image.post.images.values_list("pk", flat=True)).index(image.pk) + 1


@staff_only
def faces(request, pk):
    """The photo's faces panel alone: the edit page polls it (htmx) until the worker has counted them."""
    image = queries.get_image_for_user(request, pk)
    image = PostImage.objects.prefetch_related("children", "faces").select_related("post").get(pk=image.pk)
    return render(request, "posts/_faces.html", {"f": _faces_context(image, _number_of(image))})


@staff_only
@require_POST
def account_faces(request, pk):
    image = queries.get_image_for_user(request, pk)
    form = FacesForm(request.POST, image=image, faces=image.faces.all(), prefix=f"faces{image.pk}")
    if form.is_valid():
        try:
            services.account_for_faces(request.user, image=image, marks=form.marks())
        except ServiceError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"Faces in photo {_number_of(image)} saved.")
    else:
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    return redirect(f"{reverse('posts:edit', args=[image.post_id])}#faces-{image.pk}")


@staff_only
@require_POST
def blur_faces(request, pk):
    """Leadership's per-face blur toggles for one photo (staff are told no by the service)."""
    image = queries.get_image_for_user(request, pk)
    chosen = set(request.POST.getlist("blur"))
    faces = {face.pk: str(face.pk) in chosen for face in image.faces.all()}
    carry_out(request, lambda: services.choose_blurring(request.user, post=image.post, faces=faces),
              f"Blurring in photo {_number_of(image)} saved.")
    return redirect(f"{reverse('posts:edit', args=[image.post_id])}#faces-{image.pk}")


@staff_only
@require_POST
def blurring(request, pk):
    """The post-wide choice: blur children without consent in a channel's scope rather than hold the post."""
    post = queries.get_post_for_user(request, pk)
    blur = request.POST.get("blur_unconsented") == "on"
    carry_out(request, lambda: services.choose_blurring(request.user, post=post, blur_unconsented=blur),
              "Children without consent will be blurred in each channel's copy." if blur
              else "Children without consent are no longer blurred: they hold the post back.")
    return redirect(safe_next(request, "posts:detail", post.pk))


@leadership_only
@require_safe
def photo_copy(request, pk, scope):
    """The photo as a scope's channels receive it (faces blurred): leadership's preview, and the file to post by
    hand on a manual channel (``?download=1``)."""
    if scope not in Scope.values:
        raise Http404
    image = queries.get_image_for_user(request, pk)
    try:
        copy = scope_copy(image, scope)
    except (FileNotFoundError, OSError) as exc:
        raise Http404 from exc
    response = FileResponse(io.BytesIO(copy.content), content_type=copy.content_type,
                            as_attachment=request.GET.get("download") == "1", filename=copy.filename)
    # Consent can change at any moment, and with it the copy: never reuse one from a cache.
    response["Cache-Control"] = "private, no-store"
    return response


@staff_only
@require_POST
def remove_photo(request, pk):
    image = queries.get_image_for_user(request, pk)
    return _act(request, image.post, lambda post: services.remove_image(request.user, image=image),
                "Photo removed.", to="posts:edit")


def _serve(image_field):
    try:
        handle = image_field.open("rb")
    except (FileNotFoundError, ValueError) as exc:
        raise Http404 from exc
    content_type = mimetypes.guess_type(image_field.name)[0] or "application/octet-stream"
    response = FileResponse(handle, content_type=content_type)
    # Photos of children: never kept in shared caches, re-checked on every visit after a short while.
    response["Cache-Control"] = "private, max-age=300"
    return response


@staff_only
def photo(request, pk):
    return _serve(queries.get_image_for_user(request, pk).image)


@staff_only
def thumbnail(request, pk):
    return _serve(queries.get_image_for_user(request, pk).thumbnail)


# --- workflow actions ------------------------------------------------------------------------------


def _act(request, post: Post, do: Callable[[Post], object], done: str, *, to: str = "posts:detail"):
    carry_out(request, lambda: do(post), done)
    return redirect(to, post.pk)


def _with_note(request, pk, label: str, do: Callable[[Post, str], object], done: str):
    post = queries.get_post_for_user(request, pk)
    form = NoteForm(request.POST, label=label)
    if not form.is_valid():
        messages.error(request, f"Please fill in “{label}”.")
        return redirect("posts:detail", post.pk)
    return _act(request, post, lambda p: do(p, form.cleaned_data["note"]), done)


@staff_only
@require_POST
def submit(request, pk):
    return _act(request, queries.get_post_for_user(request, pk),
                lambda post: services.submit_post(request.user, post=post), "Sent to the leadership team for approval.")


@staff_only
@require_POST
def withdraw(request, pk):
    return _act(request, queries.get_post_for_user(request, pk),
                lambda post: services.withdraw_submission(request.user, post=post),
                "Withdrawn: the post is a draft again.")


@leadership_only
@require_POST
def approve(request, pk):
    version = request.POST.get("version", "")
    seen = int(version) if version.isdigit() else 0  # approval is of the version the leader looked at
    return _act(request, queries.get_post_for_user(request, pk),
                lambda post: services.approve_post(request.user, post=post, version=seen), "Approved.")


@leadership_only
@require_POST
def request_changes(request, pk):
    return _with_note(request, pk, "What should change",
                      lambda post, note: services.request_changes(request.user, post=post, comment=note),
                      "Sent back to the author with your comments.")


@leadership_only
@require_POST
def reject(request, pk):
    return _with_note(request, pk, "Why it is rejected",
                      lambda post, note: services.reject_post(request.user, post=post, reason=note), "Rejected.")


@leadership_only
@require_POST
def publish(request, pk):
    post = queries.get_post_for_user(request, pk)
    form = PublishForm(request.POST, post=post)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect("posts:detail", post.pk)
    return _act(request, post, lambda p: services.publish_post(request.user, post=p, urls=form.urls()), "Published.")


@leadership_only
@require_POST
def take_down(request, pk):
    return _with_note(request, pk, "Why it is taken down",
                      lambda post, note: services.take_down_post(request.user, post=post, reason=note),
                      "Recorded as taken down.")


@leadership_only
@require_POST
def publication_address(request, pk):
    publication = get_object_in_nursery(request, Publication.objects.select_related("post"),
                                        nursery_field="post__nursery", pk=pk)
    return _act(request, publication.post,
                lambda post: services.record_publication_address(request.user, publication=publication,
                                                                 url=request.POST.get("url", "")),
                "Address recorded.")


# --- takedowns ---------------------------------------------------------------------------------------


@leadership_only
def takedowns(request):
    return render(request, "posts/takedowns.html", {
        "open": queries.takedowns(request.nursery),
        "page": _page(request, queries.takedowns(request.nursery, open_only=False)),
    })


@leadership_only
@require_http_methods(["GET", "POST"])
def takedown(request, pk):
    item = get_object_in_nursery(request, Takedown.objects.select_related("post", "child", "confirmed_by"), pk=pk)
    form = NoteForm(request.POST or None, label="How it was removed (optional)", required=False)
    if request.method == "POST" and form.is_valid():
        try:
            item = services.confirm_takedown(request.user, takedown=item, note=form.cleaned_data["note"])
        except ServiceError as error:
            messages.error(request, error.message)
        else:
            if item.is_open:
                messages.success(request, "Deleting it on the platform in the background: this page shows how it "
                                          "is going, and the takedown is confirmed once the platform says it is gone.")
                return redirect("posts:takedown", pk=item.pk)
            messages.success(request, "Removal confirmed and recorded.")
            return redirect("posts:takedowns")
    publications = queries.takedown_publications(item)
    return render(request, "posts/takedown.html", {"takedown": item, "form": form, "publications": publications})


# --- channels and occasions --------------------------------------------------------------------------


def _manage(request, form_class, instance, template: str, save: Callable, done: str, to: str):
    form = form_class(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        try:
            save(form.save(commit=False))
        except ServiceError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, done)
            return redirect(to)
    return render(request, template, {"form": form, "object": instance})


@leadership_only
def channels(request):
    return render(request, "posts/channels.html", {
        "channels": Channel.objects.filter(nursery=request.nursery).order_by("-active", "name"),
        "occasions": Occasion.objects.filter(nursery=request.nursery),
    })


@leadership_only
@require_http_methods(["GET", "POST"])
def channel_form(request, pk=None):
    channel = get_object_in_nursery(request, Channel, pk=pk) if pk else Channel(nursery=request.nursery)
    return _manage(request, ChannelForm, channel, "posts/channel_form.html",
                   lambda c: services.save_channel(request.user, channel=c), "Channel saved.", "posts:channels")


@leadership_only
@require_http_methods(["GET", "POST"])
def occasion_form(request, pk=None):
    occasion = get_object_in_nursery(request, Occasion, pk=pk) if pk else Occasion(nursery=request.nursery)
    return _manage(request, OccasionForm, occasion, "posts/occasion_form.html",
                   lambda o: services.save_occasion(request.user, occasion=o), "Occasion saved.", "posts:channels")
