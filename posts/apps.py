from django.apps import AppConfig


class PostsConfig(AppConfig):
    name = "posts"
    verbose_name = "Posts"

    def ready(self) -> None:
        from posts import receivers  # noqa: F401 - the withdrawal receiver
        from posts.meta import backend  # noqa: F401 - the Graph publisher
