from django.apps import AppConfig


class ModerationConfig(AppConfig):
    name = "moderation"
    verbose_name = "Comment moderation"

    def ready(self):
        from moderation import signals  # noqa: F401 - connects the receivers
