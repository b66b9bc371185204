import hmac
import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from moderation import queries, services
from moderation.forms import ConcernForm, DoneByHandForm, ManualCommentForm, ResolveForm, RuleForm, VersionForm
from moderation.models import Concern, ModerationItem, ScreeningRule
from moderation.platform import MAX_BODY_BYTES, SIGNATURE_HEADER, BadDelivery, parse_body, signature_is_valid
from nursery.errors import ServiceError
from nursery.http import safe_next
from nursery.models import Role
from nursery.paging import page_by_ids
from nursery.permissions import get_object_in_nursery, has_role, is_staff_member, require_role, role_required
from posts.models import Channel

logger = logging.getLogger(__name__)

QUEUE_PAGE_SIZE = 20
ACKNOWLEDGE_PAGE_SIZE = 50


# --- the queue ------------------------------------------------------------------------------------------------


def _get_item(request, pk) -> ModerationItem:
    return get_object_in_nursery(request, ModerationItem.objects.select_related("nursery"),
                                 roles=services.QUEUE_VIEWERS, pk=pk)


def _item_context(request, item, **extra) -> dict:
    return {
        "item": item, "now": timezone.now(), "can_act": has_role(request.user, item.nursery, *services.REVIEWERS),
        **extra,
    }


@role_required(*services.QUEUE_VIEWERS)
def queue(request):
    nursery = request.nursery
    channels = list(Channel.objects.filter(nursery=nursery).order_by("name"))
    filters = queries.QueueFilters.from_request(request.GET, {c.pk for c in channels})
    counts = queries.queue_counts(nursery)
    # Unfiltered, each lane holds what the header counts already: no count query of its own.
    unfiltered = filters.status == "open" and not filters.category and not filters.channel
    review = page_by_ids(queries.queue(nursery, filters, lane="review"), queries.items_for_page(nursery),
                         per_page=QUEUE_PAGE_SIZE, number=request.GET.get("page"),
                         count=counts.review if unfiltered else None)
    acknowledge = page_by_ids(queries.queue(nursery, filters, lane="acknowledge"),
                              queries.clean_items_for_page(nursery), per_page=ACKNOWLEDGE_PAGE_SIZE,
                              number=request.GET.get("ack_page"), count=counts.acknowledge if unfiltered else None)
    queries.with_channels(review.object_list, nursery, channels)
    queries.with_channels(acknowledge.object_list, nursery, channels)
    return render(request, "moderation/queue.html", {
        "review": review, "acknowledge": acknowledge, "filters": filters, "channels": channels,
        "status_filters": queries.STATUS_FILTERS, "category_filters": queries.CATEGORY_FILTERS,
        "counts": counts, "now": timezone.now(),
        "can_act": has_role(request.user, nursery, *services.REVIEWERS),
        "query_without_page": _query_without(request, "page"),
        "query_without_ack_page": _query_without(request, "ack_page"),
    })


def _query_without(request, key: str) -> str:
    params = request.GET.copy()
    params.pop(key, None)
    return params.urlencode()


@never_cache
@login_required
def item_detail(request, pk):
    item = _get_item(request, pk)
    item = (queries.items_for_page(item.nursery).select_related("comment__channel", "concern__channel", "nursery")
            .prefetch_related("comment__versions").get(pk=item.pk))
    return render(request, "moderation/item.html", _item_context(request, item))


def _after_action(request, item, *, error: str = "", success: str = ""):
    """htmx swaps the item's card in place; a plain form post goes back to the queue with a message."""
    if request.headers.get("HX-Request"):
        item = (queries.items_for_page(item.nursery).select_related("comment__channel", "concern__channel", "nursery")
                .get(pk=item.pk))
        return render(request, "moderation/_item.html", _item_context(request, item, error=error, notice=success))
    if error:
        messages.error(request, error)
    else:
        messages.success(request, success)
    return redirect(safe_next(request, "moderation:queue"))


def _version(request) -> int | None:
    form = VersionForm(request.POST)
    return form.cleaned_data.get("version") if form.is_valid() else None


@require_POST
@login_required
def claim(request, pk):
    item = _get_item(request, pk)
    try:
        services.claim_item(request.user, item_id=item.pk, version=_version(request))
    except ServiceError as exc:
        return _after_action(request, item, error=exc.message)
    return _after_action(request, item, success="You have claimed this item.")


@require_POST
@login_required
def release(request, pk):
    item = _get_item(request, pk)
    try:
        services.release_item(request.user, item_id=item.pk, version=_version(request))
    except ServiceError as exc:
        return _after_action(request, item, error=exc.message)
    return _after_action(request, item, success="Released back to the queue.")


@require_POST
@login_required
def resolve(request, pk):
    item = _get_item(request, pk)
    form = ResolveForm(request.POST, item=item)
    if not form.is_valid():
        if not has_role(request.user, item.nursery, *services.REVIEWERS):
            raise PermissionDenied("Your role does not allow this.")
        return _after_action(request, item, error="Choose a decision and give the reason.")
    try:
        services.resolve_item(request.user, item_id=item.pk, action=form.cleaned_data["action"],
                              reason=form.cleaned_data["reason"], version=form.cleaned_data["version"])
    except ServiceError as exc:
        return _after_action(request, item, error=exc.message)
    return _after_action(request, item, success="Resolved and recorded.")


@require_POST
@login_required
def done_by_hand(request, pk):
    item = _get_item(request, pk)
    form = DoneByHandForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        services.record_done_by_hand(request.user, item_id=item.pk, note=note, version=_version(request))
    except ServiceError as exc:
        return _after_action(request, item, error=exc.message)
    return _after_action(request, item, success="Recorded as done by hand on the platform.")


