from django.apps import AppConfig


class PostsConfig(AppConfig):
    name = "posts"
    verbose_name = "Posts"

    def ready(self) -> None:
        from posts import graph_backend, receivers  # noqa: F401 - the Graph publisher; the withdrawal receiver
