"""The queue's cards and clean lines as HTML, written in Python.

The queue shows twenty cards and fifty clean lines a page. Rendered by the template engine they cost about
as much as the rest of the page together (some two thousand template nodes a request); written here they
cost a tenth of that. The markup is the one ``moderation/_item.html`` had, and the card is the same
wherever it appears: the queue, an item's page and the card an htmx action swaps in
(``{% item_card item %}``). Every value from the database goes through ``conditional_escape`` (``_e``);
the only unescaped parts are the literal markup below and ``highlighted`` (which escapes the text itself).
"""

from django.middleware.csrf import get_token
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import conditional_escape as _e
from django.utils.safestring import SafeString, mark_safe

from moderation.models import CommentKind
from moderation.templatetags.moderation_tags import decision_choices, highlighted, rules_hit, time_left, waited

BADGES = {4: "text-bg-danger", 3: "text-bg-danger", 2: "text-bg-warning", 1: "text-bg-info"}


def _url(name: str, pk: int) -> str:
    # One reverse per name and process: the rest is the id put in place ("0" stands for it).
    if name not in _ITEM_URLS:
        _ITEM_URLS[name] = reverse(name, args=[0])
    return _ITEM_URLS[name].replace("/0/", f"/{pk}/")


_ITEM_URLS: dict[str, str] = {}


def _date(value, spec: str) -> str:
    """What the template filter ``date`` shows: the moment in the current time zone, in ``spec``."""
    return date_format(timezone.localtime(value), spec) if value else ""


def _person(user) -> str:
    """``user.get_full_name|default:user.username``, and nothing for no one."""
    return (user.get_full_name() or user.username) if user is not None else ""


class CardContext:
    """What every card of one response shares: the time, who is looking, whether they may act, the form's
    CSRF token and the page to come back to."""

    def __init__(self, request, *, now, can_act: bool):
        self.now, self.can_act = now, can_act
        self.user_id = request.user.pk
        self.csrf = _e(get_token(request))
        self.next = _e(request.get_full_path())

    def hidden(self, item) -> str:
        return (f'<input type="hidden" name="csrfmiddlewaretoken" value="{self.csrf}">'
                f'<input type="hidden" name="version" value="{item.version}">'
                f'<input type="hidden" name="next" value="{self.next}">')


def card(item, ctx: CardContext, *, error: str = "", notice: str = "") -> SafeString:
    pk = item.pk
    c = item.comment
    if item.concern_id:
        what = "Concern report"
    elif c is not None and c.kind == CommentKind.VISITOR_POST:
        what = "Post by someone else on the Page"
    else:
        what = "Comment"
    out = [
        f'<article class="card mb-3 moderation-item{" border-danger" if item.priority >= 3 else ""}" '
        f'id="item-{pk}" aria-labelledby="item-{pk}-title">',
        '  <div class="card-header d-flex flex-wrap gap-2 align-items-center justify-content-between">',
        f'    <h3 class="h6 mb-0" id="item-{pk}-title">',
        f'      <a href="{_url("moderation:item", pk)}">{what} #{pk}</a>',
        f'      <span class="badge {BADGES.get(item.priority, "text-bg-light border")}">'
        f"{_e(item.get_priority_display())}</span>",
        f'      <span class="badge text-bg-secondary">{_e(item.get_status_display())}</span>',
    ]
    if item.escalated_at:
        out.append('      <span class="badge text-bg-dark">Escalated</span>')
    out += ["    </h3>", '    <span class="small">']
    if item.is_open:
        state = "state-no" if item.due_at < ctx.now else "state-warn"
        out.append(f'        <span class="{state}">{_e(time_left(item, ctx.now))}</span>')
        out.append(f"        · waiting {_e(waited(item.opened_at, ctx.now))}")
    else:
        out.append(f"        {_e(item.get_action_display())} by {_e(_person(item.resolved_by))}, "
                   f'<time datetime="{_date(item.resolved_at, "c")}">{_date(item.resolved_at, "j M, H:i")}</time>')
        if item.platform_action_status:
            out.append(f"         · {_e(item.get_platform_action_status_display())}")
    out += ["    </span>", "  </div>", '  <div class="card-body">']
    if error:
        out.append(f'    <div class="alert alert-danger py-2" role="alert">{_e(error)}</div>')
    if notice:
        out.append(f'    <div class="alert alert-success py-2" role="status">{_e(notice)}</div>')
    hits = list(item.hits.all())
    out += _comment(item, c, hits) if c is not None else _concern(item)
    if hits:
        out.append('    <ul class="list-inline small mb-2" aria-label="Rule hits">')
        out.append("      " + "".join(
            f'<li class="list-inline-item"><span class="badge rounded-pill text-bg-light border">{_e(label)}</span>'
            f"</li>" for label in rules_hit(hits)))
        out.append("    </ul>")
    out += _actions(item, ctx)
    actions = list(item.actions.all())
    out += [
        '    <details class="mt-2 small">',
        f"      <summary>History ({len(actions)})</summary>",
        '      <ol class="mb-0 mt-1">',
        "        " + "".join(
            f'<li><time datetime="{_date(a.at, "c")}">{_date(a.at, "j M, H:i")}</time> · {_e(a.get_kind_display())}'
            + (f" by {_e(_person(a.actor))}" if a.actor_id else "") + (f": {_e(a.note)}" if a.note else "") + "</li>"
            for a in actions),
        "      </ol>",
        "    </details>",
        "  </div>",
        "</article>",
    ]
    return mark_safe("\n".join(out))  # noqa: S308 - every value above is escaped