@require_POST
@role_required(Role.SAFEGUARDING_LEAD)
def acknowledge(request):
    ids = [int(v) for v in request.POST.getlist("item") if v.isdigit()]
    if not ids:
        messages.error(request, "Select the clean comments to acknowledge.")
        return redirect("moderation:queue")
    count = services.acknowledge_items(request.user, nursery=request.nursery, item_ids=ids)
    skipped = len(ids) - count
    messages.success(request, f"{count} clean comment{'s' if count != 1 else ''} acknowledged."
                     + (f" {skipped} had changed and were left for review." if skipped else ""))
    return redirect("moderation:queue")


# --- screening rules ------------------------------------------------------------------------------------------


@role_required(*services.RULE_EDITORS)
def rules(request):
    rule_list = ScreeningRule.objects.filter(nursery=request.nursery).order_by("-active", "-severity", "name")
    return render(request, "moderation/rules.html", {"rules": rule_list})


@role_required(*services.RULE_EDITORS)
def rule_edit(request, pk=None):
    rule = None
    if pk is not None:
        rule = get_object_in_nursery(request, ScreeningRule, pk=pk)
    form = RuleForm(request.POST or None, instance=rule, nursery=request.nursery)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_rule(request.user, rule=form.save(commit=False))
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Rule “{form.instance.name}” saved.")
            return redirect("moderation:rules")
    return render(request, "moderation/rule_form.html", {"form": form, "rule": rule})


@require_POST
@role_required(*services.RULE_EDITORS)
def install_defaults(request):
    created = services.install_default_rules(request.user, nursery=request.nursery)
    messages.success(request, f"{created} default rule{'s' if created != 1 else ''} added.")
    return redirect("moderation:rules")


# --- intake by people -----------------------------------------------------------------------------------------


@role_required(Role.STAFF, Role.LEADERSHIP, Role.SAFEGUARDING_LEAD)
def comment_new(request):
    form = ManualCommentForm(request.POST or None, nursery=request.nursery)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.enter_comment(request.user, channel=data["channel"], author_name=data["author_name"],
                                   text=data["text"], link=data["link"])
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "Thank you: the comment is in the moderation queue.")
            return redirect("home")
    return render(request, "moderation/comment_form.html", {"form": form})


@role_required(Role.STAFF, Role.LEADERSHIP, Role.SAFEGUARDING_LEAD, Role.PARENT)
def concern_new(request):
    staff = is_staff_member(request.user, request.nursery)
    form = ConcernForm(request.POST or None, request.FILES or None, nursery=request.nursery, staff=staff)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.raise_concern(request.user, nursery=request.nursery, description=data["description"],
                                   channel=data["channel"], where_seen=data["where_seen"], link=data["link"],
                                   screenshot=data["screenshot"])
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "Thank you. Your concern has gone to the safeguarding lead, who will act on it.")
            return redirect("moderation:my_concerns")
    return render(request, "moderation/concern_form.html", {"form": form, "staff": staff})


@role_required(Role.STAFF, Role.LEADERSHIP, Role.SAFEGUARDING_LEAD, Role.PARENT)
def my_concerns(request):
    page = Paginator(queries.concerns_raised_by(request.user, request.nursery), 20).get_page(request.GET.get("page"))
    return render(request, "moderation/my_concerns.html", {"page": page})


@login_required
def concern_screenshot(request, pk):
    concern = get_object_in_nursery(request, Concern, pk=pk)
    if concern.raised_by_id != request.user.pk:
        require_role(request.user, request.nursery, *services.QUEUE_VIEWERS)
    if not concern.screenshot:
        raise Http404
    response = FileResponse(concern.screenshot.open("rb"), content_type="image/png")
    response["Cache-Control"] = "private, no-store"
    return response


# --- the Meta webhook -----------------------------------------------------------------------------------------


@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def meta_webhook(request):
    """Public and unauthenticated: trust comes only from the verify token (GET) and the signature (POST)."""
    if request.method == "GET":
        token = request.GET.get("hub.verify_token", "")
        challenge = request.GET.get("hub.challenge", "")
        expected = settings.META_VERIFY_TOKEN
        if (request.GET.get("hub.mode") == "subscribe" and expected and challenge
                and hmac.compare_digest(token.encode(), expected.encode())):
            return HttpResponse(challenge[:200], content_type="text/plain")
        return HttpResponseForbidden("Verification failed.", content_type="text/plain")
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > MAX_BODY_BYTES:
        return HttpResponse("Too large.", status=413, content_type="text/plain")
    try:
        body = request.body
    except RequestDataTooBig:
        return HttpResponse("Too large.", status=413, content_type="text/plain")
    if len(body) > MAX_BODY_BYTES:
        return HttpResponse("Too large.", status=413, content_type="text/plain")
    if not settings.META_APP_SECRET:
        logger.error("META_APP_SECRET is not set: refusing every webhook delivery")
    if not signature_is_valid(body, request.META.get(SIGNATURE_HEADER), settings.META_APP_SECRET):
        return HttpResponseForbidden("Bad signature.", content_type="text/plain")
    try:
        payload = parse_body(body)
    except BadDelivery:
        return HttpResponse("Malformed JSON.", status=400, content_type="text/plain")
    # PostgreSQL refuses NUL in text: a signed "\u0000" must not turn into a 500.
    object_type = str(payload.get("object") or "").replace("\x00", "")
    services.receive_delivery(body=body, object_type=object_type)
    return HttpResponse("EVENT_RECEIVED", content_type="text/plain")
