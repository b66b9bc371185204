from django.urls import path

from moderation import views

app_name = "moderation"

urlpatterns = [
    path("moderation/", views.queue, name="queue"),
    path("moderation/items/<int:pk>/", views.item_detail, name="item"),
    path("moderation/items/<int:pk>/claim/", views.claim, name="claim"),
    path("moderation/items/<int:pk>/release/", views.release, name="release"),
    path("moderation/items/<int:pk>/resolve/", views.resolve, name="resolve"),
    path("moderation/items/<int:pk>/done-by-hand/", views.done_by_hand, name="done_by_hand"),
    path("moderation/acknowledge/", views.acknowledge, name="acknowledge"),
    path("moderation/rules/", views.rules, name="rules"),
    path("moderation/rules/new/", views.rule_edit, name="rule_add"),
    path("moderation/rules/<int:pk>/", views.rule_edit, name="rule_edit"),
    path("moderation/rules/defaults/", views.install_defaults, name="install_defaults"),
    path("moderation/comments/new/", views.comment_new, name="comment_add"),
    path("concerns/new/", views.concern_new, name="concern_add"),
    path("concerns/mine/", views.my_concerns, name="my_concerns"),
    path("concerns/<int:pk>/screenshot/", views.concern_screenshot, name="concern_screenshot"),
    path("webhooks/meta/", views.meta_webhook, name="meta_webhook"),
]