def _comment(item, c, hits) -> list[str]:
    platform = _e(c.get_platform_display())
    meta = f"      <strong>{_e(c.author_name or 'Unknown author')}</strong> on {_e(c.channel.name)} ({platform})"
    if c.created_on_platform:
        meta += (f'\n      · <time datetime="{_date(c.created_on_platform, "c")}">'
                 f'{_date(c.created_on_platform, "j M Y, H:i")}</time>')
    meta += f"\n      · {_e(c.get_state_display())}"
    count = getattr(item, "version_count", 1)
    if count > 1:
        meta += f" · {count} versions"
    if c.source == "manual":
        meta += "\n      · entered by staff"
    if c.external_parent_id and c.external_parent_id != c.external_post_id:
        meta += "\n      · a reply"
    out = [
        '    <p class="small text-body-secondary mb-1">', meta, "    </p>",
        f'    <blockquote class="comment-text border-start border-3 ps-3 mb-2 pre-line">{highlighted(c.text, hits)}'
        "</blockquote>",
    ]
    if c.post_id and c.post is not None:
        images = list(c.post.images.all())
        pictured = "; ".join(", ".join(_e(child.full_name) for child in image.children.all()) for image in images)
        out.append(f'    <p class="small mb-1">On our post: “{_e(_truncate(c.post.caption, 120))}”'
                   + (f"\n      <br>Pictured: {pictured}" if images else "") + "\n    </p>")
    elif c.external_post_id:
        out.append(f'    <p class="small mb-1 text-body-secondary">On a post we have no record of publishing '
                   f"({_e(c.external_post_id)}).</p>")
    if c.photo_url:
        url, this = _e(c.photo_url), "this post" if c.kind == CommentKind.VISITOR_POST else "this comment"
        out += [
            '    <figure class="comment-photo mb-2">',
            f'      <a href="{url}" rel="noopener noreferrer" target="_blank"><img src="{url}" alt="The image posted '
            f'with {this} (from {platform})" class="img-thumbnail comment-photo-img" loading="lazy" '
            'referrerpolicy="no-referrer"></a>',
            '      <figcaption class="small text-body-secondary">Image, GIF or sticker: rules cannot read it. '
            f'<a href="{url}" rel="noopener noreferrer" target="_blank">Open the image<span class="visually-hidden"> '
            f"of item {item.pk}</span></a> (on {platform}'s servers; it may expire).</figcaption>",
            "    </figure>",
        ]
    elif not c.text and c.source == "webhook":
        out.append('    <p class="small mb-1 state-warn">No text and no image came with the notification: open it on '
                   "the platform to see it.</p>")
    if c.link:
        what = "post" if c.kind == CommentKind.VISITOR_POST else "comment"
        out.append(f'    <p class="small mb-1"><a href="{_e(c.link)}" rel="noopener noreferrer" target="_blank">'
                   f'Open on {platform}<span class="visually-hidden"> ({what} #{item.pk})</span></a></p>')
    return out


def _truncate(text: str, length: int) -> str:
    """``truncatechars``: at most ``length`` characters, the last an ellipsis when cut."""
    return text if len(text) <= length else text[: length - 1] + "…"


def _concern(item) -> list[str]:
    r = item.concern
    pk = item.pk
    line = (f'    <p class="small text-body-secondary mb-1">Reported by <strong>{_e(_person(r.raised_by))}</strong> '
            f'({_e(r.get_reporter_display())}) · <time datetime="{_date(r.raised_at, "c")}">'
            f'{_date(r.raised_at, "j M Y, H:i")}</time>')
    if r.channel_id:
        line += f" · {_e(r.channel.name)}"
    if r.where_seen:
        line += f" · seen: {_e(r.where_seen)}"
    out = [line + "</p>", f'    <blockquote class="border-start border-3 ps-3 mb-2 pre-line">{_e(r.description)}'
                          "</blockquote>"]
    if r.link:
        out.append(f'    <p class="small mb-1"><a href="{_e(r.link)}" rel="noopener noreferrer" target="_blank">Link '
                   f'given<span class="visually-hidden"> (concern #{pk})</span></a></p>')
    if r.screenshot:
        out.append(f'    <p class="small mb-1"><a href="{_url("moderation:concern_screenshot", r.pk)}">Screenshot'
                   f'<span class="visually-hidden"> (concern #{pk})</span></a></p>')
    return out


