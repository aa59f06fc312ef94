"""Signals accounts sends, so other apps react without accounts importing them."""

from django.dispatch import Signal

# Sent by accounts.services.update_profile once changed profile fields are saved,
# inside its transaction (a receiver's error rolls the change back). Arguments:
# ``user`` and ``fields``, the names of the saved fields. Receivers: routines (its
# stored conflict warnings read the sensitivities and the pregnancy flag).
profile_changed = Signal()
