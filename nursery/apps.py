from django.apps import AppConfig


class NurseryConfig(AppConfig):
    name = "nursery"
    verbose_name = "Nursery"

    def ready(self):
        from nursery.ledger import guard_cascades

        guard_cascades()