def _form(item, ctx: CardContext, name: str, extra_class: str = "") -> str:
    url = _url(name, item.pk)
    return (f'<form method="post" action="{url}" hx-post="{url}" hx-target="#item-{item.pk}" hx-swap="outerHTML"'
            + (f' class="{extra_class}"' if extra_class else "") + ">\n          " + ctx.hidden(item))


def _actions(item, ctx: CardContext) -> list[str]:
    pk, out = item.pk, []
    if item.is_open:
        if item.claimed_by_id:
            out.append(f'    <p class="small mb-2">Claimed by {_e(_person(item.claimed_by))}.</p>')
        if not ctx.can_act:
            return out
        out.append('    <div class="d-flex flex-wrap gap-2 align-items-start">')
        if item.status != "claimed":
            out += [
                "        " + _form(item, ctx, "moderation:claim"),
                f'          <button class="btn btn-primary btn-sm" type="submit">Claim<span class="visually-hidden"> '
                f"item {pk}</span></button>",
                "        </form>",
            ]
        elif item.claimed_by_id == ctx.user_id:
            options = "".join(f'<option value="{_e(value)}">{_e(label)}</option>'
                              for value, label in decision_choices(item))
            out += [
                "        " + _form(item, ctx, "moderation:resolve", "resolve-form flex-grow-1"),
                '          <div class="row g-2">',
                '            <div class="col-12 col-md-4">',
                f'              <label class="form-label small mb-0" for="item-{pk}-action">Decision</label>',
                f'              <select class="form-select form-select-sm" name="action" id="item-{pk}-action" '
                f"required>{options}</select>",
                "            </div>",
                '            <div class="col-12 col-md-8">',
                f'              <label class="form-label small mb-0" for="item-{pk}-reason">Reason (kept in the record)'
                "</label>",
                f'              <textarea class="form-control form-control-sm" name="reason" id="item-{pk}-reason" '
                'rows="2" required maxlength="2000"></textarea>',
                "            </div>",
                "          </div>",
                f'          <button class="btn btn-primary btn-sm mt-2" type="submit">Resolve<span '
                f'class="visually-hidden"> item {pk}</span></button>',
                "        </form>",
                "        " + _form(item, ctx, "moderation:release"),
                f'          <button class="btn btn-outline-dark btn-sm" type="submit">Release<span '
                f'class="visually-hidden"> item {pk}</span></button>',
                "        </form>",
            ]
        out.append("      </div>")
        return out
    if item.reason:
        out.append(f'    <p class="small mb-2"><strong>Reason:</strong> {_e(item.reason)}</p>')
    if ctx.can_act and item.comment_id and item.platform_action_status in ("awaiting", "failed"):
        out += [
            "      " + _form(item, ctx, "moderation:done_by_hand", "row g-2 align-items-end mb-2"),
            '        <div class="col-12 col-md-6">',
            f'          <label class="form-label small mb-0" for="item-{pk}-done-note">How it was done (optional)'
            "</label>",
            f'          <input class="form-control form-control-sm" type="text" name="note" id="item-{pk}-done-note" '
            'maxlength="500">',
            "        </div>",
            '        <div class="col-12 col-md-6"><button class="btn btn-outline-dark btn-sm" type="submit">'
            f"Done by hand on {_e(item.comment.get_platform_display())}"
            f'<span class="visually-hidden"> for item {pk}</span></button></div>',
            "      </form>",
        ]
    return out


def clean_line(item, ctx: CardContext) -> SafeString:
    """One line of the acknowledge lane: who wrote what where, how long it has waited, its box to tick."""
    pk, c = item.pk, item.comment
    box = (f'<input class="form-check-input flex-shrink-0 mt-1" type="checkbox" name="item" value="{pk}" '
           f'id="ack-{pk}" checked>') if ctx.can_act and item.is_open else ""
    done = "" if item.is_open else f" · {_e(item.get_action_display())}"
    return mark_safe(  # noqa: S308 - every value is escaped
        '      <li class="list-group-item">\n        <div class="d-flex gap-2">\n          ' + box + "\n"
        '          <div class="flex-grow-1">\n'
        f'            <label class="small text-body-secondary d-block" for="ack-{pk}"><strong>'
        f"{_e(c.author_name or 'Unknown author')}</strong> on {_e(c.channel.name)} · waiting "
        f"{_e(waited(item.opened_at, ctx.now))} · {_e(time_left(item, ctx.now))}{done}</label>\n"
        f'            <span class="pre-line">{_e(c.text)}</span>\n'
        f'            <a class="small ms-1" href="{_url("moderation:item", pk)}">Details<span class="visually-hidden"> '
        f"of comment #{pk}</span></a>\n          </div>\n        </div>\n      </li>"
    )
