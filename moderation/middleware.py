"""The Meta webhook skips the middleware that serves people: it is anonymous, CSRF-exempt and never renders."""

from django.urls import NoReverseMatch, reverse


class MetaWebhookMiddleware:
    """Answer ``/webhooks/meta/`` straight from its view, before sessions, authentication, CSRF, two-factor,
    messages, history and the current nursery, none of which a signed delivery from Meta uses (it carries no
    cookie, and trust comes from its signature alone). Placed just after ``SecurityMiddleware``, so the HTTPS
    redirect and security headers still apply. At a thousand deliveries a second, the rest of the chain was
    a fifth of each request's work.
    """

    def __init__(self, get_response):
        from moderation.views import meta_webhook

        self.get_response = get_response
        self.view = meta_webhook
        self.path = None

    def __call__(self, request):
        if self.path is None:
            try:  # URLs are loaded by the first request, not at start
                self.path = reverse("moderation:meta_webhook")
            except NoReverseMatch:  # a URL configuration without the webhook: nothing to answer here
                self.path = ""
        if self.path and request.path_info == self.path:
            return self.view(request)
        return self.get_response(request)
