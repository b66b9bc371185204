"""A new nursery starts with the default screening rules, so no comment goes unscreened on day one."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from nursery.models import Nursery


@receiver(post_save, sender=Nursery, dispatch_uid="moderation_default_rules_for_new_nursery")
def give_new_nursery_default_rules(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        from moderation.services import install_default_rules

        install_default_rules(None, nursery=instance)
