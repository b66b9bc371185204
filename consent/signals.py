from django.dispatch import Signal

# Sent once per withdrawal, after the withdrawal has committed, with keyword arguments
# ``decision`` (the ConsentDecision), ``child_id``, ``scope`` and ``withdrawn_by`` (the acting user).
# The posts app listens: it blocks unpublished posts picturing the child and opens takedowns.
consent_withdrawn = Signal()
