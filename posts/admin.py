from posts import graph_admin  # noqa: F401 (registers the Graph publishing models)
