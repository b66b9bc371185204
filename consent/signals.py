from django.dispatch import Signal

# Sent after a withdrawal has committed, with keyword arguments ``decision`` (the ConsentDecision),
# ``child_id``, ``scope`` and ``withdrawn_by`` (the acting user). Also sent with ``decision=None`` when
# removing a guardian or their parental responsibility ended consent.
# Durable: the withdrawal writes an outbox row (``consent.tasks.announce_consent_withdrawn``) in its own
# transaction, run in the same process straight after commit; if that process dies first, a worker runs it.
# So it is sent at least once: receivers must be safe to run twice.
# The posts app listens: it blocks unpublished posts picturing the child and opens takedowns.
consent_withdrawn = Signal()
