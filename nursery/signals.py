from django.dispatch import Signal

# Sent once when a child's leaving date has come (at once when it is marked as today or past, or by the
# hourly check), after the follow-up committed, with ``child_id`` and ``left_on``. Their consent has
# ended: the posts app stops unpublished posts picturing them and opens takedowns on published ones.
child_left = Signal()
