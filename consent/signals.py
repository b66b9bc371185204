from django.dispatch import Signal

# Sent once per withdrawal, after the withdrawal has committed, with keyword arguments
# ``decision`` (the ConsentDecision), ``child_id``, ``scope`` and ``withdrawn_by`` (the acting user).
# Also sent with ``decision=None`` when removing a guardian or their parental responsibility ended consent.
# The posts app listens: it blocks unpublished posts picturing the child and opens takedowns.
consent_withdrawn = Signal()
